//! The web app as a person uses it: `momentarium serve` as a separate process (the first
//! README command's server) and Debian's Chromium driven by Playwright
//! (`tests/web/e2e.py`): sign in, choose 12 photos, progress to 100 %, the live status to
//! done, the gallery, the viewer by keyboard, a reload; then an album title that is HTML
//! shown as text. Screenshots at 390 and 1440 px wide are kept in
//! `target/web-artifacts/`.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use momentarium_tests::TestDb;
use momentarium_tests::photos::{self, Exif};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web/e2e.py")
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/web-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs one phase of the browser script; its stdout when it passes.
fn browser(args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg(script())
        .args(args)
        .output()
        .expect("python3 is needed for this test");
    assert!(
        out.status.success(),
        "the browser test failed (Playwright from PyPI and Debian's chromium are needed; \
         ./infra/test.sh installs both):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_signs_in_uploads_watches_the_job_and_browses_the_gallery() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let (_server, base, _) = common::serve(&db.url, data.path(), &[]).await;

    // Twelve photos from two outings, large enough to have real renditions.
    let folder = tempfile::tempdir().unwrap();
    for i in 0..12u8 {
        let taken = [
            "2025:05:10 09:40:00",
            "2025:05:10 09:52:00",
            "2025:08:02 18:05:00",
            "2025:08:02 18:20:00",
        ][usize::from(i % 4)];
        let exif = Exif {
            taken: Some(taken),
            offset: Some("+02:00"),
            gps: Some(if i % 4 < 2 {
                (52.4559, 13.3063)
            } else {
                (54.9079, 8.3089)
            }),
            ..Exif::default()
        };
        let bytes = photos::jpeg(800, 600, [20 * i, 120, 200 - 10 * i], &exif);
        std::fs::write(folder.path().join(format!("IMG_{i:02}.jpg")), bytes).unwrap();
    }
    std::fs::write(folder.path().join("notes.txt"), "not a photo").unwrap();
    let out = artifacts();
    let profile = tempfile::tempdir().unwrap();
    let (folder_arg, out_arg, profile_arg) = (
        folder.path().to_str().unwrap().to_string(),
        out.to_str().unwrap().to_string(),
        profile.path().to_str().unwrap().to_string(),
    );
    let flow_base = base.clone();
    let printed = tokio::task::spawn_blocking(move || {
        browser(&["flow", &flow_base, &folder_arg, &out_arg, &profile_arg])
    })
    .await
    .unwrap();
    let gallery_id: uuid::Uuid = printed.trim().lines().last().unwrap().parse().unwrap();
    for shot in [
        "home-1440.png",
        "gallery-1440.png",
        "viewer-1440.png",
        "gallery-390.png",
        "home-390.png",
    ] {
        assert!(
            std::fs::metadata(out.join(shot)).unwrap().len() > 1_000,
            "{shot}"
        );
    }

    // What a model might write: an album title that is HTML.
    let payload = "<img src=x onerror=alert(1)>";
    let client = db.client().await;
    let changed = client
        .execute(
            "UPDATE albums SET title = $2 WHERE id = \
             (SELECT id FROM albums WHERE gallery_id = $1 ORDER BY position LIMIT 1)",
            &[&gallery_id, &payload],
        )
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let (gallery, out_arg, profile_arg) = (
        gallery_id.to_string(),
        out.to_str().unwrap().to_string(),
        profile.path().to_str().unwrap().to_string(),
    );
    let text_base = base.clone();
    tokio::task::spawn_blocking(move || {
        browser(&[
            "text",
            &text_base,
            &gallery,
            payload,
            &out_arg,
            &profile_arg,
        ])
    })
    .await
    .unwrap();

    // Sharing the first album by link (password, no downloads) and with a member; the
    // link opened by someone who is not signed in; the member's list; revoking.
    let guest = tempfile::tempdir().unwrap();
    let (gallery, out_arg, profile_arg, guest_arg) = (
        gallery_id.to_string(),
        out.to_str().unwrap().to_string(),
        profile.path().to_str().unwrap().to_string(),
        guest.path().to_str().unwrap().to_string(),
    );
    let share_base = base.clone();
    let url = tokio::task::spawn_blocking(move || {
        browser(&[
            "share",
            &share_base,
            &gallery,
            &out_arg,
            &profile_arg,
            &guest_arg,
        ])
    })
    .await
    .unwrap();
    assert!(url.trim().contains("/s/"), "{url}");
    for shot in ["share-dialog-1440.png", "shared-1440.png", "shared-390.png"] {
        assert!(
            std::fs::metadata(out.join(shot)).unwrap().len() > 1_000,
            "{shot}"
        );
    }
    let (links, members): (i64, i64) = {
        let row = client
            .query_one(
                "SELECT (SELECT count(*) FROM share_links), \
                        (SELECT count(*) FROM album_members WHERE subject = 'friend')",
                &[],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(
        (links, members),
        (0, 1),
        "the link revoked, the member kept"
    );

    // A gallery whose job failed (as when the model was down to the last attempt): its
    // albums gone, the job failed with a sentence.
    let failed = client
        .execute(
            "WITH gone AS (DELETE FROM albums WHERE gallery_id = $1) \
             UPDATE processing_jobs SET status = 'failed', error = 'The model was unavailable.', \
                 organizer = NULL, fallback_reason = NULL \
             WHERE gallery_id = $1",
            &[&gallery_id],
        )
        .await
        .unwrap();
    assert_eq!(failed, 1);
    let (gallery, out_arg, profile_arg) = (
        gallery_id.to_string(),
        out.to_str().unwrap().to_string(),
        profile.path().to_str().unwrap().to_string(),
    );
    let you_base = base.clone();
    let search_base = base.clone();
    tokio::task::spawn_blocking(move || {
        browser(&["retry", &base, &gallery, &out_arg, &profile_arg])
    })
    .await
    .unwrap();
    let galleries: i64 = client
        .query_one("SELECT count(*) FROM galleries", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(galleries, 3, "the retry made a new gallery");

    // The You panel: a name and a language saved and kept; this month's usage shown.
    let (out_arg, profile_arg) = (
        out.to_str().unwrap().to_string(),
        profile.path().to_str().unwrap().to_string(),
    );
    tokio::task::spawn_blocking(move || browser(&["you", &you_base, &out_arg, &profile_arg]))
        .await
        .unwrap();
    let saved: Option<String> = client
        .query_one(
            "SELECT display_name FROM users WHERE display_name IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(saved.as_deref(), Some("Ana Souza"));
    assert!(std::fs::metadata(out.join("you-390.png")).unwrap().len() > 1_000);

    // Search: a town as a removable chip, date words, the history offered back.
    let (out_arg, profile_arg) = (
        out.to_str().unwrap().to_string(),
        profile.path().to_str().unwrap().to_string(),
    );
    tokio::task::spawn_blocking(move || browser(&["search", &search_base, &out_arg, &profile_arg]))
        .await
        .unwrap();
    let remembered: i64 = client
        .query_one("SELECT count(*) FROM search_history", &[])
        .await
        .unwrap()
        .get(0);
    // The search without the chip had no words: nothing to remember.
    assert_eq!(remembered, 2, "westerland and 2019");
    for shot in ["search-390.png", "search-1440.png"] {
        assert!(
            std::fs::metadata(out.join(shot)).unwrap().len() > 1_000,
            "{shot}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_in_through_the_hosted_ui_uses_the_code_with_pkce() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let idp_port = common::free_port();
    let secret = "hosted-ui-test-signing-secret-0123456789";
    let client_id = "momentarium-web-test";
    let idp = format!("http://127.0.0.1:{idp_port}");
    let (_server, base, _) = common::serve(
        &db.url,
        data.path(),
        &[
            ("COGNITO_DOMAIN", idp.as_str()),
            ("COGNITO_CLIENT_ID", client_id),
            // The stand-in authorization server signs its ID tokens as dev tokens, so the
            // local API (which has no JWT authorizer in front) can check them.
            ("DEV_JWT_SECRET", secret),
        ],
    )
    .await;
    let out = artifacts().to_str().unwrap().to_string();
    let profile = tempfile::tempdir().unwrap();
    let profile_arg = profile.path().to_str().unwrap().to_string();
    let port = idp_port.to_string();
    tokio::task::spawn_blocking(move || {
        browser(&[
            "cognito",
            &base,
            &port,
            client_id,
            secret,
            &out,
            &profile_arg,
        ])
    })
    .await
    .unwrap();
}
