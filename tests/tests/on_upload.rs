//! on-upload: the S3 event handler inspects each object and records or rejects it.

#![allow(clippy::unwrap_used)]

use momentarium_shared::adapter::postgres as db;
use momentarium_shared::domain::ImageKey;
use momentarium_shared::lambda::S3Summary;
use momentarium_tests::photos::{self, Exif};
use momentarium_tests::{TestApp, test_config};
use serde_json::Value;
use uuid::Uuid;

/// Gets an upload URL declaring `declared` and `len`, then writes `bytes` straight to the
/// bucket (bypassing the signed size, as a broken or hostile client could not, to test
/// inspection on its own) and delivers the event.
async fn upload_declared(
    app: &TestApp,
    declared: &str,
    len: usize,
    bytes: Vec<u8>,
) -> (ImageKey, S3Summary) {
    let token = app.token("alice");
    let ticket = app
        .upload_urls(&token, &[("photo", declared, len)])
        .await
        .remove(0);
    let key = ImageKey::parse(ticket["key"].as_str().unwrap()).unwrap();
    app.storage()
        .client()
        .put_object()
        .bucket(app.storage().bucket())
        .key(key.to_string())
        .body(bytes.into())
        .send()
        .await
        .unwrap();
    let summary = app.s3_event(&[&key.to_string()]).await.unwrap();
    (key, summary)
}

#[tokio::test]
async fn files_that_are_not_what_they_claim_are_rejected_with_a_reason_and_deleted() {
    let app = TestApp::spawn().await;
    let jpeg = photos::jpeg(40, 30, [10, 20, 30], &Exif::default());
    let mut truncated = jpeg.clone();
    truncated.truncate(jpeg.len() * 2 / 3);
    let png = photos::png(16, 16);
    let bomb = photos::jpeg_header_claiming(30_000, 30_000);

    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        (
            "declared jpeg, really png",
            "image/jpeg",
            png.clone(),
            "declared as image/jpeg but is really image/png",
        ),
        (
            "not an image",
            "image/jpeg",
            b"#!/bin/sh\nrm -rf /\n".to_vec(),
            "not a JPEG, PNG, WebP or HEIC",
        ),
        ("truncated", "image/jpeg", truncated.clone(), "cut short"),
        (
            "decompression bomb",
            "image/jpeg",
            bomb.clone(),
            "over the limit",
        ),
        ("empty", "image/jpeg", Vec::new(), "empty"),
        (
            "declared webp, really jpeg",
            "image/webp",
            jpeg.clone(),
            "really image/jpeg",
        ),
    ];
    for (name, declared, bytes, expected) in cases {
        let len = bytes.len().max(1);
        let (key, summary) = upload_declared(&app, declared, len, bytes).await;

        assert_eq!(summary.rejected, 1, "{name}: {summary:?}");
        let (status, reason) = app.image_state(key.image_id).await;
        assert_eq!(status, "rejected", "{name}");
        let reason = reason.unwrap();
        assert!(reason.contains(expected), "{name}: reason was {reason:?}");
        assert!(
            app.storage().head(&key).await.is_err(),
            "{name}: the object was not deleted"
        );
    }
}

#[tokio::test]
async fn a_size_other_than_the_declared_one_is_rejected() {
    let app = TestApp::spawn().await;
    let jpeg = photos::jpeg(40, 30, [10, 20, 30], &Exif::default());

    let (key, summary) = upload_declared(&app, "image/jpeg", jpeg.len() + 10, jpeg).await;

    assert_eq!(summary.rejected, 1);
    let (_, reason) = app.image_state(key.image_id).await;
    assert!(reason.unwrap().contains("were declared"));
}

#[tokio::test]
async fn png_and_webp_are_accepted_with_their_dimensions() {
    let app = TestApp::spawn().await;
    for (declared, bytes, dims) in [
        ("image/png", photos::png(33, 17), (33, 17)),
        ("image/webp", photos::webp(21, 12), (21, 12)),
    ] {
        let (key, summary) = upload_declared(&app, declared, bytes.len(), bytes).await;
        assert_eq!(summary.uploaded, 1, "{declared}");
        let row = app
            .db
            .client()
            .await
            .query_one(
                "SELECT width, height, detected_content_type FROM images WHERE id = $1",
                &[&key.image_id],
            )
            .await
            .unwrap();
        assert_eq!(
            (row.get::<_, i32>(0), row.get::<_, i32>(1)),
            dims,
            "{declared}"
        );
        assert_eq!(row.get::<_, String>(2), declared);
    }
}

