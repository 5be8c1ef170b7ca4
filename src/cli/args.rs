//! The command line as typed: clap's derive structs, nothing validated yet (that is
//! [`super::config`]'s job, as ripgrep splits low and high args).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "entra-doctor",
    version,
    about = "Why can't this Entra ID daemon app get a token or call its API? Acquire, decode, cache \
             and explain app-only tokens.",
    after_help = "Exit codes: 0 ok, 1 the identity provider or API said no, 2 bad usage or input, \
                  3 network or server failure."
)]
pub struct Cli {
    /// Without a command, the terminal UI opens.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text, global = true)]
    pub output: OutputFormat,

    /// Log what happens (-v debug, -vv trace) to standard error, or to --log-file. Secrets and
    /// tokens are never logged. RUST_LOG overrides the level.
    #[arg(long, short = 'v', action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Write logs to this file instead of standard error.
    #[arg(long, value_name = "PATH", global = true)]
    pub log_file: Option<PathBuf>,

    /// Also trust the CA certificate(s) in this PEM file, e.g. the root CA of a TLS-inspecting
    /// proxy [default: SSL_CERT_FILE, which also replaces the platform's roots, as in OpenSSL].
    #[arg(long, value_name = "PATH", global = true)]
    pub ca_file: Option<PathBuf>,
}

impl Cli {
    /// True when this command line opens the terminal UI.
    pub fn opens_tui(&self) -> bool {
        match &self.command {
            None | Some(Command::Ui) => true,
            Some(Command::Demo(args)) if args.walkthrough => walkthrough_opens_tui(self.output),
            Some(Command::Demo(args)) => {
                !args.serve && !args.list_scenarios && self.output == OutputFormat::Text
            }
            Some(Command::Walkthrough(_)) => walkthrough_opens_tui(self.output),
            Some(_) => false,
        }
    }

    /// True when this command runs one request (or none) at a time, so a runtime on the main
    /// thread serves it: starting a worker per core would be most of a `decode`'s work.
    pub fn is_sequential(&self) -> bool {
        matches!(
            &self.command,
            Some(Command::Decode(_) | Command::Token(_) | Command::Explain(_) | Command::Cache(_))
        )
    }

    /// True when this command reaches no server and sets no timer (`decode` without
    /// `--verify`): its runtime needs no I/O or time driver, whose set-up would cost it more
    /// than decoding the token.
    pub fn is_offline(&self) -> bool {
        matches!(&self.command, Some(Command::Decode(args)) if !args.verify)
    }
}

