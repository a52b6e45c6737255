//! Upload integrity: a checked photo cannot be swapped afterwards. An upload URL writes
//! once; what was inspected (its ETag) is what every later reader gets; a new version of
//! an inspected key is inspected again; the decoders bound themselves; originals are
//! served with the detected type. And the contract's loose ends, each against the real
//! S3-protocol server and the real HTTP stack.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use momentarium_shared::adapter::queue::JobMessage;
use momentarium_shared::adapter::s3::ServeAs;
use momentarium_shared::adapter::standard_webhooks::{SignedHeaders, WebhookSecret};
use momentarium_shared::domain::prepare::{DecodeLimits, MAX_EDGE, PrepareError, prepare_limited};
use momentarium_shared::domain::{ContentType, ImageKey};
use momentarium_shared::lambda::handle_s3_event;
use momentarium_shared::usecase::run_job::{Delivery, ProcessOutcome, run_job};
use momentarium_tests::gemini::{GeminiServer, Reply};
use momentarium_tests::photos::{self, Exif};
use momentarium_tests::{BUCKET, DEV_SECRET, TestApp, WEBHOOK_SECRET, events_dir, sign_jwt};
use serde_json::{Value, json};
use uuid::Uuid;

/// A valid JPEG and the same bytes with the frame header patched to claim 65500×65500:
/// the same length, so a presigned PUT bound to the length still fits.
fn photo_and_bomb() -> (Vec<u8>, Vec<u8>) {
    let photo = photos::jpeg(64, 48, [200, 120, 40], &Exif::default());
    let mut bomb = photo.clone();
    let sof = bomb
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline frame header");
    bomb[sof + 5..sof + 7].copy_from_slice(&65500u16.to_be_bytes());
    bomb[sof + 7..sof + 9].copy_from_slice(&65500u16.to_be_bytes());
    assert_eq!(photo.len(), bomb.len());
    (photo, bomb)
}

fn small_photo() -> Vec<u8> {
    photos::jpeg(40, 30, [1, 2, 3], &Exif::default())
}

/// Runs the job now, as a delivery with a minute to spare would.
async fn deliver_now(app: &TestApp, job: Uuid) -> ProcessOutcome {
    run_job(
        &app.app,
        job,
        Delivery {
            deadline: Instant::now() + Duration::from_secs(60),
        },
    )
    .await
    .unwrap()
}

/// PUTs to a ticket's URL with every header the ticket lists, plus `extra`.
async fn put_with(
    app: &TestApp,
    ticket: &Value,
    bytes: Vec<u8>,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app.http.put(ticket["url"].as_str().unwrap());
    for (name, value) in ticket["headers"].as_object().unwrap() {
        request = request.header(name.as_str(), value.as_str().unwrap());
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.body(bytes).send().await.unwrap()
}

async fn stored(app: &TestApp, key: &str) -> Vec<u8> {
    let key = ImageKey::parse(key).unwrap();
    app.storage().get(&key, None).await.unwrap().to_vec()
}

/// Replaces an object behind the upload URL's back, as a writer holding the bucket's
/// own credentials could: the case the ETag checks exist for.
async fn overwrite_out_of_band(app: &TestApp, key: &str, bytes: Vec<u8>) -> String {
    let out = app
        .storage()
        .client()
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .body(bytes.into())
        .send()
        .await
        .unwrap();
    out.e_tag().unwrap().to_string()
}

/// Delivers an ObjectCreated event for `key` carrying `etag`, as S3 would.
async fn s3_event_with_etag(app: &TestApp, key: &str, etag: &str) -> (usize, usize, usize) {
    let raw = std::fs::read_to_string(events_dir().join("on-upload.json")).unwrap();
    let mut event: Value = serde_json::from_str(&raw).unwrap();
    event["Records"][0]["s3"]["object"]["key"] = json!(key);
    event["Records"][0]["s3"]["object"]["eTag"] = json!(etag.trim_matches('"'));
    event["Records"][0]["s3"]["bucket"]["name"] = json!(BUCKET);
    let event = serde_json::from_value(event).unwrap();
    let summary = handle_s3_event(
        &app.app,
        lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default()),
    )
    .await
    .unwrap();
    (summary.uploaded, summary.rejected, summary.ignored)
}

