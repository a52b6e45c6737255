//! `organize` on folders shaped like the ones people have: nested libraries with hidden
//! and NAS junk, phone trailers after the JPEG's end, one bad photo among good ones, and
//! a folder larger than a batch cut where the outings change.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use momentarium_tests::TestDb;
use momentarium_tests::photos::{self, Exif};

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// A phone photo taken at `time` (`YYYY:MM:DD HH:MM:SS`, +02:00) at `place`.
fn photo(time: &str, place: (f64, f64), tint: u8) -> Vec<u8> {
    photos::jpeg(
        48,
        32,
        [tint, 255 - tint, 90],
        &Exif {
            taken: Some(leak(time.to_string())),
            offset: Some("+02:00"),
            gps: Some(place),
            make: Some("Google"),
            model: Some("Pixel 8"),
            orientation: None,
        },
    )
}

fn organize(db: &TestDb, data: &Path, folder: &Path) -> (bool, String, String) {
    let out = common::run(&db.url, data, &["organize", folder.to_str().unwrap()], &[]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn stored_names(db: &TestDb) -> Vec<String> {
    let rows = db
        .client()
        .await
        .query(
            "SELECT original_filename FROM images WHERE status = 'uploaded' ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

#[tokio::test]
async fn nested_folders_are_read_three_levels_deep_without_hidden_or_junk_files() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let deep = dir.join("2025/DCIM/100APPLE");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::create_dir_all(dir.join(".thumbnails")).unwrap();
    std::fs::create_dir_all(dir.join("2025/@eaDir")).unwrap();
    std::fs::write(
        deep.join("IMG_0001.JPG"),
        photo("2025:06:01 10:00:00", (52.5, 13.4), 10),
    )
    .unwrap();
    std::fs::write(
        deep.join("IMG_0002.JPEG"),
        photo("2025:06:01 10:05:00", (52.5, 13.4), 60),
    )
    .unwrap();
    std::fs::write(
        dir.join("2025/Top.Jpg"),
        photo("2025:06:01 10:10:00", (52.5, 13.4), 120),
    )
    .unwrap();
    std::fs::write(dir.join("Screenshot.PNG"), photos::png(40, 30)).unwrap();
    // The same photo again in another folder: organised once, the copy named.
    std::fs::create_dir_all(dir.join("Favourites")).unwrap();
    std::fs::copy(
        dir.join("2025/Top.Jpg"),
        dir.join("Favourites/Top copy.jpg"),
    )
    .unwrap();
    // What must be passed over: hidden folders and files, macOS companions, NAS thumbnails.
    let junk = photo("2025:06:01 10:00:00", (52.5, 13.4), 200);
    std::fs::write(dir.join(".thumbnails/t.jpg"), &junk).unwrap();
    std::fs::write(deep.join("._IMG_0001.JPG"), &junk).unwrap();
    std::fs::write(dir.join("2025/@eaDir/SYNOPHOTO_THUMB_XL.jpg"), &junk).unwrap();
    std::fs::write(dir.join(".DS_Store"), b"\0\0\0\x01Bud1").unwrap();
    // A link back up the tree must not make the walk go round for ever.
    std::os::unix::fs::symlink(dir, deep.join("loop")).unwrap();

    let (ok, stdout, stderr) = organize(&db, data.path(), dir);

    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("Organised 4 photos into 2 albums (4 uploaded now"),
        "{stdout}"
    );
    assert_eq!(
        stored_names(&db).await,
        vec!["IMG_0001.JPG", "IMG_0002.JPEG", "Screenshot.PNG", "Top.Jpg"]
    );
    assert!(
        stdout.contains("2025/DCIM/100APPLE/IMG_0001.JPG"),
        "photos are named by their path in the folder: {stdout}"
    );
    assert!(!stdout.contains("SYNOPHOTO") && !stdout.contains("._IMG"));
    assert!(
        stdout.contains("Favourites/Top copy.jpg — the same photo as 2025/Top.Jpg"),
        "{stdout}"
    );
    let page = std::fs::read_to_string(dir.join("momentarium.html")).unwrap();
    assert!(page.contains("2025/DCIM/100APPLE/IMG_0002.JPEG"));
    assert_eq!(page.matches("<figure>").count(), 4);
}

/// A valid JPEG followed by `trailer`, as phones and apps write them.
fn with_trailer(tint: u8, trailer: &[u8]) -> Vec<u8> {
    let mut bytes = photo("2025:07:01 12:00:00", (48.1, 11.6), tint);
    bytes.extend_from_slice(trailer);
    bytes
}

/// A tiny MP4: an `ftyp` box and an empty `mdat`.
fn mp4() -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&24u32.to_be_bytes());
    v.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2");
    v.extend_from_slice(&16u32.to_be_bytes());
    v.extend_from_slice(b"mdat\0\0\0\0\0\0\0\0");
    v
}