/// The walkthrough opens the TUI on an interactive terminal with text output; it prints its
/// steps otherwise (a pipe, CI, `--output json`, a build without the TUI).
pub fn walkthrough_opens_tui(format: OutputFormat) -> bool {
    use std::io::IsTerminal as _;
    cfg!(feature = "tui")
        && format == OutputFormat::Text
        && std::io::stdout().is_terminal()
        && std::io::stdin().is_terminal()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// Each command's arguments are built only when that command runs (clap's `defer`): a `decode`
/// does not build the dozens of options of `doctor` and `token` it never reads. An `Args`
/// struct must then carry no doc comment: clap would apply it, when it builds the command, over
/// the command's own description (a test below guards this).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Acquire an app-only token with the client credentials flow and show it decoded.
    Token(Box<TokenArgs>),
    /// Decode a JWT access token: header, claims, times. Reads standard input with '-'.
    Decode(DecodeArgs),
    /// Show or clear the persisted token cache.
    Cache(CacheArgs),
    /// Call an API with a token (given, or acquired with the credential options) and explain
    /// its answer.
    Probe(Box<ProbeArgs>),
    /// Explain an error: a token-endpoint or API error body, a WWW-Authenticate header, a raw
    /// HTTP response, a JWT, or a code such as AADSTS70011.
    Explain(ExplainArgs),
    /// Preflight, token, decode, probe and findings in one report; exit 0 only when all is well.
    Doctor(Box<DoctorArgs>),
    /// Audit admin consent through Microsoft Graph: each permission requested as application or
    /// delegated, consented (and when), and present in the current token.
    Consent(Box<ConsentArgs>),
    /// Workload identity federation: the external token of --assertion-file (or
    /// AZURE_FEDERATED_TOKEN_FILE) decoded and checked, and compared through Microsoft Graph with
    /// the federated credentials the app registration trusts.
    Federation(Box<FederationArgs>),
    /// Service-principal sign-in log entries (Graph beta auditLogs/signIns) by correlation id or
    /// app: status, AADSTS code, resource, IP, credential used, Conditional Access results.
    Signins(Box<SigninsArgs>),
    /// The onboarding walkthrough: tenant → app → credential → scope → token → role → API, each
    /// checked live with the fix for what fails. Opens the terminal UI's walkthrough tab; with
    /// --output json (or no terminal) prints every step.
    Walkthrough(Box<WalkthroughArgs>),
    /// Tenant-wide app health through Microsoft Graph: every app registration's secrets and
    /// certificates against their end dates, unused credentials, apps with no owner, highly
    /// privileged Graph permissions, delegated permissions on app-only apps, multi-tenant apps
    /// with no service principal; each with its az fix. Exit 1 when a credential expired or
    /// expires within --warn-days.
    Audit(Box<AuditArgs>),
    /// The terminal UI (the default without a command).
    #[command(hide = true)]
    Ui,
    /// The embedded demo tenant: a local Entra ID with one app per lesson; opens the terminal
    /// UI on it (with --serve it only serves).
    Demo(super::demo::DemoArgs),
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub credential: CredentialArgs,

    /// Print only the raw access token, for piping into other tools.
    #[arg(long)]
    pub raw: bool,

    /// Skip the cache and replace its entry with a fresh token.
    #[arg(long)]
    pub force_refresh: bool,

    /// Send a claims challenge (JSON, or the base64 `claims=` of a WWW-Authenticate header) with
    /// the request, as a daemon must after `error="insufficient_claims"`; skips the cache.
    #[arg(long, value_name = "JSON")]
    pub claims: Option<String>,

    #[command(flatten)]
    pub cache: CacheLocation,
}

#[derive(Debug, Args)]
pub struct CacheLocation {
    /// Keep tokens in a cache file between runs (sealed with your credential, mode 0600).
    #[arg(long)]
    pub persist_cache: bool,

    /// The cache file [default: the user cache directory, e.g. ~/.cache/entra-doctor/tokens.json]
    /// [env: ENTRA_DOCTOR_CACHE_FILE].
    // hide_env: clap would print the variable's value (`[env: ENTRA_DOCTOR_CACHE_FILE=]` when
    // unset); the doc text names it the way the credential options name theirs.
    #[arg(
        long,
        value_name = "PATH",
        env = "ENTRA_DOCTOR_CACHE_FILE",
        hide_env = true
    )]
    pub cache_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
#[allow(clippy::struct_excessive_bools)] // each flag is an independent switch of the CLI
pub struct CredentialArgs {
    /// Directory (tenant) id or verified domain [env: AZURE_TENANT_ID].
    #[arg(long, value_name = "TENANT", env = "AZURE_TENANT_ID", hide_env = true)]
    pub tenant: Option<String>,

    /// Application (client) id [env: AZURE_CLIENT_ID].
    #[arg(long, value_name = "GUID", env = "AZURE_CLIENT_ID", hide_env = true)]
    pub client_id: Option<String>,

    /// Scope to request, `<resource>/.default` (repeatable; all must name one resource).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,

    /// National cloud whose login host to use.
    #[arg(long, value_enum, conflicts_with = "authority_host")]
    pub cloud: Option<CloudArg>,

    /// Authority host, e.g. https://login.microsoftonline.com [env: AZURE_AUTHORITY_HOST].
    #[arg(long, value_name = "URL")]
    pub authority_host: Option<String>,

