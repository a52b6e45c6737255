//! Whole or cut short, judged by structure: what phones really write after a JPEG's end
//! (appended bytes, Samsung's SEF block, a motion photo's video, zero padding) is
//! accepted; files cut at any point are refused. Uploaded through the real S3-protocol
//! server and inspected by the on-upload handler. And colours: an ICC profile (Display
//! P3) is converted to sRGB in what is derived from the photo.

#![allow(clippy::unwrap_used)]

use momentarium_shared::domain::ContentType;
use momentarium_shared::domain::inspect::{Structure, jpeg_structure};
use momentarium_shared::domain::prepare::{MAX_EDGE, prepare};
use momentarium_tests::TestApp;
use momentarium_tests::photos::{self, Exif};
use serde_json::Value;
use uuid::Uuid;

fn jpeg() -> Vec<u8> {
    photos::jpeg(96, 64, [180, 90, 40], &Exif::default())
}

fn appended(trailer: &[u8]) -> Vec<u8> {
    let mut bytes = jpeg();
    bytes.extend_from_slice(trailer);
    bytes
}

fn mp4() -> Vec<u8> {
    let mut v = 24u32.to_be_bytes().to_vec();
    v.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2");
    v.extend_from_slice(&16u32.to_be_bytes());
    v.extend_from_slice(b"mdat\0\0\0\0\0\0\0\0");
    v
}

/// Inserts an APP segment right after SOI.
fn with_segment(bytes: &[u8], marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = bytes[..2].to_vec();
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&bytes[2..]);
    out
}

/// Uploads each file as a JPEG and delivers the S3 event; returns each one's status and
/// rejection reason.
async fn inspect_all(files: &[(&str, Vec<u8>)]) -> Vec<(String, String, Option<String>)> {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let specs: Vec<(&str, &str, usize)> = files
        .iter()
        .map(|(n, b)| (*n, "image/jpeg", b.len()))
        .collect();
    let tickets = app.upload_urls(&token, &specs).await;
    let mut keys = Vec::new();
    for (ticket, (_, bytes)) in tickets.iter().zip(files) {
        assert_eq!(app.put(ticket, bytes.clone()).await.status(), 200);
        keys.push(ticket["key"].as_str().unwrap().to_string());
    }
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    app.s3_event(&keys).await.unwrap();
    let client = app.db.client().await;
    let mut out = Vec::new();
    for (ticket, (name, _)) in tickets.iter().zip(files) {
        let id = Uuid::parse_str(ticket["imageId"].as_str().unwrap()).unwrap();
        let row = client
            .query_one(
                "SELECT status, rejection_reason FROM images WHERE id = $1",
                &[&id],
            )
            .await
            .unwrap();
        out.push((name.to_string(), row.get(0), row.get(1)));
    }
    out
}

#[tokio::test]
async fn what_phones_write_after_the_end_marker_is_accepted() {
    let mut sef = b"\0\0\0\0SEFHcamera app data".to_vec();
    sef.extend_from_slice(&[0x20, 0, 0, 0]);
    sef.extend_from_slice(b"SEFT");
    let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta GCamera:MotionPhoto=\"1\"/>";
    let mut motion = with_segment(&jpeg(), 0xE1, xmp);
    motion.extend_from_slice(&mp4());
    let files = vec![
        ("16 bytes appended", appended(&[0xA5; 16])),
        ("Samsung SEF trailer", appended(&sef)),
        ("MP4 appended, no XMP", appended(&mp4())),
        ("motion photo with XMP", motion),
        ("zero padding", appended(&[0; 1000])),
        ("0xFF padding", appended(&[0xFF; 7])),
    ];

    let results = inspect_all(&files).await;

    for (name, status, reason) in results {
        assert_eq!(status, "uploaded", "{name}: {reason:?}");
    }
}