async fn image_status(app: &TestApp, id: &str) -> (String, Option<String>, Option<String>) {
    let row = app
        .db
        .client()
        .await
        .query_one(
            "SELECT status, rejection_reason, etag FROM images WHERE id = $1",
            &[&Uuid::parse_str(id).unwrap()],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

#[tokio::test]
async fn a_second_put_to_an_upload_url_is_refused_and_the_checked_photo_stays() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let (photo, bomb) = photo_and_bomb();
    let ticket = app
        .upload_urls(&token, &[("x.jpg", "image/jpeg", photo.len())])
        .await
        .remove(0);
    assert_eq!(ticket["headers"]["if-none-match"], "*");
    let key = ticket["key"].as_str().unwrap().to_string();

    let first = put_with(&app, &ticket, photo.clone(), &[]).await;
    assert_eq!(first.status(), 200, "{}", first.text().await.unwrap());
    // The attack: the same URL, the same signed headers, the same length, new bytes.
    let second = put_with(&app, &ticket, bomb, &[]).await;
    let html = format!(
        "<html><script>alert(1)</script></html>{}",
        " ".repeat(10_000)
    );
    let html = html.as_bytes()[..photo.len()].to_vec();
    // The same again as an attacker would send it: leaving out the write-once header.
    let mut third = app.http.put(ticket["url"].as_str().unwrap());
    for (name, value) in ticket["headers"].as_object().unwrap() {
        if name != "if-none-match" {
            third = third.header(name.as_str(), value.as_str().unwrap());
        }
    }
    let third = third.body(html).send().await.unwrap();

    assert_eq!(second.status(), 412, "an upload URL must write once");
    assert_eq!(
        third.status(),
        403,
        "If-None-Match is signed into the URL: it cannot be left out"
    );
    assert_eq!(stored(&app, &key).await, photo, "the first bytes are kept");
    app.s3_event(&[&key]).await.unwrap();
    let id = ticket["imageId"].as_str().unwrap();
    let (status, _, etag) = image_status(&app, id).await;
    assert_eq!(status, "uploaded");
    assert!(etag.is_some(), "the inspected version is recorded");
}

#[tokio::test]
async fn a_new_version_of_an_inspected_upload_is_inspected_again_and_rejected() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let (photo, bomb) = photo_and_bomb();
    let ids = app
        .upload_photos(&token, &[("x.jpg", "image/jpeg", photo)])
        .await;
    let key = format!("uploads/{}/{}", user_id(&app, "alice").await, ids[0]);
    let (_, _, first_etag) = image_status(&app, &ids[0]).await;

    let new_etag = overwrite_out_of_band(&app, &key, bomb).await;
    assert_ne!(Some(new_etag.clone()), first_etag);
    let (uploaded, rejected, ignored) = s3_event_with_etag(&app, &key, &new_etag).await;

    assert_eq!((uploaded, rejected, ignored), (0, 1, 0));
    let (status, reason, _) = image_status(&app, &ids[0]).await;
    assert_eq!(status, "rejected");
    assert!(
        reason.unwrap().contains("65500×65500"),
        "rejected for its pixel count"
    );
    assert!(
        app.storage()
            .head(&ImageKey::parse(&key).unwrap())
            .await
            .is_err(),
        "the rejected object is deleted"
    );
    let response = app
        .post_json(
            "/api/galleries/process",
            &token,
            &json!({"imageIds": [ids[0]]}),
        )
        .await;
    assert_eq!(
        response.status(),
        422,
        "a rejected photo is never processed"
    );
}