    /// Token endpoint URL to use instead of {host}/{tenant}/oauth2/v2.0/token.
    #[arg(long, value_name = "URL")]
    pub token_endpoint: Option<String>,

    /// Read the client secret from standard input (otherwise from AZURE_CLIENT_SECRET).
    #[arg(long)]
    pub secret_stdin: bool,

    /// Certificate: PEM with its key, PEM with --private-key, or PFX/PKCS#12
    /// [env: AZURE_CLIENT_CERTIFICATE_PATH].
    #[arg(long, value_name = "PATH")]
    pub certificate: Option<PathBuf>,

    /// The private key (PEM) when it is not in the certificate file.
    #[arg(long, value_name = "PATH", requires = "certificate")]
    pub private_key: Option<PathBuf>,

    /// Environment variable holding the PFX password.
    #[arg(
        long,
        value_name = "VAR",
        default_value = crate::setup::PFX_PASSWORD_VAR
    )]
    pub certificate_password_env: String,

    /// Federated credential: a file holding a JWT from another identity provider
    /// [env: AZURE_FEDERATED_TOKEN_FILE].
    #[arg(long, value_name = "PATH")]
    pub assertion_file: Option<PathBuf>,

    /// Signature algorithm of the client assertion made from a certificate.
    #[arg(long, value_enum, default_value_t = AlgArg::Rs256)]
    pub assertion_alg: AlgArg,

    /// Send the certificate chain (x5c) in the assertion, for subject name + issuer auth.
    #[arg(long)]
    pub send_x5c: bool,

    /// Seconds to wait for each connection to open (per connection, each retry its own).
    #[arg(long, value_name = "SECONDS", default_value_t = crate::setup::DEFAULT_CONNECT_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub connect_timeout: u64,

    /// Seconds the command's whole network work may take, retries included: one deadline for
    /// every request (token, keys, probe, consent audit); no retry starts or waits past it
    /// (doctor --fleet: one per app).
    #[arg(long, value_name = "SECONDS", default_value_t = crate::setup::DEFAULT_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// The global --ca-file, copied here by [`super::run`] so everything that builds a client
    /// from these arguments sees it.
    #[arg(skip)]
    pub ca_file: Option<PathBuf>,

    #[command(flatten)]
    pub managed: ManagedIdentityArgs,
}

// `--managed-identity`: a token from the managed identity of the Azure resource this runs on,
// instead of an app credential; part of `CredentialArgs`.
// (A plain comment: with deferred arguments a doc comment here would replace the command's
// description in --help; see `Command`.)
#[derive(Debug, Clone, Default, Args)]
pub struct ManagedIdentityArgs {
    /// Use the managed identity of the Azure resource this runs on (VM / scale set through
    /// IMDS, App Service / Functions through IDENTITY_ENDPOINT, Azure Arc): `system`, or a
    /// user-assigned one as `client-id=GUID`, `object-id=GUID` or `resource-id=/subscriptions/…`.
    /// Needs no tenant, client id or secret; --scope names the resource.
    #[arg(
        long,
        value_name = "system|client-id=GUID|object-id=GUID|resource-id=ID",
        value_parser = parse_managed_identity,
        conflicts_with_all = ["secret_stdin", "certificate", "assertion_file"]
    )]
    pub managed_identity: Option<crate::auth::IdentitySelector>,
}

