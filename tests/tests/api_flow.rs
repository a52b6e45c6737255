//! The whole path through the real handlers: generate-urls → presigned PUT (SigV4 checked
//! by the embedded S3 server) → S3 event → process → SQS (moto) → the received message to
//! process-job (the Gemini-protocol server as the model) → status → gallery.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use lambda_runtime::LambdaEvent;
use momentarium_shared::adapter::queue::JobMessage;
use momentarium_shared::adapter::standard_webhooks::{SignedHeaders, WebhookSecret, verify};
use momentarium_shared::lambda::handle_process_job_event;
use momentarium_tests::gemini::{GeminiServer, Reply};
use momentarium_tests::photos::{self, Exif};
use momentarium_tests::{TestApp, WEBHOOK_SECRET};
use serde_json::{Value, json};
use uuid::Uuid;

fn garden_exif() -> Exif {
    Exif {
        taken: Some("2025:05:10 09:40:12"),
        offset: Some("+02:00"),
        gps: Some((52.4559, 13.3063)),
        make: Some("Google"),
        model: Some("Pixel 8"),
        orientation: Some(6),
    }
}

fn coast_exif() -> Exif {
    Exif {
        taken: Some("2025:08:02 18:05:00"),
        offset: Some("+02:00"),
        gps: Some((54.9079, 8.3089)),
        make: Some("Apple"),
        model: Some("iPhone 15"),
        ..Exif::default()
    }
}

