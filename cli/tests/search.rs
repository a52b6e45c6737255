//! `momentarium search`: the photos `momentarium organize` put away, found again on the
//! same machine by place, date and words, with how the query was read.

#![allow(clippy::unwrap_used)]

mod common;

use momentarium_tests::TestDb;

#[tokio::test]
async fn organised_photos_are_found_by_place_date_and_words() {
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

    let search = |args: &[&str]| {
        let mut all = vec!["search"];
        all.extend_from_slice(args);
        let out = common::run(&db.url, data.path(), &all, &[]);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };

    // The coast outing, by its town: three photos, with the place and the album.
    let stdout = search(&["westerland"]);
    assert!(stdout.starts_with("Read as: in Westerland\n"), "{stdout}");
    assert!(
        stdout.contains("3 photos found (by words and filters)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Westerland, Germany · 2025-08-02 18:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("album “Saturday Evening in Westerland, 2 August 2025”"),
        "{stdout}"
    );
    // By date words and a country: the garden outing in Berlin.
    let stdout = search(&["Germany May 2025"]);
    assert!(
        stdout.starts_with("Read as: from 2025-05-01 to 2025-05-31 · in Germany\n"),
        "{stdout}"
    );
    assert!(stdout.contains("4 photos found"), "{stdout}");
    // Words without a model say why they are keyword-only.
    let stdout = search(&["dahlem morning"]);
    assert!(
        stdout.contains("by words only: no embedding model is configured (GEMINI_API_KEY)"),
        "{stdout}"
    );
    // Nothing, said plainly; the JSON for scripts.
    let stdout = search(&["2019"]);
    assert!(stdout.contains("Nothing found"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_str(&search(&["--json", "--limit", "2", ""])).unwrap();
    assert_eq!(json["results"].as_array().unwrap().len(), 2);
    assert_eq!(json["total"], 8);
    // A bad date is the API's clear error, not a crash.
    let out = common::run(&db.url, data.path(), &["search", "--from", "May"], &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`from` must be a date like 2025-05-10"),
        "{stderr}"
    );
}