fn parse_managed_identity(text: &str) -> Result<crate::auth::IdentitySelector, String> {
    text.parse().map_err(|e: crate::Error| e.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudArg {
    Public,
    Usgov,
    China,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgArg {
    #[value(name = "RS256", alias = "rs256")]
    Rs256,
    #[value(name = "PS256", alias = "ps256")]
    Ps256,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// '-' (the default) to read the token from standard input, '@FILE' to read it from a file,
    /// or the token itself.
    #[arg(value_name = "TOKEN|-|@FILE", default_value = "-")]
    pub token: String,

    /// Check the signature against the tenant's published keys (OIDC metadata + JWKS), and the
    /// issuer and time claims; also explains the token's version.
    #[arg(long)]
    pub verify: bool,

    /// The tenant the token should come from [default: the token's tid].
    #[arg(long, value_name = "TENANT", requires = "verify")]
    pub tenant: Option<String>,

    /// National cloud whose keys to fetch [default: from the token's iss].
    #[arg(
        long,
        value_enum,
        conflicts_with = "authority_host",
        requires = "verify"
    )]
    pub cloud: Option<CloudArg>,

    /// Authority host to fetch the keys from [default: from the token's iss].
    #[arg(long, value_name = "URL", requires = "verify")]
    pub authority_host: Option<String>,

    /// Client id of an app with custom signing keys (fetches the metadata with ?appid=).
    #[arg(long, value_name = "GUID", requires = "verify")]
    pub appid: Option<String>,

    /// The global --ca-file, copied here by [`super::run`].
    #[arg(skip)]
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub action: CacheAction,

    /// The cache file [default: the user cache directory] [env: ENTRA_DOCTOR_CACHE_FILE].
    #[arg(
        long,
        value_name = "PATH",
        env = "ENTRA_DOCTOR_CACHE_FILE",
        hide_env = true,
        global = true
    )]
    pub cache_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum CacheAction {
    /// List cached tokens (never the tokens themselves).
    List,
    /// Remove every cached token.
    Clear,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The API URL to call.
    #[arg(long, value_name = "URL")]
    pub url: String,

    /// HTTP method.
    #[arg(long, value_name = "METHOD", default_value = "GET")]
    pub method: String,

    /// Extra request header, `Name: value` (repeatable).
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub headers: Vec<String>,

    /// Send this file as the request body.
    #[arg(long, value_name = "FILE")]
    pub body: Option<PathBuf>,

    /// The token to send: '-' reads it from standard input, '@FILE' from a file (a plain token
    /// is visible in ps and shell history); without it one is acquired with the credential
    /// options (and --scope defaults to the API's well-known scope).
    #[arg(long, value_name = "-|@FILE")]
    pub token: Option<String>,

    /// Check the token against the API without calling it.
    #[arg(long)]
    pub no_send: bool,

    #[command(flatten)]
    pub credential: CredentialArgs,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A file, '-' for standard input (the default), or the text itself (e.g. AADSTS70011).
    #[arg(value_name = "FILE|-|CODE", default_value = "-")]
    pub input: String,

    /// The scope that was requested.
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<String>,

    /// The API URL that was called.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// The token that was sent (for its roles and audience): '-' reads it from standard input
    /// (then give the error as FILE or CODE), '@FILE' from a file.
    #[arg(long, value_name = "-|@FILE")]
    pub token: Option<String>,

    /// Your tenant, to put in the fixes [env: AZURE_TENANT_ID].
    #[arg(long, value_name = "TENANT", env = "AZURE_TENANT_ID", hide_env = true)]
    pub tenant: Option<String>,

    /// Your client id, to put in the fixes [env: AZURE_CLIENT_ID].
    #[arg(long, value_name = "GUID", env = "AZURE_CLIENT_ID", hide_env = true)]
    pub client_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub credential: CredentialArgs,

    /// The API URL to probe [default: the well-known resource's harmless probe].
    #[arg(long, value_name = "URL")]
    pub probe: Option<String>,

    /// How to read Microsoft Graph (the consent audit, and the expiry of the credential in use).
    #[command(flatten)]
    pub graph: GraphReadArgs,

    /// Also write the report as Markdown to this file (no secret, no raw token).
    #[arg(long, value_name = "FILE.md", conflicts_with = "fleet")]
    pub report: Option<PathBuf>,

    /// Check every app listed in this TOML, JSON or JSON-lines (.jsonl) file, concurrently:
    /// tenant, client_id, a credential reference (secret_env = "VAR" or certificate = "PATH",
    /// never the secret itself), scopes, probe. Prints one JSON line per app as it finishes
    /// with -o json (its "index" is its place in the file), else a table at the end.
    #[arg(long, value_name = "FILE", conflicts_with = "probe")]
    pub fleet: Option<PathBuf>,

    /// How many apps of --fleet are checked at once.
    #[arg(long, value_name = "N", default_value_t = 16, requires = "fleet",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
}