#[tokio::test]
async fn a_batch_goes_from_upload_urls_through_the_queue_to_a_gallery() {
    let gemini = GeminiServer::start(vec![Reply::answer(json!({
        "albums": [
            {"title": "Spring Garden", "description": "Flowers in May.", "cover": 1, "photos": [1, 3]},
            {"title": "North Sea Evening", "description": "Dunes at dusk.", "cover": 2, "photos": [2]}
        ],
        "photos": [{"photo": 1, "caption": "Tulips by the path.", "tags": ["garden"]}]
    }))])
    .await;
    let (app, sqs) = TestApp::spawn_with_gemini_and_sqs(&gemini).await;
    let token = app.token("alice");
    let garden = photos::jpeg(64, 48, [30, 140, 40], &garden_exif());
    let coast = photos::jpeg(80, 40, [20, 60, 160], &coast_exif());
    let png = photos::png(32, 32);

    // 1. Upload URLs: one per file, under the caller's prefix, never the filename.
    let tickets = app
        .upload_urls(
            &token,
            &[
                ("Garten 🌷.jpg", "image/jpeg", garden.len()),
                ("Strand.jpg", "image/jpeg", coast.len()),
                ("shot.png", "image/png", png.len()),
            ],
        )
        .await;
    assert_eq!(tickets.len(), 3);
    let user_id: Uuid = app
        .db
        .client()
        .await
        .query_one("SELECT id FROM users WHERE subject = 'alice'", &[])
        .await
        .unwrap()
        .get(0);
    for t in &tickets {
        let key = t["key"].as_str().unwrap();
        assert_eq!(
            key,
            format!("uploads/{user_id}/{}", t["imageId"].as_str().unwrap())
        );
        assert_eq!(t["method"], "PUT");
        assert!(t["url"].as_str().unwrap().contains("X-Amz-Signature="));
        assert!(t["expiresAt"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(tickets[0]["headers"]["content-type"], "image/jpeg");
    assert_eq!(
        tickets[0]["headers"]["content-length"],
        garden.len().to_string()
    );

    // 2. PUT the bytes to the presigned URLs.
    for (ticket, bytes) in tickets.iter().zip([&garden, &coast, &png]) {
        let response = app.put(ticket, bytes.to_vec()).await;
        assert_eq!(response.status(), 200);
    }

    // 3. The S3 event: every image inspected and recorded.
    let keys: Vec<&str> = tickets.iter().map(|t| t["key"].as_str().unwrap()).collect();
    let summary = app.s3_event(&keys).await.unwrap();
    assert_eq!(summary.uploaded, 3);
    let row = app
        .db
        .client()
        .await
        .query_one(
            "SELECT status, detected_content_type, width, height, taken_at, taken_at_offset_minutes, \
                    latitude, longitude, camera_make, camera_model, orientation, size_bytes, original_filename \
             FROM images WHERE id = $1",
            &[&Uuid::parse_str(tickets[0]["imageId"].as_str().unwrap()).unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "uploaded");
    assert_eq!(row.get::<_, String>(1), "image/jpeg");
    // Orientation 6 rotates by 90°: displayed 48×64.
    assert_eq!((row.get::<_, i32>(2), row.get::<_, i32>(3)), (48, 64));
    let taken: chrono::DateTime<chrono::Utc> = row.get(4);
    assert_eq!(taken.to_rfc3339(), "2025-05-10T07:40:12+00:00");
    assert_eq!(row.get::<_, Option<i16>>(5), Some(120));
    assert!((row.get::<_, f64>(6) - 52.4559).abs() < 1e-4);
    assert!((row.get::<_, f64>(7) - 13.3063).abs() < 1e-4);
    assert_eq!(row.get::<_, String>(8), "Google");
    assert_eq!(row.get::<_, String>(9), "Pixel 8");
    assert_eq!(row.get::<_, i16>(10), 6);
    assert_eq!(row.get::<_, i64>(11), garden.len() as i64);
    assert_eq!(row.get::<_, String>(12), "Garten 🌷.jpg");

    // 4. Ask for processing: 202, and one signed message on the queue.
    let ids: Vec<&str> = tickets
        .iter()
        .map(|t| t["imageId"].as_str().unwrap())
        .collect();
    let response = app
        .post_json(
            "/api/galleries/process",
            &token,
            &json!({ "imageIds": ids }),
        )
        .await;
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["status"], "pending");
    let job_id = Uuid::parse_str(accepted["jobId"].as_str().unwrap()).unwrap();
    let gallery_id = Uuid::parse_str(accepted["galleryId"].as_str().unwrap()).unwrap();
    assert_eq!(accepted["statusUrl"], format!("/api/jobs/{job_id}/status"));

    let messages = sqs.receive_all().await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    let body = message.body().unwrap();
    let parsed: JobMessage = serde_json::from_str(body).unwrap();
    assert_eq!(parsed, JobMessage::process(job_id));
    let attrs = message.message_attributes().unwrap();
    let attr = |name: &str| attrs[name].string_value().unwrap().to_string();
    let headers = SignedHeaders {
        id: attr("webhook-id"),
        timestamp: attr("webhook-timestamp"),
        signature: attr("webhook-signature"),
    };
    let secret = WebhookSecret::parse(WEBHOOK_SECRET).unwrap();
    verify(
        &secret,
        &headers,
        body.as_bytes(),
        chrono::Utc::now().timestamp(),
        Some(Duration::from_secs(300)),
    )
    .expect("the queue message carries a valid Standard Webhooks signature");
    assert_eq!(headers.id, format!("msg_{}", job_id.simple()));

    // 5. Status: pending, nothing to fetch yet.
    let status: Value = app
        .get(&format!("/api/jobs/{job_id}/status"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "pending");
    assert_eq!(status["imageCount"], 3);
    assert_eq!(status["galleryId"], gallery_id.to_string());
    assert_eq!(status["resultUrl"], Value::Null);
    let enqueued: Option<chrono::DateTime<chrono::Utc>> = app
        .db
        .client()
        .await
        .query_one(
            "SELECT enqueued_at FROM processing_jobs WHERE id = $1",
            &[&job_id],
        )
        .await
        .unwrap()
        .get(0);
    assert!(enqueued.is_some());

    // 6. The message as received from the queue, handed to process-job as Lambda's SQS
    //    event source mapping hands it over: nothing to redeliver, the job completed.
    let event = momentarium_tests::sqs_lambda_event(&sqs.queue_url, &messages);
    let response = handle_process_job_event(
        &app.app,
        &momentarium_shared::http::router(app.app.clone()),
        LambdaEvent::new(event, lambda_runtime::Context::default()),
    )
    .await
    .unwrap();
    assert_eq!(response, json!({"batchItemFailures": []}));
    assert!(gemini.violations().is_empty(), "{:?}", gemini.violations());
    assert_eq!(gemini.seen().len(), 1);
    assert_eq!(gemini.seen()[0].images, 3);
    let status: Value = app
        .get(&format!("/api/jobs/{job_id}/status"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "completed");
    assert_eq!(status["resultUrl"], format!("/api/galleries/{gallery_id}"));

    // 7. The gallery: albums in order, each photo once, presigned GETs that really work.
    let response = app
        .get(&format!("/api/galleries/{gallery_id}"), &token)
        .await;
    assert_eq!(response.status(), 200);
    let gallery: Value = response.json().await.unwrap();
    assert_eq!(gallery["jobId"], job_id.to_string());
    let albums = gallery["albums"].as_array().unwrap();
    assert_eq!(albums.len(), 2);
    assert_eq!(albums[0]["title"], "Spring Garden");
    assert_eq!(albums[0]["coverImageId"], ids[0]);
    let first = &albums[0]["images"][0];
    assert_eq!(first["imageId"], ids[0]);
    assert_eq!(
        (first["width"].as_i64(), first["height"].as_i64()),
        (Some(48), Some(64))
    );
    assert_eq!(first["takenAt"], "2025-05-10T07:40:12Z");
    let downloaded = app
        .http
        .get(first["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(downloaded.status(), 200);
    assert_eq!(downloaded.bytes().await.unwrap().to_vec(), garden);
    let mut seen: Vec<String> = albums
        .iter()
        .flat_map(|a| {
            a["images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["imageId"].as_str().unwrap().to_string())
        })
        .collect();
    seen.sort();
    let mut expected: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(seen, expected, "every photo appears exactly once");

    // 8. The list shows it.
    let list: Value = app
        .get("/api/galleries", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["galleries"][0]["galleryId"], gallery_id.to_string());
    assert_eq!(list["galleries"][0]["albumCount"], 2);
    assert_eq!(list["nextCursor"], Value::Null);
}

#[tokio::test]
async fn presigned_puts_are_refused_with_another_type_size_or_signature() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let bytes = photos::jpeg(16, 16, [1, 2, 3], &Exif::default());
    let ticket = app
        .upload_urls(&token, &[("a.jpg", "image/jpeg", bytes.len())])
        .await
        .remove(0);
    let url = ticket["url"].as_str().unwrap();
    // Every request below sends every header the ticket lists and changes one thing.

    let wrong_type = app
        .put_with(
            &ticket,
            url,
            &[("content-type", "image/png")],
            bytes.clone(),
        )
        .await;
    assert_eq!(wrong_type.status(), 403, "another content type");

    let mut longer = bytes.clone();
    longer.extend_from_slice(b"extra");
    let wrong_size = app.put_with(&ticket, url, &[], longer).await;
    assert_eq!(wrong_size.status(), 403, "another length");

    let sig_at = url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let mut tampered = url.to_string();
    let flipped = if &tampered[sig_at..sig_at + 1] == "0" {
        "1"
    } else {
        "0"
    };
    tampered.replace_range(sig_at..sig_at + 1, flipped);
    let forged = app.put_with(&ticket, &tampered, &[], bytes.clone()).await;
    assert_eq!(forged.status(), 403, "a tampered signature");

    // Nothing got in.
    assert!(app.storage().head(&key_of(&ticket)).await.is_err());

    // The unchanged request works.
    assert_eq!(app.put(&ticket, bytes).await.status(), 200);
}

fn key_of(ticket: &Value) -> momentarium_shared::domain::ImageKey {
    momentarium_shared::domain::ImageKey::parse(ticket["key"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_presigned_put_is_refused_after_its_url_expired_and_accepted_before() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let bytes = photos::jpeg(16, 16, [1, 2, 3], &Exif::default());
    let ticket = app
        .upload_urls(&token, &[("a.jpg", "image/jpeg", bytes.len())])
        .await
        .remove(0);
    // The same upload, signed longer ago than the upload TTL: expired now, no sleep needed.
    let ttl = app.app.config.storage.as_ref().unwrap().upload_url_ttl;
    let expired = app
        .storage()
        .presign_upload_signed_at(
            &key_of(&ticket),
            momentarium_shared::domain::ContentType::Jpeg,
            bytes.len() as u64,
            std::time::SystemTime::now() - ttl - Duration::from_secs(60),
        )
        .await
        .unwrap();

    let late = app
        .put_with(&ticket, &expired.url, &[], bytes.clone())
        .await;

    assert_eq!(late.status(), 403, "an expired URL");
    assert!(app.storage().head(&key_of(&ticket)).await.is_err());
    // The same request with the URL signed now is accepted.
    assert_eq!(app.put(&ticket, bytes).await.status(), 200);
}

#[tokio::test]
async fn processing_before_the_s3_event_settles_the_race_with_a_head() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let bytes = photos::jpeg(20, 10, [9, 9, 9], &garden_exif());
    let ticket = app
        .upload_urls(&token, &[("a.jpg", "image/jpeg", bytes.len())])
        .await
        .remove(0);
    assert_eq!(app.put(&ticket, bytes).await.status(), 200);
    // No S3 event yet.

    let response = app
        .post_json(
            "/api/galleries/process",
            &token,
            &json!({"imageIds": [ticket["imageId"]]}),
        )
        .await;

    assert_eq!(response.status(), 202);
    let status: String = app
        .db
        .client()
        .await
        .query_one(
            "SELECT status FROM images WHERE id = $1",
            &[&key_of(&ticket).image_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "uploaded");
    // The late event changes nothing.
    let summary = app
        .s3_event(&[ticket["key"].as_str().unwrap()])
        .await
        .unwrap();
    assert_eq!((summary.uploaded, summary.ignored), (0, 1));
}

#[tokio::test]
async fn processing_a_photo_never_uploaded_is_a_409() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let ticket = app
        .upload_urls(&token, &[("a.jpg", "image/jpeg", 100)])
        .await
        .remove(0);

    let response = app
        .post_json(
            "/api/galleries/process",
            &token,
            &json!({"imageIds": [ticket["imageId"]]}),
        )
        .await;

    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "upload_incomplete");
    let jobs: i64 = app
        .db
        .client()
        .await
        .query_one("SELECT count(*) FROM processing_jobs", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(jobs, 0);
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_job_and_another_body_is_refused() {
    let (app, sqs) = TestApp::spawn_with_sqs().await;
    let token = app.token("alice");
    let ids = app
        .upload_photos(
            &token,
            &[
                (
                    "a.jpg",
                    "image/jpeg",
                    photos::jpeg(8, 8, [1, 1, 1], &Exif::default()),
                ),
                (
                    "b.jpg",
                    "image/jpeg",
                    photos::jpeg(8, 8, [2, 2, 2], &Exif::default()),
                ),
            ],
        )
        .await;
    let send = |body: Value| {
        app.http
            .post(app.url("/api/galleries/process"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "batch-2026-11-22")
            .json(&body)
            .send()
    };

    let first: Value = send(json!({"imageIds": ids}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        send(json!({"imageIds": ids})),
        send(json!({"imageIds": ids}))
    );
    for again in [a.unwrap(), b.unwrap()] {
        assert_eq!(again.status(), 202);
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["jobId"], first["jobId"]);
        assert_eq!(again["galleryId"], first["galleryId"]);
    }
    let other = send(json!({"imageIds": [ids[0]]})).await.unwrap();
    assert_eq!(other.status(), 422);
    let body: Value = other.json().await.unwrap();
    assert_eq!(body["error"]["code"], "idempotency_key_reused");

    let jobs: i64 = app
        .db
        .client()
        .await
        .query_one("SELECT count(*) FROM processing_jobs", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(jobs, 1);
    assert_eq!(sqs.receive_all().await.len(), 1, "one message for one job");
}

#[tokio::test]
async fn another_users_job_image_and_gallery_are_404_like_unknown_ones() {
    let (app, _sqs) = TestApp::spawn_with_sqs().await;
    let alice = app.token("alice");
    let bob = app.token("bob");
    let ids = app
        .upload_photos(
            &alice,
            &[(
                "a.jpg",
                "image/jpeg",
                photos::jpeg(8, 8, [1, 1, 1], &Exif::default()),
            )],
        )
        .await;
    let accepted: Value = app
        .post_json("/api/galleries/process", &alice, &json!({"imageIds": ids}))
        .await
        .json()
        .await
        .unwrap();

    let job = accepted["jobId"].as_str().unwrap();
    let gallery = accepted["galleryId"].as_str().unwrap();
    let unknown = Uuid::new_v4().to_string();
    for (path, what) in [
        (format!("/api/jobs/{job}/status"), "job"),
        (format!("/api/jobs/{unknown}/status"), "job"),
        (format!("/api/galleries/{gallery}"), "gallery"),
        (format!("/api/galleries/{unknown}"), "gallery"),
    ] {
        let response = app.get(&path, &bob).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["message"], format!("{what} not found"));
    }
    let response = app
        .post_json("/api/galleries/process", &bob, &json!({"imageIds": ids}))
        .await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["details"]["ids"], json!(ids));
    let list: Value = app.get("/api/galleries", &bob).await.json().await.unwrap();
    assert_eq!(list["galleries"], json!([]));
}

#[tokio::test]
async fn galleries_are_listed_newest_first_a_page_at_a_time() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let ids = app
        .upload_photos(
            &token,
            &[(
                "a.jpg",
                "image/jpeg",
                photos::jpeg(8, 8, [1, 1, 1], &Exif::default()),
            )],
        )
        .await;
    let mut made = Vec::new();
    for _ in 0..5 {
        let accepted: Value = app
            .post_json("/api/galleries/process", &token, &json!({"imageIds": ids}))
            .await
            .json()
            .await
            .unwrap();
        made.push(accepted["galleryId"].as_str().unwrap().to_string());
    }
    made.reverse();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/api/galleries?limit=2".to_string(),
            Some(c) => format!("/api/galleries?limit=2&cursor={c}"),
        };
        let page: Value = app.get(&path, &token).await.json().await.unwrap();
        let items = page["galleries"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|g| g["galleryId"].as_str().unwrap().to_string()),
        );
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, made);
}
