//! Renditions: made once when an upload is inspected, stored beside it in the real
//! S3-protocol server with their type and caching headers, upright, at their sizes; made
//! late for photos recorded before renditions existed; and what the gallery hands a grid.

#![allow(clippy::unwrap_used)]

use image::{ImageBuffer, Rgb, RgbImage};
use momentarium_shared::adapter::s3::RENDITION_CACHE_CONTROL;
use momentarium_shared::domain::ImageKey;
use momentarium_shared::domain::prepare::Size;
use momentarium_shared::usecase::run_job::ProcessOutcome;
use momentarium_tests::TestApp;
use momentarium_tests::photos::{self, Exif};
use serde_json::Value;
use uuid::Uuid;

/// Runs the job now, as a delivery would, and expects it to complete.
async fn run_to_completion(app: &TestApp, job: Uuid) {
    let outcome = app.run_job_now(job).await.unwrap();
    assert!(
        matches!(outcome, ProcessOutcome::Completed { .. }),
        "{outcome:?}"
    );
}

/// What the image row says: do its renditions exist?
async fn renditions_flag(app: &TestApp, key: &ImageKey) -> bool {
    app.db
        .client()
        .await
        .query_one(
            "SELECT renditions FROM images WHERE id = $1",
            &[&key.image_id],
        )
        .await
        .unwrap()
        .get(0)
}

/// A stored rendition: its headers and decoded pixels.
struct Stored {
    content_type: Option<String>,
    cache_control: Option<String>,
    image: RgbImage,
}

async fn stored(app: &TestApp, key: &str) -> Option<Stored> {
    let out = app
        .storage()
        .client()
        .get_object()
        .bucket(app.storage().bucket())
        .key(key)
        .send()
        .await
        .ok()?;
    let content_type = out.content_type().map(str::to_string);
    let cache_control = out.cache_control().map(str::to_string);
    let bytes = out.body.collect().await.unwrap().into_bytes();
    let image = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
        .expect("a rendition is a JPEG")
        .into_rgb8();
    Some(Stored {
        content_type,
        cache_control,
        image,
    })
}

async fn upload(app: &TestApp, name: &str, content_type: &str, bytes: Vec<u8>) -> ImageKey {
    let token = app.token("alice");
    let id = app
        .upload_photos(&token, &[(name, content_type, bytes)])
        .await
        .remove(0);
    let user_id: Uuid = app
        .db
        .client()
        .await
        .query_one(
            "SELECT user_id FROM images WHERE id = $1",
            &[&Uuid::parse_str(&id).unwrap()],
        )
        .await
        .unwrap()
        .get(0);
    ImageKey::new(user_id, Uuid::parse_str(&id).unwrap())
}

/// Checks every size of `key`: headers, and the long edge (never above the photo's own).
async fn assert_renditions(app: &TestApp, key: &ImageKey, shown: (u32, u32), what: &str) {
    for size in Size::ALL {
        let r = stored(app, &key.rendition(size))
            .await
            .unwrap_or_else(|| panic!("{what}: no {} rendition", size.as_str()));
        assert_eq!(r.content_type.as_deref(), Some("image/jpeg"), "{what}");
        assert_eq!(
            r.cache_control.as_deref(),
            Some(RENDITION_CACHE_CONTROL),
            "{what}"
        );
        let (w, h) = r.image.dimensions();
        let long = shown.0.max(shown.1).min(size.long_edge());
        assert_eq!(w.max(h), long, "{what}: {} is {w}×{h}", size.as_str());
        // Upright: the shape of the photo as shown, not as stored.
        assert_eq!(
            w > h,
            shown.0 > shown.1,
            "{what}: {} is {w}×{h}, the photo is shown {}×{}",
            size.as_str(),
            shown.0,
            shown.1
        );
    }
}

#[tokio::test]
async fn each_format_gets_its_three_sizes_with_type_and_caching_headers() {
    let app = TestApp::spawn().await;
    // (file name, content type, bytes, size as shown)
    type Case = (&'static str, &'static str, Vec<u8>, (u32, u32));
    let cases: Vec<Case> = vec![
        (
            "landscape.jpg",
            "image/jpeg",
            photos::jpeg(2400, 1600, [30, 90, 160], &Exif::default()),
            (2400, 1600),
        ),
        (
            "portrait.jpg",
            "image/jpeg",
            photos::jpeg(1200, 1800, [160, 90, 30], &Exif::default()),
            (1200, 1800),
        ),
        (
            "drawing.png",
            "image/png",
            photos::png(1000, 700),
            (1000, 700),
        ),
        ("web.webp", "image/webp", photos::webp(640, 900), (640, 900)),
        // Smaller than the preview: kept at its own size, never enlarged.
        (
            "small.jpg",
            "image/jpeg",
            photos::jpeg(500, 300, [10, 200, 90], &Exif::default()),
            (500, 300),
        ),
    ];
    for (name, content_type, bytes, shown) in cases {
        let key = upload(&app, name, content_type, bytes).await;
        assert_renditions(&app, &key, shown, name).await;
        let renditions: bool = renditions_flag(&app, &key).await;
        assert!(
            renditions,
            "{name}: the row does not say its renditions exist"
        );
    }
}

