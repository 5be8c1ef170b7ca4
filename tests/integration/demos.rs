//! Every scripted demo replayed headlessly against the demo tenant, each captioned frame
//! snapshotted; and the SVG exporter's output parsed as XML and checked for the frame's text.

#![cfg(feature = "tui")]

use entra_doctor::demo::{self, DemoOptions, TenantModel};
use entra_doctor::tui::Launch;
use entra_doctor::tui::demos::{self, replay};

async fn launch(scenario: &str) -> Launch {
    let running = demo::start(DemoOptions::new(TenantModel::builtin().unwrap()))
        .await
        .unwrap();
    Launch::demo(running, Some(scenario))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_demo_replays_and_its_frames_hold() {
    let scripts = demos::all().unwrap();
    assert_eq!(scripts.len(), 12);
    for script in scripts {
        let name = script.name.clone();
        replay(
            launch(&script.scenario).await,
            &script,
            |index, step, driver| {
                let buffer = driver.render(120, 40)?;
                let text: String = (0..buffer.area.height)
                    .map(|y| {
                        (0..buffer.area.width)
                            .map(|x| buffer[(x, y)].symbol())
                            .collect::<String>()
                            + "\n"
                    })
                    .collect();
                assert!(
                    text.contains(&step.caption[..40.min(step.caption.len())]),
                    "{name} step {index}: caption shown"
                );
                crate::assert_frame!(format!("demo_{name}_{}", index + 1), text);
                Ok(())
            },
        )
        .await
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exported_svg_is_valid_and_carries_the_frame_text() {
    let script = demos::find("trailing-slash").unwrap();
    let mut svgs = Vec::new();
    replay(launch(&script.scenario).await, &script, |_, _, driver| {
        svgs.push(entra_doctor::tui::svg::to_svg(&driver.render(120, 40)?));
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(svgs.len(), 3);
    for svg in &svgs {
        let document = roxmltree::Document::parse(svg).expect("well-formed XML");
        assert_eq!(document.root_element().tag_name().name(), "svg");
        let text: String = document
            .descendants()
            .filter(roxmltree::Node::is_text)
            .filter_map(|n| n.text().map(str::to_owned))
            .collect();
        assert!(
            text.contains("entra-doctor"),
            "the header is in the picture"
        );
    }
    assert!(
        svgs[0].contains("Trailing slash"),
        "the finding's title is drawn"
    );
    assert!(svgs[0].contains("#f14c4c"), "errors keep their red");
    assert!(
        demos::find("nope")
            .unwrap_err()
            .contains("the demos are: healthy")
    );
}