/// A JPEG whose APP1 carries Google's motion-photo XMP, with the video appended.
fn motion_photo(tint: u8) -> Vec<u8> {
    let plain = photo("2025:07:01 12:00:00", (48.1, 11.6), tint);
    let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><rdf:Description GCamera:MotionPhoto=\"1\" GCamera:MotionPhotoVersion=\"1\"/></x:xmpmeta>";
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((xmp.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(xmp);
    out.extend_from_slice(&plain[2..]);
    out.extend_from_slice(&mp4());
    out
}

#[tokio::test]
async fn photos_with_phone_trailers_are_whole_and_organised() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let mut sef = b"\0\0\0\0SEFHjunk data from the camera app".to_vec();
    sef.extend_from_slice(&[0x20, 0, 0, 0]);
    sef.extend_from_slice(b"SEFT");
    let shapes: Vec<(&str, Vec<u8>)> = vec![
        ("appended.jpg", with_trailer(10, &[0x5Au8; 16])),
        ("samsung.jpg", with_trailer(40, &sef)),
        ("video-no-xmp.jpg", with_trailer(70, &mp4())),
        ("motion.jpg", motion_photo(100)),
        ("padded.jpg", with_trailer(130, &[0u8; 4096])),
    ];
    for (name, bytes) in &shapes {
        std::fs::write(dir.join(name), bytes).unwrap();
    }

    let (ok, stdout, stderr) = organize(&db, data.path(), dir);

    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("Organised 5 photos"), "{stdout}");
    assert!(!stdout.contains("Left out"), "nothing is refused: {stdout}");
    assert_eq!(stored_names(&db).await.len(), 5);
}

#[tokio::test]
async fn one_rejected_photo_is_listed_and_the_rest_are_organised() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    for i in 0..8u8 {
        let time = format!("2025:08:02 18:{:02}:00", i * 5);
        std::fs::write(
            dir.join(format!("good-{i}.jpg")),
            photo(&time, (54.9, 8.3), i * 30),
        )
        .unwrap();
    }
    // Cut short in its scan data: a JPEG by its first bytes, refused by the server.
    let whole = photo("2025:08:02 19:00:00", (54.9, 8.3), 250);
    std::fs::write(dir.join("broken.jpg"), &whole[..whole.len() - 40]).unwrap();

    let (ok, stdout, stderr) = organize(&db, data.path(), dir);

    assert!(ok, "exit 0: stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("Organised 8 of 9 photos into"),
        "the refused photo is counted as found, not organised: {stdout}"
    );
    assert!(
        stdout.contains("broken.jpg — The file is cut short"),
        "the rejected photo is listed with its reason: {stdout}"
    );
    let page = std::fs::read_to_string(dir.join("momentarium.html")).unwrap();
    assert_eq!(page.matches("<figure>").count(), 8);
    assert!(page.contains("broken.jpg"));
}

#[tokio::test]
async fn a_large_folder_is_cut_into_batches_where_the_outings_change() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    // Three outings of 40 photos: Berlin in the morning, Potsdam at noon (30 km away),
    // Berlin again in the evening (a 4-hour gap).
    let outings = [
        ("2025:05:10 08:00:00", (52.52, 13.40)),
        ("2025:05:10 12:00:00", (52.39, 13.06)),
        ("2025:05:10 18:00:00", (52.52, 13.40)),
    ];
    for (o, (start, place)) in outings.iter().enumerate() {
        let hour: u32 = start[11..13].parse().unwrap();
        for i in 0..40u32 {
            let time = format!("2025:05:10 {:02}:{:02}:{:02}", hour + i / 60, i % 60, o);
            std::fs::write(
                dir.join(format!("o{o}-{i:02}.jpg")),
                photo(&time, *place, (o * 80 + i as usize) as u8),
            )
            .unwrap();
        }
    }

    let (ok, stdout, stderr) = organize(&db, data.path(), dir);

    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let client = db.client().await;
    // One gallery per outing, each album one whole outing.
    let rows = client
        .query(
            "SELECT g.id, count(ai.image_id), \
                    array_agg(DISTINCT substr(i.original_filename, 1, 2)) \
             FROM galleries g JOIN albums a ON a.gallery_id = g.id \
             JOIN album_images ai ON ai.album_id = a.id JOIN images i ON i.id = ai.image_id \
             GROUP BY g.id ORDER BY 3",
            &[],
        )
        .await
        .unwrap();
    let per_gallery: Vec<(i64, Vec<String>)> = rows.iter().map(|r| (r.get(1), r.get(2))).collect();
    assert_eq!(
        per_gallery,
        vec![
            (40, vec!["o0".to_string()]),
            (40, vec!["o1".to_string()]),
            (40, vec!["o2".to_string()]),
        ],
        "cut at the outings, never inside one"
    );
    assert!(
        stdout.contains("Organised 120 photos into 3 albums"),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("Albums by the offline organiser").count(),
        1,
        "one summary: {stdout}"
    );
    // Albums in time order, and long file lists shortened with a count.
    let morning = stdout.find("Saturday Morning").unwrap();
    let afternoon = stdout.find("Saturday Afternoon").unwrap();
    let evening = stdout.find("Saturday Evening").unwrap();
    assert!(morning < afternoon && afternoon < evening, "{stdout}");
    assert!(stdout.contains("… and 36 more"), "{stdout}");
}

#[tokio::test]
async fn an_outing_larger_than_a_batch_is_cut_and_its_parts_titled_as_one() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    // 10:30 to 13:27, every 3 minutes: one outing; its last 10 photos, alone, would be
    // titled "Saturday Afternoon".
    for i in 0..60u32 {
        let minute = 10 * 60 + 30 + i * 3;
        let time = format!("2025:08:02 {:02}:{:02}:00", minute / 60, minute % 60);
        std::fs::write(
            dir.join(format!("coast-{i:02}.jpg")),
            photo(&time, (54.91, 8.31), (i * 4) as u8),
        )
        .unwrap();
    }

    let (ok, stdout, stderr) = organize(&db, data.path(), dir);

    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("Saturday Morning in Westerland, 2 August 2025 — 50 photos"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Saturday Morning in Westerland, 2 August 2025, part 2 — 10 photos"),
        "the second part carries the first part's title: {stdout}"
    );
    assert!(!stdout.contains("Afternoon"), "{stdout}");
}
