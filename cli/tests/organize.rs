//! `momentarium organize <folder>` end to end, offline, on generated photos: the embedded
//! stack, the public API, the terminal summary and the HTML page; a second run uploads
//! nothing.

#![allow(clippy::unwrap_used)]

mod common;

use momentarium_tests::TestDb;

#[tokio::test]
async fn organize_makes_albums_by_outing_and_a_gallery_page() {
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

    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("Organised 8 photos into 3 albums (8 uploaded now, 0 already there)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Saturday Morning in Dahlem, 10 May 2025 — 4 photos"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Saturday Evening in Westerland, 2 August 2025 — 3 photos"),
        "{stdout}"
    );
    assert!(
        stdout.contains("notes.txt — not a JPEG, PNG, WebP or HEIC photo"),
        "{stdout}"
    );

    // The garden and the coast never share an album.
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT a.title, array_agg(i.original_filename ORDER BY ai.position) \
             FROM albums a JOIN album_images ai ON ai.album_id = a.id JOIN images i ON i.id = ai.image_id \
             GROUP BY a.id, a.title, a.position ORDER BY a.position",
            &[],
        )
        .await
        .unwrap();
    let albums: Vec<(String, Vec<String>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    for (title, files) in &albums {
        let garden = files.iter().any(|f| f.starts_with("garden"));
        let coast = files.iter().any(|f| f.starts_with("coast"));
        assert!(!(garden && coast), "{title} mixes the outings: {files:?}");
    }
    assert_eq!(albums.len(), 3, "{albums:?}");

    let page = std::fs::read_to_string(folder.path().join("momentarium.html")).unwrap();
    assert!(page.contains("<h2>Saturday Morning in Dahlem, 10 May 2025</h2>"));
    assert_eq!(page.matches("<figure>").count(), 8);
    assert_eq!(
        page.matches("data:image/jpeg;base64,").count(),
        8 + 3,
        "a thumbnail per photo and a cover per album"
    );
    assert!(page.contains(r#"href="garden-0.jpg""#));
    assert!(page.contains("notes.txt — not a JPEG, PNG, WebP or HEIC photo"));

    // Again: nothing uploaded twice, the same gallery.
    let again = common::run(
        &db.url,
        data.path(),
        &["organize", folder.path().to_str().unwrap()],
        &[],
    );
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{stdout}");
    assert!(
        stdout.contains("(0 uploaded now, 8 already there)"),
        "{stdout}"
    );
    let (images, galleries): (i64, i64) = {
        let r = client
            .query_one(
                "SELECT (SELECT count(*) FROM images), (SELECT count(*) FROM galleries)",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((images, galleries), (8, 1));
}

#[tokio::test]
async fn force_upload_sends_every_photo_again_as_new_uploads() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    common::outing_folder(folder.path());
    let organize = |extra: &[&str]| {
        let mut args = vec!["organize", folder.path().to_str().unwrap()];
        args.extend_from_slice(extra);
        common::run(&db.url, data.path(), &args, &[])
    };
    let first = organize(&[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );

    let again = organize(&["--force-upload"]);

    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        again.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(
        stdout.contains("(8 uploaded now, 0 already there)"),
        "{stdout}"
    );
    let (images, galleries): (i64, i64) = {
        let r = db
            .client()
            .await
            .query_one(
                "SELECT (SELECT count(*) FROM images WHERE status = 'uploaded'), \
                        (SELECT count(*) FROM galleries)",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(
        (images, galleries),
        (16, 2),
        "new uploads are new photos, in a new gallery"
    );
}

#[tokio::test]
async fn more_photos_than_a_batch_are_split_into_batches() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    common::outing_folder(folder.path());

    let out = common::run(
        &db.url,
        data.path(),
        &[
            "organize",
            folder.path().to_str().unwrap(),
            "--batch-size",
            "3",
            "--out",
            data.path().join("page.html").to_str().unwrap(),
        ],
        &[],
    );

    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let galleries: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM galleries", &[])
        .await
        .unwrap()
        .get(0);
    // Cut between outings: garden 4 → 3 + 1, coast 3, the PNG without a time 1.
    assert_eq!(
        galleries, 4,
        "8 photos in batches of at most 3, cut at outings"
    );
    let page = std::fs::read_to_string(data.path().join("page.html")).unwrap();
    assert_eq!(page.matches("<figure>").count(), 8);
    assert!(
        page.contains("file://"),
        "a page elsewhere links to the originals by absolute path"
    );
}

#[test]
fn a_folder_without_photos_is_a_clear_error() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("readme.txt"), "hi").unwrap();
    let data = tempfile::tempdir().unwrap();

    let out = common::run(
        "postgres://unused@127.0.0.1:1/none",
        data.path(),
        &["organize", folder.path().to_str().unwrap()],
        &[],
    );

    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("holds no photos"), "{stderr}");
}

#[tokio::test]
async fn demo_writes_sample_photos_and_organises_them_even_after_the_data_dir_is_gone() {
    let db = TestDb::new().await;
    let work = tempfile::tempdir().unwrap();
    let folder = work.path().join("demo");

    // Two runs that share the database but not the data directory (so not the upload
    // ledger): the second uploads the same files afresh and must get its own gallery.
    for data in ["data-1", "data-2"] {
        let out = common::run(
            &db.url,
            &work.path().join(data),
            &["demo", folder.to_str().unwrap()],
            &[],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("Organised 8 photos into 3 albums (8 uploaded now"),
            "{stdout}"
        );
    }
    assert!(folder.join("momentarium.html").exists());
    let galleries: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM galleries", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(galleries, 2);
}