#[tokio::test]
async fn the_same_event_twice_changes_nothing_the_second_time() {
    let app = TestApp::spawn().await;
    let jpeg = photos::jpeg(40, 30, [10, 20, 30], &Exif::default());
    let (key, first) = upload_declared(&app, "image/jpeg", jpeg.len(), jpeg).await;
    assert_eq!(first.uploaded, 1);
    let before: Value = app
        .db
        .client()
        .await
        .query_one(
            "SELECT to_jsonb(images) FROM images WHERE id = $1",
            &[&key.image_id],
        )
        .await
        .unwrap()
        .get(0);

    let second = app.s3_event(&[&key.to_string()]).await.unwrap();

    assert_eq!(
        second,
        S3Summary {
            ignored: 1,
            ..S3Summary::default()
        }
    );
    let after: Value = app
        .db
        .client()
        .await
        .query_one(
            "SELECT to_jsonb(images) FROM images WHERE id = $1",
            &[&key.image_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(before, after);
}

#[tokio::test]
async fn unknown_keys_are_ignored_and_one_bad_record_does_not_stop_the_others() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let good = photos::jpeg(40, 30, [10, 20, 30], &Exif::default());
    let tickets = app
        .upload_urls(
            &token,
            &[
                ("good.jpg", "image/jpeg", good.len()),
                ("bad.jpg", "image/jpeg", 11),
            ],
        )
        .await;
    assert_eq!(app.put(&tickets[0], good).await.status(), 200);
    assert_eq!(
        app.put(&tickets[1], b"hello world".to_vec()).await.status(),
        200
    );
    let stranger = ImageKey::new(Uuid::new_v4(), Uuid::new_v4()).to_string();

    let summary = app
        .s3_event(&[
            "uploads/example.txt",
            "uploads/my+holiday+photo%281%29.jpg",
            &stranger,
            tickets[1]["key"].as_str().unwrap(),
            tickets[0]["key"].as_str().unwrap(),
        ])
        .await
        .unwrap();

    assert_eq!(
        summary,
        S3Summary {
            uploaded: 1,
            rejected: 1,
            ignored: 3,
            failed: 0
        }
    );
}

#[tokio::test]
async fn a_database_outage_fails_the_event_so_lambda_retries_it() {
    let app = TestApp::spawn().await;
    let jpeg = photos::jpeg(40, 30, [10, 20, 30], &Exif::default());
    let token = app.token("alice");
    let ticket = app
        .upload_urls(&token, &[("a.jpg", "image/jpeg", jpeg.len())])
        .await
        .remove(0);
    assert_eq!(app.put(&ticket, jpeg).await.status(), 200);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = test_config(&format!("postgres://postgres@127.0.0.1:{port}/none"));
    let mut broken = app.app.clone();
    broken.pool = db::create_pool(&down.database).unwrap();

    let event = {
        let raw = std::fs::read_to_string(momentarium_tests::events_dir().join("on-upload.json"))
            .unwrap();
        let mut v: Value = serde_json::from_str(&raw).unwrap();
        v["Records"][0]["s3"]["object"]["key"] = ticket["key"].clone();
        v["Records"][0]["s3"]["bucket"]["name"] = momentarium_tests::BUCKET.into();
        serde_json::from_value(v).unwrap()
    };
    let result = momentarium_shared::lambda::handle_s3_event(
        &broken,
        lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default()),
    )
    .await;

    assert!(
        result.is_err(),
        "the invocation must fail so the event is retried"
    );
    // The retry, with the database back, records it.
    let summary = app
        .s3_event(&[ticket["key"].as_str().unwrap()])
        .await
        .unwrap();
    assert_eq!(summary.uploaded, 1);
}
