//! The gallery page in a real headless browser (Debian's `chromium`): it renders, every
//! image loads, and a screenshot is saved (path printed) for a person to look at.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::path::Path;
use std::process::Command;

use momentarium_tests::TestDb;

fn chromium(args: &[&str], profile: &Path) -> std::process::Output {
    let binary = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
        .unwrap_or_else(|| {
            panic!("This test needs a headless browser: install Debian's `chromium` (./infra/test.sh does).")
        });
    Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_gallery_page_renders_with_every_image_loaded() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    common::outing_folder(folder.path());
    let out = common::run(
        &db.url,
        data.path(),
        &["organize", folder.path().to_str().unwrap()],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = folder.path().join("momentarium.html");
    let url = format!("file://{}", page.display());

    let dom = chromium(&["--dump-dom", &url], &data.path().join("profile-dom"));
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("<h2>Saturday Morning in Dahlem, 10 May 2025</h2>"),
        "the page did not render:\n{dom}"
    );
    let attr = |name: &str| -> usize {
        let start = dom
            .find(&format!("{name}=\""))
            .unwrap_or_else(|| panic!("no {name} in the rendered DOM"))
            + name.len()
            + 2;
        dom[start..].split('"').next().unwrap().parse().unwrap()
    };
    let (total, loaded) = (attr("data-images-total"), attr("data-images-loaded"));
    assert_eq!(total, 8 + 3, "a thumbnail per photo and a cover per album");
    assert_eq!(loaded, total, "every image loads");

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gallery.png");
    let _ = std::fs::remove_file(&shot);
    let done = chromium(
        &[
            "--window-size=1280,1600",
            &format!("--screenshot={}", shot.display()),
            &url,
        ],
        &data.path().join("profile-shot"),
    );
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "a real screenshot"
    );
    println!("screenshot: {}", shot.display());
}