#[tokio::test]
async fn a_repeated_event_for_the_inspected_version_changes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let ids = app
        .upload_photos(&token, &[("x.jpg", "image/jpeg", small_photo())])
        .await;
    let key = format!("uploads/{}/{}", user_id(&app, "alice").await, ids[0]);
    let (_, _, etag) = image_status(&app, &ids[0]).await;

    let counts = s3_event_with_etag(&app, &key, &etag.clone().unwrap()).await;

    assert_eq!(counts, (0, 0, 1), "a repeat of the same version is a no-op");
    assert_eq!(image_status(&app, &ids[0]).await.2, etag);
}

/// Two photos uploaded and inspected (64×48), a job asked for, then the first one's
/// object swapped out of band for another decodable photo (80×60), with no event: only
/// the recorded ETag can tell. `before_delivery` runs just before the job does.
async fn job_with_a_swapped_photo(
    before_delivery: impl AsyncFnOnce(&TestApp, Uuid),
) -> momentarium_tests::gemini::Seen {
    let gemini = GeminiServer::start(vec![Reply::answer(json!({
        "albums": [{"title": "One", "description": "d", "photos": [1, 2]}],
        "photos": [{"photo": 1, "caption": "c", "tags": []}]
    }))])
    .await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let token = app.token("alice");
    let (photo, _) = photo_and_bomb();
    let other = photos::jpeg(64, 48, [10, 20, 200], &Exif::default());
    let ids = app
        .upload_photos(
            &token,
            &[
                ("swapped.jpg", "image/jpeg", photo),
                ("kept.jpg", "image/jpeg", other),
            ],
        )
        .await;
    let job = app.process_job_id(&token, &ids).await;
    let key = format!("uploads/{}/{}", user_id(&app, "alice").await, ids[0]);
    overwrite_out_of_band(
        &app,
        &key,
        photos::jpeg(80, 60, [0, 255, 0], &Exif::default()),
    )
    .await;
    before_delivery(&app, Uuid::parse_str(&ids[0]).unwrap()).await;

    let outcome = deliver_now(&app, job).await;

    assert!(
        matches!(outcome, ProcessOutcome::Completed { .. }),
        "{outcome:?}"
    );
    let mut seen = gemini.seen();
    assert_eq!(seen.len(), 1);
    seen.remove(0)
}

#[tokio::test]
async fn the_model_sees_the_renditions_of_the_inspected_version_not_swapped_bytes() {
    let seen = job_with_a_swapped_photo(async |_, _| {}).await;
    assert_eq!(seen.images, 2, "both photos, from their renditions");
    assert_eq!(
        seen.max_edge, 64,
        "the swapped 80×60 bytes reached the model instead of the inspected 64×48 photo"
    );
}

#[tokio::test]
async fn the_processor_reads_only_the_inspected_version_of_an_original() {
    // A photo recorded before renditions existed: the processor reads its original, and
    // asks for the inspected version only.
    let seen = job_with_a_swapped_photo(async |app: &TestApp, id: Uuid| {
        app.db
            .client()
            .await
            .execute("UPDATE images SET renditions = false WHERE id = $1", &[&id])
            .await
            .unwrap();
    })
    .await;
    assert_eq!(
        seen.images, 1,
        "the swapped photo is not decoded or shown to the model"
    );
    assert_eq!(seen.max_edge, 64);
}