#[tokio::test]
async fn files_cut_short_anywhere_are_refused() {
    let whole = jpeg();
    let sos = whole.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let files = vec![
        ("cut in the headers", whole[..sos - 10].to_vec()),
        ("cut just after the scan header", whole[..sos + 14].to_vec()),
        ("cut in the scan", whole[..(sos + whole.len()) / 2].to_vec()),
        (
            "cut before the end marker",
            whole[..whole.len() - 2].to_vec(),
        ),
        (
            "cut inside the end marker",
            whole[..whole.len() - 1].to_vec(),
        ),
        // Cut, then padded with zeros to look complete from the last bytes.
        ("cut and zero padded", {
            let mut b = whole[..whole.len() - 30].to_vec();
            b.extend_from_slice(&[0; 30]);
            b
        }),
    ];

    let results = inspect_all(&files).await;

    for (name, status, reason) in results {
        assert_eq!(status, "rejected", "{name}");
        assert_eq!(
            reason.as_deref(),
            Some("The file is cut short; upload it again."),
            "{name}"
        );
    }
}

#[test]
fn an_end_marker_inside_the_exif_thumbnail_does_not_count() {
    // EXIF carries a thumbnail: a whole JPEG, end marker included, inside APP1.
    let thumbnail = photos::jpeg(16, 16, [1, 2, 3], &Exif::default());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&thumbnail);
    let photo = with_segment(&jpeg(), 0xE1, &app1);
    let sos = photo.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();

    assert_eq!(jpeg_structure(&photo), Structure::Whole);
    assert_eq!(
        jpeg_structure(&photo[..sos + 20]),
        Structure::Truncated,
        "the thumbnail's FF D9 is not the photo's end"
    );
    // A header with no scan at all (what a decompression bomb's first bytes look like).
    assert_eq!(
        jpeg_structure(&photos::jpeg_header_claiming(100, 100)),
        Structure::Corrupt
    );
}

#[tokio::test]
async fn png_and_webp_with_trailing_bytes_are_whole_and_cut_ones_are_not() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let mut png_extra = photos::png(40, 30);
    png_extra.extend_from_slice(b"trailing");
    let png = photos::png(40, 30);
    let png_cut = png[..png.len() - 20].to_vec();
    let webp = photos::webp(40, 30);
    let webp_cut = webp[..webp.len() - 5].to_vec();
    let files: Vec<(&str, &str, Vec<u8>)> = vec![
        ("png+trailing", "image/png", png_extra),
        ("png cut", "image/png", png_cut),
        ("webp cut", "image/webp", webp_cut),
    ];
    let specs: Vec<(&str, &str, usize)> = files.iter().map(|(n, t, b)| (*n, *t, b.len())).collect();
    let tickets = app.upload_urls(&token, &specs).await;
    let mut keys = Vec::new();
    for (ticket, (_, _, bytes)) in tickets.iter().zip(&files) {
        app.put(ticket, bytes.clone()).await;
        keys.push(ticket["key"].as_str().unwrap().to_string());
    }
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();

    let summary = app.s3_event(&keys).await.unwrap();

    assert_eq!((summary.uploaded, summary.rejected), (1, 2));
    let first: Value = tickets[0].clone();
    let id = Uuid::parse_str(first["imageId"].as_str().unwrap()).unwrap();
    let status: String = app
        .db
        .client()
        .await
        .query_one("SELECT status FROM images WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "uploaded", "a PNG with bytes after IEND is whole");
}

fn s15(v: f64) -> [u8; 4] {
    ((v * 65536.0).round() as i32).to_be_bytes()
}