#[derive(Debug, Args)]
pub struct WalkthroughArgs {
    #[command(flatten)]
    pub credential: CredentialArgs,

    /// How step 3 reads the app registration, for the credential in use's expiry.
    #[command(flatten)]
    pub graph: GraphReadArgs,

    /// The API URL the last step calls [default: the well-known resource's harmless call].
    #[arg(long, value_name = "URL")]
    pub probe: Option<String>,
}

#[derive(Debug, Args)]
pub struct ConsentArgs {
    /// The daemon's credential; --scope names the resource to audit [default: Microsoft Graph].
    #[command(flatten)]
    pub credential: CredentialArgs,

    /// How to read Microsoft Graph.
    #[command(flatten)]
    pub graph: GraphReadArgs,

    /// The token the daemon holds (e.g. from its cache), '-' for standard input or '@FILE': its
    /// roles and issue time are compared with the consents; without it a fresh token is
    /// acquired.
    #[arg(long, value_name = "-|@FILE")]
    pub token: Option<String>,
}

// Where Microsoft Graph is, and the app that reads it when the daemon itself may not
// (`consent`, `federation`, `doctor`, `walkthrough`, `signins` and `audit`).
// (A plain comment: with deferred arguments a doc comment here would replace the command's
// description in --help; see `Command`.)
#[derive(Debug, Clone, Args)]
pub struct GraphReadArgs {
    /// Microsoft Graph base URL [default: the authority's cloud's Graph, e.g.
    /// https://graph.microsoft.com; the demo tenant's {authority}/graph].
    #[arg(long, value_name = "URL")]
    pub graph_url: Option<String>,

    /// Read Graph as this app (it needs Application.Read.All) instead of the daemon: a daemon
    /// whose sign-in fails, or that lacks the permission, cannot read its own registration.
    #[arg(long, value_name = "GUID")]
    pub admin_client_id: Option<String>,

    /// The --admin-client-id app's certificate (PEM with its key, or PFX with the password in
    /// --certificate-password-env) instead of a secret.
    #[arg(long, value_name = "PATH", requires = "admin_client_id")]
    pub admin_certificate: Option<std::path::PathBuf>,

    /// Environment variable holding the --admin-client-id app's client secret.
    #[arg(long, value_name = "VAR", default_value = "ENTRA_DOCTOR_ADMIN_SECRET")]
    pub admin_secret_env: String,
}

#[derive(Debug, Args)]
pub struct SigninsArgs {
    /// The tenant (and, without --admin-client-id, the app that reads the log: it needs
    /// AuditLog.Read.All).
    #[command(flatten)]
    pub credential: CredentialArgs,

    /// How to read Microsoft Graph.
    #[command(flatten)]
    pub graph: GraphReadArgs,

    /// The correlation id of the token request (Entra ID prints it after "Correlation ID:").
    #[arg(long, value_name = "GUID", required_unless_present = "app")]
    pub correlation_id: Option<String>,

    /// Only sign-ins of this client id (appId).
    #[arg(long, value_name = "CLIENT_ID")]
    pub app: Option<String>,

    /// Only sign-ins since then: 30m, 2h, 7d, an RFC 3339 time or YYYY-MM-DD.
    #[arg(long, value_name = "2h|DATE")]
    pub since: Option<String>,