#[test]
fn the_decoders_refuse_a_header_over_the_pixel_limit_before_decoding() {
    let bomb = photos::jpeg_header_claiming(65500, 65500);
    let small_limit = DecodeLimits::with_max_pixels(1_000);
    let jpeg = photos::jpeg(64, 48, [9, 9, 9], &Exif::default());
    let png = photos::png(64, 48);

    let bomb_err = prepare_limited(
        &bomb,
        ContentType::Jpeg,
        None,
        MAX_EDGE,
        DecodeLimits::DEFAULT,
    )
    .unwrap_err();
    let jpeg_err =
        prepare_limited(&jpeg, ContentType::Jpeg, None, MAX_EDGE, small_limit).unwrap_err();
    let png_err = prepare_limited(&png, ContentType::Png, None, MAX_EDGE, small_limit).unwrap_err();
    let within = prepare_limited(
        &jpeg,
        ContentType::Jpeg,
        None,
        MAX_EDGE,
        DecodeLimits::with_max_pixels(64 * 48),
    );

    assert_eq!(
        bomb_err,
        PrepareError::TooManyPixels {
            width: 65500,
            height: 65500,
            limit: 150_000_000
        }
    );
    assert!(matches!(
        jpeg_err,
        PrepareError::TooManyPixels {
            width: 64,
            height: 48,
            ..
        }
    ));
    assert!(matches!(
        png_err,
        PrepareError::TooManyPixels {
            width: 64,
            height: 48,
            ..
        }
    ));
    assert!(within.is_ok(), "exactly at the limit is allowed");
}

#[tokio::test]
async fn originals_are_served_with_the_detected_type_and_never_as_a_page() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let ids = app
        .upload_photos(&token, &[("x.jpg", "image/jpeg", small_photo())])
        .await;
    let key = ImageKey::parse(&format!(
        "uploads/{}/{}",
        user_id(&app, "alice").await,
        ids[0]
    ))
    .unwrap();

    let mut answers = Vec::new();
    for serve_as in [Some(ContentType::Jpeg), Some(ContentType::Heic), None] {
        let url = app
            .storage()
            .presign_download(
                &key,
                ServeAs {
                    content_type: serve_as,
                },
            )
            .await
            .unwrap();
        let response = app.http.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        answers.push((header("content-type"), header("content-disposition")));
    }

    assert_eq!(
        answers,
        vec![
            (Some("image/jpeg".into()), Some("inline".into())),
            (Some("image/heic".into()), Some("attachment".into())),
            (
                Some("application/octet-stream".into()),
                Some("attachment".into())
            ),
        ]
    );
}

#[tokio::test]
async fn the_gallery_hands_out_originals_with_their_detected_type() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    // Declared and really a PNG; the URL must answer image/png whatever S3 stored.
    let png = photos::png(40, 30);
    let ids = app
        .upload_photos(&token, &[("x.png", "image/png", png)])
        .await;
    let job = app.process_job_id(&token, &ids).await;
    let outcome = deliver_now(&app, job).await;
    assert!(matches!(outcome, ProcessOutcome::Completed { .. }));
    let accepted: Value = app
        .get(&format!("/api/jobs/{job}/status"), &token)
        .await
        .json()
        .await
        .unwrap();
    let gallery: Value = app
        .get(accepted["resultUrl"].as_str().unwrap(), &token)
        .await
        .json()
        .await
        .unwrap();
    let url = gallery["albums"][0]["images"][0]["url"].as_str().unwrap();

    let response = app.http.get(url).send().await.unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.headers()["content-disposition"], "inline");
}

#[tokio::test]
async fn a_presigned_put_with_an_unsigned_acl_header_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let photo = small_photo();
    let tickets = app
        .upload_urls(
            &token,
            &[
                ("a.jpg", "image/jpeg", photo.len()),
                ("b.jpg", "image/jpeg", photo.len()),
            ],
        )
        .await;

    let with_acl = put_with(
        &app,
        &tickets[0],
        photo.clone(),
        &[("x-amz-acl", "public-read")],
    )
    .await;
    let with_meta = put_with(
        &app,
        &tickets[0],
        photo.clone(),
        &[("x-amz-meta-owner", "mallory")],
    )
    .await;
    let unchanged = put_with(&app, &tickets[1], photo.clone(), &[]).await;

    assert_eq!(with_acl.status(), 403);
    assert!(
        with_acl
            .text()
            .await
            .unwrap()
            .contains("headers present in the request which were not signed")
    );
    assert_eq!(with_meta.status(), 403);
    assert_eq!(
        unchanged.status(),
        200,
        "the same request without the extra header is accepted"
    );
}