/// A picture with a red block in its stored top-left corner, grey elsewhere.
fn marked(w: u32, h: u32) -> RgbImage {
    ImageBuffer::from_fn(w, h, |x, y| {
        if x < w / 4 && y < h / 4 {
            Rgb([230, 20, 20])
        } else {
            Rgb([120, 120, 120])
        }
    })
}

fn is_red(p: &Rgb<u8>) -> bool {
    p[0] > 180 && p[1] < 80 && p[2] < 80
}

#[tokio::test]
async fn all_eight_exif_orientations_are_applied_to_the_pixels() {
    let app = TestApp::spawn().await;
    // Where the stored top-left corner appears once the orientation is applied
    // (column, row of the 2×2 corners), and whether width and height swap.
    let expected = [
        (1, (0, 0), false),
        (2, (1, 0), false),
        (3, (1, 1), false),
        (4, (0, 1), false),
        (5, (0, 0), true),
        (6, (1, 0), true),
        (7, (1, 1), true),
        (8, (0, 1), true),
    ];
    for (orientation, corner, swapped) in expected {
        let exif = Exif {
            orientation: Some(orientation),
            ..Exif::default()
        };
        let bytes = photos::jpeg_of(&marked(800, 400), &exif);
        let key = upload(&app, &format!("o{orientation}.jpg"), "image/jpeg", bytes).await;
        let shown = if swapped { (400, 800) } else { (800, 400) };
        let what = format!("orientation {orientation}");
        assert_renditions(&app, &key, shown, &what).await;
        let thumb = stored(&app, &key.rendition(Size::Thumb))
            .await
            .unwrap()
            .image;
        let (w, h) = thumb.dimensions();
        for cx in 0..2 {
            for cy in 0..2 {
                // The middle of each corner's block-sized region.
                let x = if cx == 0 { w / 8 } else { w - 1 - w / 8 };
                let y = if cy == 0 { h / 8 } else { h - 1 - h / 8 };
                assert_eq!(
                    is_red(thumb.get_pixel(x, y)),
                    (cx, cy) == corner,
                    "{what}: corner ({cx}, {cy}) of the {w}×{h} thumbnail"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_redelivered_event_does_not_encode_again() {
    let app = TestApp::spawn().await;
    let key = upload(
        &app,
        "once.jpg",
        "image/jpeg",
        photos::jpeg(1200, 800, [50, 60, 70], &Exif::default()),
    )
    .await;
    // Remove one rendition: a second encode would put it back.
    app.storage()
        .client()
        .delete_object()
        .bucket(app.storage().bucket())
        .key(key.rendition(Size::Thumb))
        .send()
        .await
        .unwrap();
    let summary = app.s3_event(&[&key.to_string()]).await.unwrap();
    assert_eq!(summary.uploaded, 0, "{summary:?}");
    assert_eq!(summary.ignored, 1, "{summary:?}");
    assert!(
        stored(&app, &key.rendition(Size::Thumb)).await.is_none(),
        "the redelivered event made the renditions again"
    );
}

#[tokio::test]
async fn pixels_that_cannot_be_decoded_are_rejected_with_a_reason() {
    let app = TestApp::spawn().await;
    let mut png = photos::png(300, 200);
    // Damage the compressed pixel data inside IDAT (the chunk structure stays whole).
    let idat = png.windows(4).position(|w| w == b"IDAT").unwrap();
    for b in &mut png[idat + 20..idat + 60] {
        *b ^= 0x5a;
    }
    let token = app.token("alice");
    let ticket = app
        .upload_urls(&token, &[("broken.png", "image/png", png.len())])
        .await
        .remove(0);
    assert_eq!(app.put(&ticket, png).await.status(), 200);
    let key = ImageKey::parse(ticket["key"].as_str().unwrap()).unwrap();
    let summary = app.s3_event(&[&key.to_string()]).await.unwrap();
    assert_eq!(summary.rejected, 1, "{summary:?}");
    let (status, reason) = app.image_state(key.image_id).await;
    assert_eq!(status, "rejected");
    assert!(
        reason.as_deref().unwrap().contains("could not be decoded"),
        "{reason:?}"
    );
    assert!(stored(&app, &key.rendition(Size::Thumb)).await.is_none());
}

#[tokio::test]
async fn a_photo_recorded_before_renditions_gets_them_from_the_processor() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let key = upload(
        &app,
        "old.jpg",
        "image/jpeg",
        photos::jpeg(
            1600,
            1200,
            [90, 40, 20],
            &Exif {
                taken: Some("2024:06:01 10:00:00"),
                ..Exif::default()
            },
        ),
    )
    .await;
    // As a row inspected before renditions existed looks: no flag, no objects.
    forget_renditions(&app, &key).await;
    let job = app
        .process_job_id(&token, &[key.image_id.to_string()])
        .await;
    run_to_completion(&app, job).await;
    assert_renditions(&app, &key, (1600, 1200), "made by the processor").await;
    let flag: bool = renditions_flag(&app, &key).await;
    assert!(flag);

    // The gallery: a thumbnail and a preview that are renditions, never the original.
    let status: Value = app
        .get(&format!("/api/jobs/{job}/status"), &token)
        .await
        .json()
        .await
        .unwrap();
    let gallery_id = status["galleryId"].as_str().unwrap();
    let gallery: Value = app
        .get(&format!("/api/galleries/{gallery_id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    let photo = &gallery["albums"][0]["images"][0];
    let (url, thumb, preview) = (
        photo["url"].as_str().unwrap(),
        photo["thumbUrl"].as_str().unwrap(),
        photo["previewUrl"].as_str().unwrap(),
    );
    assert!(url.contains("/uploads/"), "{url}");
    assert!(thumb.contains(&key.rendition(Size::Thumb)), "{thumb}");
    assert!(preview.contains(&key.rendition(Size::Preview)), "{preview}");
    let response = app.http.get(thumb).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    let bytes = response.bytes().await.unwrap();
    let image = image::load_from_memory(&bytes).unwrap();
    assert_eq!(image.width().max(image.height()), 360);
}

#[tokio::test]
async fn an_upload_settled_by_the_process_request_is_rendered_by_the_processor() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let bytes = photos::jpeg(
        1200,
        900,
        [30, 30, 90],
        &Exif {
            taken: Some("2024:06:01 10:00:00"),
            ..Exif::default()
        },
    );
    let ticket = app
        .upload_urls(&token, &[("lagging.jpg", "image/jpeg", bytes.len())])
        .await
        .remove(0);
    assert_eq!(app.put(&ticket, bytes).await.status(), 200);
    let key = ImageKey::parse(ticket["key"].as_str().unwrap()).unwrap();
    // No S3 event: the process request settles the upload itself, inspecting only.
    let job = app
        .process_job_id(&token, &[key.image_id.to_string()])
        .await;
    assert!(
        stored(&app, &key.rendition(Size::Thumb)).await.is_none(),
        "the API request rendered the photo"
    );
    run_to_completion(&app, job).await;
    assert_renditions(&app, &key, (1200, 900), "made by the processor").await;
}

/// Rows and objects as a photo without renditions looks (organize's uploads, or older ones).
async fn forget_renditions(app: &TestApp, key: &ImageKey) {
    app.db
        .client()
        .await
        .execute(
            "UPDATE images SET renditions = false WHERE id = $1",
            &[&key.image_id],
        )
        .await
        .unwrap();
    for size in Size::ALL {
        app.storage()
            .client()
            .delete_object()
            .bucket(app.storage().bucket())
            .key(key.rendition(size))
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn serves_background_backfill_makes_missing_renditions_once_and_skips_what_fails() {
    use momentarium_shared::usecase::backfill_renditions::backfill_renditions;
    let app = TestApp::spawn().await;
    let mut keys = Vec::new();
    for (i, name) in ["a.jpg", "b.jpg", "c.jpg"].into_iter().enumerate() {
        let bytes = photos::jpeg(1200, 900, [40 * i as u8, 90, 30], &Exif::default());
        let key = upload(&app, name, "image/jpeg", bytes).await;
        forget_renditions(&app, &key).await;
        keys.push(key);
    }
    // One whose original is gone from storage: it cannot be made, and is not retried.
    app.storage()
        .client()
        .delete_object()
        .bucket(app.storage().bucket())
        .key(keys[2].to_string())
        .send()
        .await
        .unwrap();

    let report = backfill_renditions(&app.app, &[], 20).await.unwrap();

    assert_eq!(report.made, 2, "{report:?}");
    assert_eq!(report.failed, vec![keys[2].image_id]);
    for key in &keys[..2] {
        assert_renditions(&app, key, (1200, 900), "made in the background").await;
        assert!(renditions_flag(&app, key).await);
    }
    // Nothing left but what failed, which the caller passes back.
    let again = backfill_renditions(&app.app, &report.failed, 20)
        .await
        .unwrap();
    assert_eq!(again.made, 0);
    assert!(again.failed.is_empty());
}
