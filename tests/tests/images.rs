//! `/api/images/{imageId}`: one photo's details and URLs, whatever its state, and the
//! permanent `/content` URL that redirects to a fresh presigned GET — the owner's only.

#![allow(clippy::unwrap_used)]

use momentarium_shared::domain::ImageKey;
use momentarium_shared::domain::prepare::Size;
use momentarium_tests::TestApp;
use momentarium_tests::photos::{self, Exif};
use serde_json::Value;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn details(app: &TestApp, token: &str, id: &str) -> (u16, Value) {
    let response = app.get(&format!("/api/images/{id}"), token).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Follows `/content?size=` by hand: the 302, its caching, then the object itself.
async fn content(app: &TestApp, token: &str, id: &str, size: &str) -> (u16, String, Vec<u8>) {
    let response = no_redirects()
        .get(app.url(&format!("/api/images/{id}/content?size={size}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    if status != 302 {
        let code = response.json::<Value>().await.unwrap()["error"]["code"]
            .as_str()
            .unwrap()
            .to_string();
        return (status, code, Vec::new());
    }
    assert_eq!(response.headers()["cache-control"], "private, max-age=60");
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let object = app.http.get(&location).send().await.unwrap();
    assert_eq!(object.status(), 200, "{location}");
    (302, location, object.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn an_uploaded_photo_has_its_details_and_every_size_behind_a_permanent_url() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let original = photos::jpeg(
        2000,
        1500,
        [120, 80, 40],
        &Exif {
            taken: Some("2025:07:14 18:30:00"),
            offset: Some("+02:00"),
            gps: Some((54.9079, 8.3089)),
            make: Some("Apple"),
            model: Some("iPhone 15"),
            orientation: Some(6),
        },
    );
    let id = app
        .upload_photos(&token, &[("sylt.jpg", "image/jpeg", original.clone())])
        .await
        .remove(0);

    let (status, body) = details(&app, &token, &id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["filename"], "sylt.jpg");
    assert_eq!(body["status"], "uploaded");
    assert_eq!(body["contentType"], "image/jpeg");
    assert_eq!(body["sizeBytes"], original.len());
    // As displayed: the orientation turns it upright.
    assert_eq!(
        (body["width"].as_i64(), body["height"].as_i64()),
        (Some(1500), Some(2000))
    );
    assert_eq!(body["takenAt"], "2025-07-14T16:30:00Z");
    assert_eq!(body["offsetMinutes"], 120);
    assert_eq!(body["cameraModel"], "iPhone 15");
    assert!((body["latitude"].as_f64().unwrap() - 54.9079).abs() < 1e-3);
    let thumb_url = body["thumbUrl"].as_str().unwrap();
    assert!(thumb_url.contains("/renditions/") && thumb_url.contains("thumb.jpg"));
    assert!(body["url"].as_str().unwrap().contains("/uploads/"));

    let (status, location, bytes) = content(&app, &token, &id, "original").await;
    assert_eq!(status, 302);
    assert!(location.contains("/uploads/"));
    assert_eq!(bytes, original, "the original, byte for byte");
    for (size, edge) in [("thumb", 360), ("preview", 1600)] {
        let (status, location, bytes) = content(&app, &token, &id, size).await;
        assert_eq!(status, 302, "{size}");
        assert!(location.contains("/renditions/"), "{size}: {location}");
        let image = image::load_from_memory(&bytes).unwrap();
        assert_eq!(
            (image.width(), image.height()),
            (edge * 3 / 4, edge),
            "{size}"
        );
    }
    // Two asks within the signing window get the same URL (a browser cache can hit).
    let first = content(&app, &token, &id, "thumb").await.1;
    let second = content(&app, &token, &id, "thumb").await.1;
    assert_eq!(first, second);
}

#[tokio::test]
async fn another_users_photo_is_not_found_and_states_without_content_say_why() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let bob = app.token("bob");
    let id = app
        .upload_photos(
            &alice,
            &[(
                "a.jpg",
                "image/jpeg",
                photos::jpeg(400, 300, [1, 2, 3], &Exif::default()),
            )],
        )
        .await
        .remove(0);

    assert_eq!(details(&app, &bob, &id).await.0, 404);
    assert_eq!(
        content(&app, &bob, &id, "thumb").await,
        (404, "not_found".into(), vec![])
    );

    // Asked for but never uploaded: details say so, and there is no content yet.
    let ticket = app
        .upload_urls(&alice, &[("later.jpg", "image/jpeg", 1000)])
        .await
        .remove(0);
    let pending = ticket["imageId"].as_str().unwrap();
    let (status, body) = details(&app, &alice, pending).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "pending_upload");
    assert!(body["url"].is_null() && body["thumbUrl"].is_null());
    assert_eq!(
        content(&app, &alice, pending, "original").await.1,
        "image_not_uploaded"
    );

    // A photo without renditions (a type this build cannot decode): its original only.
    let key = ImageKey::new(
        app.db
            .client()
            .await
            .query_one("SELECT id FROM users WHERE subject = 'alice'", &[])
            .await
            .unwrap()
            .get(0),
        uuid::Uuid::parse_str(&id).unwrap(),
    );
    app.db
        .client()
        .await
        .execute(
            "UPDATE images SET renditions = false WHERE id = $1",
            &[&key.image_id],
        )
        .await
        .unwrap();
    assert_eq!(
        content(&app, &alice, &id, "preview").await.1,
        "no_rendition"
    );
    assert_eq!(content(&app, &alice, &id, "original").await.0, 302);
    let (_, body) = details(&app, &alice, &id).await;
    assert!(body["thumbUrl"].is_null() && body["previewUrl"].is_null());
    assert!(!key.rendition(Size::Thumb).is_empty());
}