#[tokio::test]
async fn a_presigned_put_missing_the_write_once_header_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let photo = small_photo();
    let ticket = app
        .upload_urls(&token, &[("a.jpg", "image/jpeg", photo.len())])
        .await
        .remove(0);
    let mut request = app.http.put(ticket["url"].as_str().unwrap());
    for (name, value) in ticket["headers"].as_object().unwrap() {
        if name != "if-none-match" {
            request = request.header(name.as_str(), value.as_str().unwrap());
        }
    }

    let response = request.body(photo).send().await.unwrap();

    assert_eq!(
        response.status(),
        403,
        "If-None-Match is signed: leaving it out breaks the signature"
    );
}

/// An HS256 dev token with these claims, signed as the server's dev tokens are.
fn dev_token(claims: &Value) -> String {
    sign_jwt(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &claims.to_string(),
        DEV_SECRET,
    )
}

#[tokio::test]
async fn a_dev_token_that_is_not_valid_yet_is_refused() {
    let app = TestApp::spawn().await;
    let now = chrono::Utc::now().timestamp();
    let claims = |nbf: i64| json!({"sub": "alice", "iss": "momentarium-dev", "iat": now, "exp": now + 3600, "nbf": nbf});

    let early = app
        .get("/api/galleries", &dev_token(&claims(now + 600)))
        .await;
    let valid = app
        .get("/api/galleries", &dev_token(&claims(now - 1)))
        .await;

    assert_eq!(early.status(), 401);
    let body: Value = early.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_token");
    assert_eq!(valid.status(), 200, "the same token with a past nbf works");
}

async fn user_id(app: &TestApp, subject: &str) -> Uuid {
    app.db
        .client()
        .await
        .query_one("SELECT id FROM users WHERE subject = $1", &[&subject])
        .await
        .unwrap()
        .get(0)
}