    /// At most this many entries (newest first).
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::signins::MAX_TOP)))]
    pub top: u32,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The reading app's credential (it needs Application.Read.All, and AuditLog.Read.All for
    /// the unused-credential checks). --timeout bounds each Graph request, not the whole run.
    #[command(flatten)]
    pub credential: CredentialArgs,

    /// How to read Microsoft Graph.
    #[command(flatten)]
    pub graph: GraphReadArgs,

    /// Days before its end date from which a credential is reported as expiring (exit 1).
    #[arg(long, value_name = "DAYS", default_value_t = crate::registration::DEFAULT_WARN_DAYS, value_parser = clap::value_parser!(u32).range(0..=3650))]
    pub warn_days: u32,

    /// Days without a sign-in after which a credential is reported unused (where sign-in
    /// activity is readable).
    #[arg(long, value_name = "DAYS", default_value_t = crate::audit::DEFAULT_UNUSED_DAYS, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub unused_days: u32,

    /// Also write a Markdown report to this file (mode 0600, replaced atomically; a symbolic
    /// link there is refused).
    #[arg(long, value_name = "FILE.md")]
    pub report: Option<PathBuf>,

    /// Items per Graph page ($top, 1 to 999).
    #[arg(long, value_name = "N", default_value_t = crate::audit::PAGE_SIZE, value_parser = clap::value_parser!(u32).range(1..=999), hide = true)]
    pub page_size: u32,
}

#[derive(Debug, Args)]
pub struct FederationArgs {
    /// The daemon's tenant and client id; the token comes from --assertion-file or
    /// AZURE_FEDERATED_TOKEN_FILE.
    #[command(flatten)]
    pub credential: CredentialArgs,

    /// How to read Microsoft Graph (the app's federated credentials).
    #[command(flatten)]
    pub graph: GraphReadArgs,

    /// Only decode and check the token: do not read the app's credentials from Graph.
    #[arg(long)]
    pub no_graph: bool,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// The flag as it will sit beside the credential options.
    #[derive(Debug, Parser)]
    struct WithManagedIdentity {
        #[command(flatten)]
        credential: CredentialArgs,
    }

    #[test]
    fn managed_identity_flag_reads_its_syntax_and_excludes_other_credentials() {
        let parse = |args: &[&str]| {
            WithManagedIdentity::try_parse_from(
                std::iter::once("entra-doctor").chain(args.iter().copied()),
            )
        };
        let parsed = parse(&["--managed-identity", "system"]).unwrap();
        assert_eq!(
            parsed.credential.managed.managed_identity,
            Some(crate::auth::IdentitySelector::SystemAssigned)
        );
        let parsed = parse(&[
            "--managed-identity",
            "client-id=748967b5-5273-4e73-a3fa-1ee44af271de",
        ])
        .unwrap();
        assert!(matches!(
            parsed.credential.managed.managed_identity,
            Some(crate::auth::IdentitySelector::ClientId(_))
        ));
        let bad =
            parse(&["--managed-identity", "748967b5-5273-4e73-a3fa-1ee44af271de"]).unwrap_err();
        assert!(bad.to_string().contains("client-id=GUID"), "{bad}");
        assert!(parse(&["--managed-identity", "system", "--certificate", "c.pem"]).is_err());
        assert!(parse(&["--managed-identity", "system", "--secret-stdin"]).is_err());
    }

    #[test]
    fn deferred_arguments_keep_each_command_s_own_description() {
        use clap::CommandFactory as _;
        let eager = Cli::command();
        let mut built = Cli::command();
        built.build();
        let about = |command: &clap::Command| {
            (
                command.get_about().map(ToString::to_string),
                command.get_long_about().map(ToString::to_string),
            )
        };
        for command in eager.get_subcommands() {
            let name = command.get_name();
            assert!(command.get_about().is_some(), "{name} has no description");
            let after = built.find_subcommand(name).expect("the same commands");
            assert_eq!(about(command), about(after), "{name}");
        }
    }
}
