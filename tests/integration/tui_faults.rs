//! The TUI meeting network faults: a retry shows in the status bar while it happens, a failure
//! fills the token pane and the findings with what happened and what to try, nothing stays
//! busy, a panicking task becomes a finding that names the log, and Ctrl-C mid-request cancels.
//!
//! Effects run as the runtime runs them, but awaited in order: retry notices are read from the
//! progress channel and fed back before the result, the order the runtime receives them in.

#![cfg(feature = "tui")]

use chrono::Utc;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use entra_doctor::tui::action::Action;
use entra_doctor::tui::effect::{Effect, Services, execute};
use entra_doctor::tui::form::{Field, Form};
use entra_doctor::tui::state::{Load, Pane, State};
use entra_doctor::tui::{keys, update, view};
use pretty_assertions::assert_eq;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::assert_frame;
use crate::fault_server::{Fault, FaultServer, INVALID_HOST, closed_port_uri};
use crate::support::{CLIENT_ID, TENANT_ID, token_body, v1_graph_token};

struct Flow {
    state: State,
    services: Services,
    progress: UnboundedReceiver<Action>,
}

impl Flow {
    /// The form filled in for a secret credential against `authority`.
    fn new(authority: &str) -> Self {
        let mut form = Form::default();
        form.set(Field::Tenant, TENANT_ID);
        form.set(Field::ClientId, CLIENT_ID);
        form.set(Field::Authority, authority);
        form.set(Field::Scope, "https://graph.microsoft.com/.default");
        form.secret.0 = tui_input::Input::new("a-secret".into());
        let (tx, progress) = unbounded_channel();
        let mut services = Services::new(None);
        services.progress = Some(tx);
        Self {
            state: State::new(form, Utc::now()),
            services,
            progress,
        }
    }

    fn press(&mut self, code: KeyCode, modifiers: KeyModifiers) -> Vec<Effect> {
        let event = Event::Key(KeyEvent::new(code, modifiers));
        keys::map(&event, &self.state)
            .map(|action| update::update(&mut self.state, action))
            .unwrap_or_default()
    }

    /// Runs the acquire among `effects`; returns the progress it reported and its result.
    async fn acquire(&mut self, effects: Vec<Effect>) -> (Vec<Action>, Action) {
        let acquire = effects
            .into_iter()
            .find(|e| matches!(e, Effect::Acquire { .. }))
            .expect("an acquire effect");
        let result = execute(acquire, &self.services).await.unwrap();
        let mut progress = Vec::new();
        while let Ok(action) = self.progress.try_recv() {
            progress.push(action);
        }
        (progress, result)
    }

    /// Presses `a` and feeds back what the request reported, progress first.
    async fn press_acquire(&mut self) {
        let effects = self.press(KeyCode::Char('a'), KeyModifiers::NONE);
        let (progress, result) = self.acquire(effects).await;
        for action in progress.into_iter().chain([result]) {
            update::update(&mut self.state, action);
        }
    }

    fn frame(&self) -> String {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        terminal
            .draw(|frame| view::render(&self.state, frame))
            .unwrap();
        terminal.backend().to_string()
    }

    fn failed_finding(&self) -> &str {
        let Load::Failed(finding) = &self.state.token else {
            panic!("the token pane did not fail: {:?}", self.state.status);
        };
        &finding.id
    }