async fn post_delivery(app: &TestApp, job: Uuid, id: &str) -> (u16, Value) {
    let body = serde_json::to_string(&JobMessage::process(job)).unwrap();
    let now = chrono::Utc::now().timestamp();
    let secret = WebhookSecret::parse(WEBHOOK_SECRET).unwrap();
    let signature = secret.sign(id, now, body.as_bytes());
    let signed = SignedHeaders {
        id: id.to_string(),
        timestamp: now.to_string(),
        signature,
    };
    let response = app
        .http
        .post(app.url("/api/jobs/process"))
        .header("content-type", "application/json")
        .header("webhook-id", &signed.id)
        .header("webhook-timestamp", &signed.timestamp)
        .header("webhook-signature", &signed.signature)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_replayed_delivery_is_answered_without_running_anything() {
    let gemini = GeminiServer::start(vec![Reply::answer(json!({
        "albums": [{"title": "One", "description": "d", "photos": [1]}],
        "photos": [{"photo": 1, "caption": "c", "tags": []}]
    }))])
    .await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let token = app.token("alice");
    let ids = app
        .upload_photos(&token, &[("x.jpg", "image/jpeg", small_photo())])
        .await;
    let job = app.process_job_id(&token, &ids).await;
    let (first, answer) = post_delivery(&app, job, "msg_replay_1").await;
    assert_eq!((first, answer["status"].clone()), (200, json!("completed")));
    // Make a rerun visible: were the delivery run again, it would claim this pending job.
    app.db
        .client()
        .await
        .execute(
            "UPDATE processing_jobs SET status = 'pending', completed_at = NULL WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap();

    let (replayed, answer) = post_delivery(&app, job, "msg_replay_1").await;

    assert_eq!(replayed, 200);
    assert_eq!(answer["status"], "completed", "answered from the record");
    let (status, attempts): (String, i32) = {
        let row = app
            .db
            .client()
            .await
            .query_one(
                "SELECT status, attempts FROM processing_jobs WHERE id = $1",
                &[&job],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(
        (status.as_str(), attempts),
        ("pending", 1),
        "the replay claimed nothing"
    );
    assert_eq!(gemini.seen().len(), 1, "the replay did not ask the model");
}

#[tokio::test]
async fn an_oversized_delivery_body_is_a_413_in_the_error_shape() {
    let app = TestApp::spawn().await;

    let response = app
        .http
        .post(app.url("/api/jobs/process"))
        .header("content-type", "application/json")
        .body(vec![b' '; 300 * 1024])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 413);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "body_too_large");
}

#[tokio::test]
async fn an_overlong_uri_or_header_block_is_answered_in_the_error_shape() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let long_query = format!("/api/galleries?cursor={}", "a".repeat(20_000));
    let mut many = app.http.get(app.url("/api/galleries")).bearer_auth(&token);
    for i in 0..150 {
        many = many.header(format!("x-extra-{i}"), "1");
    }
    let big = app
        .http
        .get(app.url("/api/galleries"))
        .bearer_auth(&token)
        .header("x-big", "b".repeat(40_000));

    let answers = [
        app.get(&long_query, &token).await,
        many.send().await.unwrap(),
        big.send().await.unwrap(),
    ];

    let mut seen = Vec::new();
    for response in answers {
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("a JSON error body");
        seen.push((status, body["error"]["code"].as_str().unwrap().to_string()));
    }
    assert_eq!(
        seen,
        vec![
            (414, "uri_too_long".to_string()),
            (431, "headers_too_large".to_string()),
            (431, "headers_too_large".to_string()),
        ]
    );
}

#[tokio::test]
async fn filenames_are_limited_in_characters_not_bytes() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let request = |name: String| json!({"files": [{"filename": name, "contentType": "image/jpeg", "size": 10}]});

    let at_limit = app
        .post_json(
            "/api/uploads/generate-urls",
            &token,
            &request("é".repeat(255)),
        )
        .await;
    let over = app
        .post_json(
            "/api/uploads/generate-urls",
            &token,
            &request("é".repeat(256)),
        )
        .await;

    assert_eq!(at_limit.status(), 200, "255 characters (510 bytes) fit");
    assert_eq!(over.status(), 422);
}

#[tokio::test]
async fn content_types_outside_the_contracts_list_are_refused() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");

    let mut statuses = Vec::new();
    for content_type in [
        "IMAGE/JPEG",
        "image/jpg",
        "image/jpeg; q=1",
        " image/jpeg",
        "image/jpeg",
    ] {
        let response = app
            .post_json(
                "/api/uploads/generate-urls",
                &token,
                &json!({"files": [{"filename": "a.jpg", "contentType": content_type, "size": 10}]}),
            )
            .await;
        statuses.push(response.status().as_u16());
    }

    assert_eq!(statuses, vec![415, 415, 415, 415, 200]);
}

#[tokio::test]
async fn an_empty_cursor_and_an_idempotency_key_with_spaces_are_accepted() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let ids = app
        .upload_photos(&token, &[("x.jpg", "image/jpeg", small_photo())])
        .await;

    let page = app.get("/api/galleries?cursor=", &token).await;
    let keyed = |key: &'static str| {
        app.http
            .post(app.url("/api/galleries/process"))
            .bearer_auth(&token)
            .header("idempotency-key", key)
            .json(&json!({"imageIds": ids}))
            .send()
    };
    let first = keyed("trip to the coast 2025").await.unwrap();
    let again = keyed("trip to the coast 2025").await.unwrap();

    assert_eq!(page.status(), 200);
    assert_eq!(first.status(), 202);
    assert_eq!(again.status(), 202);
    let (a, b): (Value, Value) = (first.json().await.unwrap(), again.json().await.unwrap());
    assert_eq!(a["jobId"], b["jobId"], "the same key gives the same job");
}
