//! HEIC photos made by real encoders (`tests/fixtures/heic/make.sh`: Debian's heif-enc,
//! and libheif's API for a rotated one) get their renditions like any photo: decoded with
//! libheif, the file's own rotation applied and its EXIF orientation not, GPS and time
//! read from its EXIF.

#![allow(clippy::unwrap_used)]

use image::RgbImage;
use momentarium_shared::domain::prepare::Size;
use momentarium_tests::TestApp;
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/heic/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

async fn thumbnail(app: &TestApp, url: &str) -> RgbImage {
    let response = app.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    image::load_from_memory(&response.bytes().await.unwrap())
        .unwrap()
        .into_rgb8()
}

fn red_corner(thumb: &RgbImage) -> (u32, u32) {
    let (w, h) = thumb.dimensions();
    let mut found = Vec::new();
    for cx in 0..2 {
        for cy in 0..2 {
            let x = if cx == 0 { w / 8 } else { w - 1 - w / 8 };
            let y = if cy == 0 { h / 8 } else { h - 1 - h / 8 };
            let p = thumb.get_pixel(x, y);
            if p[0] > 180 && p[1] < 90 && p[2] < 90 {
                found.push((cx, cy));
            }
        }
    }
    assert_eq!(found.len(), 1, "one red corner expected, found {found:?}");
    found[0]
}

#[tokio::test]
async fn heic_photos_get_upright_renditions_and_their_exif_is_read() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    // (fixture, size as shown, where the red block shows)
    let cases = [
        ("landscape.heic", (640, 480), (0, 0)),
        // EXIF says Orientation 6; a HEIF viewer does not apply it.
        ("exif-gps.heic", (640, 480), (0, 0)),
        // Stored landscape, rotated 90° clockwise by its irot box.
        ("irot.heic", (480, 640), (1, 0)),
    ];
    for (name, (w, h), corner) in cases {
        let id = app
            .upload_photos(&token, &[(name, "image/heic", fixture(name))])
            .await
            .remove(0);
        let body: Value = app
            .get(&format!("/api/images/{id}"), &token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["status"], "uploaded", "{name}: {body}");
        assert_eq!(body["contentType"], "image/heic", "{name}");
        assert_eq!(
            (body["width"].as_u64(), body["height"].as_u64()),
            (Some(w), Some(h)),
            "{name}: the size as shown"
        );
        let thumb = thumbnail(&app, body["thumbUrl"].as_str().unwrap()).await;
        let long = u64::from(Size::Thumb.long_edge());
        let expected = if w > h {
            (long, long * h / w)
        } else {
            (long * w / h, long)
        };
        assert_eq!(
            (u64::from(thumb.width()), u64::from(thumb.height())),
            expected,
            "{name}"
        );
        assert_eq!(red_corner(&thumb), corner, "{name}");
        let preview = thumbnail(&app, body["previewUrl"].as_str().unwrap()).await;
        assert_eq!(
            (u64::from(preview.width()), u64::from(preview.height())),
            (w, h),
            "{name}: a preview is never enlarged"
        );
        if name == "exif-gps.heic" {
            assert!(
                (body["latitude"].as_f64().unwrap() - 54.9079).abs() < 1e-3,
                "{body}"
            );
            assert!(
                (body["longitude"].as_f64().unwrap() - 8.3089).abs() < 1e-3,
                "{body}"
            );
            assert_eq!(body["takenAt"], "2025-08-02T16:20:00Z", "{body}");
            assert_eq!(body["cameraModel"], "iPhone 15");
        }
    }
}