    /// Not busy, and a new request starts at once.
    fn assert_usable(&mut self) {
        assert!(self.state.running.is_none(), "still busy");
        self.press(KeyCode::Tab, KeyModifiers::NONE);
        let effects = self.press(KeyCode::Char('a'), KeyModifiers::NONE);
        assert!(self.state.running.is_some());
        assert!(matches!(effects.as_slice(), [Effect::Acquire { .. }]));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_503_is_retried_with_a_note_in_the_status_bar_then_the_token_arrives() {
    let server = crate::support::fails_once_then_issues(
        ResponseTemplate::new(503).insert_header("retry-after", "0"),
        "tui",
    )
    .await;
    let mut flow = Flow::new(&server.uri());
    let effects = flow.press(KeyCode::Char('a'), KeyModifiers::NONE);
    let (progress, result) = flow.acquire(effects).await;
    assert_eq!(progress.len(), 1);
    for action in progress {
        update::update(&mut flow.state, action);
    }
    assert_eq!(
        flow.state.running.as_ref().unwrap().note.as_deref(),
        Some("Entra ID: HTTP 503; retrying (1/2) in 0 s")
    );
    let retrying = flow.frame();
    assert_frame!("token_retrying_after_503_80x24", retrying.clone());
    update::update(&mut flow.state, result);
    assert!(
        matches!(flow.state.token, Load::Ready(_)),
        "{}",
        flow.state.status
    );
    assert!(flow.state.running.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_fails_the_request_and_the_tui_stays_usable() {
    let mut flow = Flow::new(&closed_port_uri());
    flow.press_acquire().await;
    assert_eq!(flow.failed_finding(), "network.unreachable");
    assert_eq!(flow.state.focus, Pane::Findings);
    assert_frame!("token_failed_connection_refused_80x24", flow.frame());
    flow.assert_usable();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_host_is_a_dns_finding() {
    let mut flow = Flow::new(INVALID_HOST);
    flow.press_acquire().await;
    assert_eq!(flow.failed_finding(), "network.dns");
    assert_frame!("token_failed_dns_80x24", flow.frame());
    flow.assert_usable();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_retry_after_is_not_waited_for_and_is_named() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "120"))
        .mount(&server)
        .await;
    let mut flow = Flow::new(&server.uri());
    flow.press_acquire().await;
    assert_eq!(flow.failed_finding(), "throttled");
    let finding = flow
        .state
        .findings
        .iter()
        .find(|f| f.id == "throttled")
        .unwrap();
    assert!(
        finding.evidence.iter().any(|e| e.contains("120")),
        "{finding:?}"
    );
    // More than the 60 s a retry may wait: one request, no retry.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    flow.assert_usable();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_html_page_for_a_token_is_named() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<!DOCTYPE html><html><head><title>Sign in to the proxy</title></head></html>",
            "text/html",
        ))
        .mount(&server)
        .await;
    let mut flow = Flow::new(&server.uri());
    flow.press_acquire().await;
    assert_eq!(flow.failed_finding(), "network.unexpected-response");
    assert_frame!("token_failed_html_page_80x24", flow.frame());
    flow.assert_usable();
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_faults_fail_the_probe_pane_or_are_explained() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(token_body(&v1_graph_token("tui"), 3599)),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/throttled"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "30"))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/moved"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", "https://login.example/sign-in"),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502).set_body_raw(
            "<html><head><title>502 Bad Gateway</title></head></html>",
            "text/html",
        ))
        .with_priority(2)
        .mount(&server)
        .await;
    let reset = FaultServer::start(Fault::ResetMidBody);
    let mut flow = Flow::new(&server.uri());
    flow.press_acquire().await;
    assert!(
        matches!(flow.state.token, Load::Ready(_)),
        "{}",
        flow.state.status
    );

    for (url, expected) in [
        (reset.uri(), "network.interrupted"),
        (format!("{INVALID_HOST}/v1.0/users"), "network.dns"),
        (format!("{}/throttled", server.uri()), "throttled"),
        (format!("{}/moved", server.uri()), "api.redirect"),
        (format!("{}/v1.0/users", server.uri()), "api.server-error"),
    ] {
        flow.state.form.set(Field::ProbeUrl, &url);
        let effects = flow.press(KeyCode::Char('p'), KeyModifiers::NONE);
        let [probe @ Effect::Probe { .. }] = <[Effect; 1]>::try_from(effects).unwrap() else {
            panic!("expected one probe effect");
        };
        let result = execute(probe, &flow.services).await.unwrap();
        update::update(&mut flow.state, result);
        assert!(flow.state.running.is_none());
        let ids: Vec<&str> = flow.state.findings.iter().map(|f| f.id.as_str()).collect();
        assert!(ids.contains(&expected), "{ids:?}");
    }
    assert!(
        !flow
            .state
            .findings
            .iter()
            .any(|f| f.id == "network.interrupted"),
        "the first probe's failure gave way to the second's answer"
    );
    assert!(matches!(&flow.state.probe, Load::Ready(report) if report.status == 502));
    flow.assert_usable();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_task_becomes_a_finding_that_names_the_log() {
    let mut flow = Flow::new(&closed_port_uri());
    flow.press(KeyCode::Char('a'), KeyModifiers::NONE);
    let id = flow.state.running.as_ref().unwrap().id;
    update::update(
        &mut flow.state,
        Action::TaskPanicked {
            id,
            message: "index out of bounds".into(),
            log_note: entra_doctor::tui::crash::log_note(Some(std::path::Path::new(
                "/home/op/.cache/entra-doctor/entra-doctor.log",
            ))),
        },
    );
    assert_eq!(flow.failed_finding(), "internal.bug");
    assert_eq!(
        flow.state.status,
        "Internal error in acquire: see Findings."
    );
    assert_frame!("task_panicked_80x24", flow.frame());
    flow.assert_usable();
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_mid_request_cancels_it_and_quits() {
    let mut flow = Flow::new(&closed_port_uri());
    flow.press(KeyCode::Char('a'), KeyModifiers::NONE);
    let id = flow.state.running.as_ref().unwrap().id;
    let effects = flow.press(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(flow.state.should_quit);
    assert!(
        matches!(effects.as_slice(), [Effect::Cancel(cancelled)] if *cancelled == id),
        "{effects:?}"
    );

    // Even while a field is being edited.
    let mut flow = Flow::new(&closed_port_uri());
    flow.press(KeyCode::Char('a'), KeyModifiers::NONE);
    flow.state.editing = true;
    let effects = flow.press(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(flow.state.should_quit);
    assert!(matches!(effects.as_slice(), [Effect::Cancel(_)]));
}

/// The TUI meets a token endpoint that quotes the secret and sends escape codes: no pane shows
/// the secret, and no hidden character reaches the screen.
#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_echo_shows_neither_the_secret_nor_escape_codes_on_any_pane() {
    use crate::hostile_echo::{Dialect, echo_server};
    use crate::support::CANARY_SECRET;
    for dialect in [Dialect::Json, Dialect::Text, Dialect::Html] {
        let server = echo_server(dialect).await;
        let mut flow = Flow::new(&server.uri());
        flow.state.form.secret.0 = tui_input::Input::new(CANARY_SECRET.into());
        flow.press_acquire().await;
        let received = server.received_requests().await.unwrap();
        assert!(String::from_utf8_lossy(&received[0].body).contains(CANARY_SECRET));
        for pane in ['1', '2', '3', '4', '5'] {
            flow.press(KeyCode::Char(pane), KeyModifiers::NONE);
            let frame = flow.frame();
            assert!(!frame.contains(CANARY_SECRET), "pane {pane}:\n{frame}");
            assert!(!frame.contains("CANARY"), "pane {pane}:\n{frame}");
            assert!(
                !frame
                    .chars()
                    .any(|c| entra_doctor::scrub::is_hidden(c) && c != '\n'),
                "pane {pane}: {frame:?}"
            );
            assert!(
                !flow.state.status.contains(CANARY_SECRET),
                "{}",
                flow.state.status
            );
        }
    }
}