/// A matrix/TRC ICC v2 display profile with Display P3's primaries (D50-adapted, as in
/// Apple's profile) and a 2.2 gamma.
fn display_p3_profile() -> Vec<u8> {
    let xyz = |x: f64, y: f64, z: f64| {
        let mut t = b"XYZ \0\0\0\0".to_vec();
        for v in [x, y, z] {
            t.extend_from_slice(&s15(v));
        }
        t
    };
    let curve = {
        let mut t = b"curv\0\0\0\0".to_vec();
        t.extend_from_slice(&1u32.to_be_bytes());
        t.extend_from_slice(&[0x02, 0x33, 0, 0]); // u8Fixed8 2.2, padded to 4 bytes
        t
    };
    let desc = {
        let text = b"Display P3 (test)\0";
        let mut t = b"desc\0\0\0\0".to_vec();
        t.extend_from_slice(&(text.len() as u32).to_be_bytes());
        t.extend_from_slice(text);
        t.extend_from_slice(&[0; 12 + 67]);
        while !t.len().is_multiple_of(4) {
            t.push(0);
        }
        t
    };
    let tags: Vec<(&[u8; 4], Vec<u8>)> = vec![
        (b"desc", desc),
        (b"wtpt", xyz(0.964203, 1.0, 0.824905)),
        (b"rXYZ", xyz(0.515106, 0.241196, -0.001053)),
        (b"gXYZ", xyz(0.291977, 0.692245, 0.041885)),
        (b"bXYZ", xyz(0.157104, 0.066574, 0.784073)),
        (b"rTRC", curve.clone()),
        (b"gTRC", curve.clone()),
        (b"bTRC", curve),
    ];
    let table_len = 4 + 12 * tags.len();
    let mut offset = 128 + table_len;
    let mut table = (tags.len() as u32).to_be_bytes().to_vec();
    let mut data = Vec::new();
    for (sig, body) in &tags {
        table.extend_from_slice(*sig);
        table.extend_from_slice(&(offset as u32).to_be_bytes());
        table.extend_from_slice(&(body.len() as u32).to_be_bytes());
        data.extend_from_slice(body);
        offset += body.len();
    }
    let size = 128 + table.len() + data.len();
    let mut header = Vec::with_capacity(128);
    header.extend_from_slice(&(size as u32).to_be_bytes());
    header.extend_from_slice(b"none");
    header.extend_from_slice(&[2, 0x10, 0, 0]);
    header.extend_from_slice(b"mntrRGB XYZ ");
    header.extend_from_slice(&[0, 0x07, 0, 0x01, 0, 0x01, 0, 0, 0, 0, 0, 0]);
    header.extend_from_slice(b"acsp");
    header.extend_from_slice(&[0; 24]); // platform, flags, manufacturer, model, attributes
    header.extend_from_slice(&[0; 4]); // rendering intent: perceptual
    for v in [0.964203, 1.0, 0.824905] {
        header.extend_from_slice(&s15(v));
    }
    header.resize(128, 0);
    [header, table, data].concat()
}

/// A uniform JPEG of `rgb` carrying `icc` in APP2.
fn tagged_jpeg(rgb: [u8; 3], icc: Option<&[u8]>) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(64, 48, image::Rgb(rgb));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 95)
        .encode_image(&img)
        .unwrap();
    match icc {
        None => plain,
        Some(icc) => {
            let mut payload = b"ICC_PROFILE\0\x01\x01".to_vec();
            payload.extend_from_slice(icc);
            with_segment(&plain, 0xE2, &payload)
        }
    }
}

fn centre_pixel(prepared: &[u8]) -> [u8; 3] {
    let img = image::load_from_memory(prepared).unwrap().into_rgb8();
    img.get_pixel(img.width() / 2, img.height() / 2).0
}

#[test]
fn a_display_p3_photo_keeps_its_colours_as_srgb() {
    let p3 = display_p3_profile();
    let colour = [200, 100, 100];

    let tagged = prepare(
        &tagged_jpeg(colour, Some(&p3)),
        ContentType::Jpeg,
        None,
        MAX_EDGE,
    )
    .unwrap();
    let untagged = prepare(
        &tagged_jpeg(colour, None),
        ContentType::Jpeg,
        None,
        MAX_EDGE,
    )
    .unwrap();

    let [r, g, b] = centre_pixel(&tagged.bytes);
    let [r0, _, _] = centre_pixel(&untagged.bytes);
    // P3 (200, 100, 100) is about sRGB (217, 93, 97): a redder red than the numbers say.
    assert!(
        (r0 as i32 - 200).abs() <= 3,
        "untagged stays as it is: {r0}"
    );
    assert!(
        r >= 210,
        "converted to sRGB the red is stronger: {r} {g} {b}"
    );
    assert!(
        g <= 97 && b <= 101,
        "and green and blue weaker: {r} {g} {b}"
    );
}
