//! Every function with its Lambda event shape: the API Gateway v2 events in `events/`
//! deserialize through `lambda_http` and drive the same router; the caller comes from the
//! JWT authorizer's claims in the request context, as on AWS.

#![allow(clippy::unwrap_used)]

use http_body_util::BodyExt;
use momentarium_shared::http;
use momentarium_tests::photos::{self, Exif};
use momentarium_tests::{TestApp, events_dir};
use serde_json::{Value, json};
use tower::ServiceExt;

const COGNITO_SUB: &str = "3f2c9a52-cognito-user-0001";

fn event(name: &str) -> Value {
    let raw = std::fs::read_to_string(events_dir().join(format!("{name}.json"))).unwrap();
    serde_json::from_str(&raw).unwrap()
}

fn with_path(mut event: Value, path: &str) -> Value {
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    event
}

async fn invoke(app: &TestApp, event: Value) -> (u16, Value) {
    let request =
        lambda_http::request::from_str(&event.to_string()).expect("an API Gateway v2 event");
    let response = http::router(app.app.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn each_api_event_drives_its_handler_with_the_authorizers_identity() {
    let app = TestApp::spawn().await;

    // generate-upload-urls, exactly as stored.
    let (status, body) = invoke(&app, event("generate-upload-urls")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["uploads"].as_array().unwrap().len(), 2);
    let user: Option<uuid::Uuid> = app
        .db
        .client()
        .await
        .query_opt("SELECT id FROM users WHERE subject = $1", &[&COGNITO_SUB])
        .await
        .unwrap()
        .map(|r| r.get(0));
    let user = user.expect("the user named by the authorizer's sub was created");
    assert!(
        body["uploads"][0]["key"]
            .as_str()
            .unwrap()
            .starts_with(&format!("uploads/{user}/"))
    );

    // Upload one photo for that user, then process-gallery with its id.
    let bytes = photos::jpeg(10, 10, [5, 5, 5], &Exif::default());
    let mut e = event("generate-upload-urls");
    e["body"] = json!(
        json!({"files": [{"filename": "a.jpg", "contentType": "image/jpeg", "size": bytes.len()}]})
            .to_string()
    );
    let (_, tickets) = invoke(&app, e).await;
    let ticket = &tickets["uploads"][0];
    assert_eq!(app.put(ticket, bytes).await.status(), 200);
    app.s3_event(&[ticket["key"].as_str().unwrap()])
        .await
        .unwrap();

    let mut e = event("process-gallery");
    e["body"] = json!(json!({"imageIds": [ticket["imageId"]]}).to_string());
    let (status, accepted) = invoke(&app, e).await;
    assert_eq!(status, 202, "{accepted}");
    let job = accepted["jobId"].as_str().unwrap();
    let gallery = accepted["galleryId"].as_str().unwrap();

    let (status, body) = invoke(
        &app,
        with_path(event("job-status"), &format!("/api/jobs/{job}/status")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["jobId"], job);

    // job-events through a Lambda-built app (no live events): the state once, with retry.
    let mut lambda_app = app.app.clone();
    lambda_app.live_events = false;
    let request = lambda_http::request::from_str(
        &with_path(event("job-events"), &format!("/api/jobs/{job}/events")).to_string(),
    )
    .unwrap();
    let response = http::router(lambda_app).oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(text.contains("event: status\n"), "{text}");
    assert!(text.contains(&format!("\"jobId\":\"{job}\"")), "{text}");

    let (status, body) = invoke(
        &app,
        with_path(event("get-gallery"), &format!("/api/galleries/{gallery}")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["galleryId"], gallery);

    let (status, body) = invoke(&app, event("list-galleries")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["galleries"][0]["galleryId"], gallery);

    let (status, body) = invoke(&app, event("list-jobs")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["jobs"][0]["jobId"], job);

    let image = ticket["imageId"].as_str().unwrap();
    let (status, body) = invoke(
        &app,
        with_path(event("get-image"), &format!("/api/images/{image}")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "uploaded");
    let (status, _) = invoke(
        &app,
        with_path(
            event("get-image-content"),
            &format!("/api/images/{image}/content"),
        ),
    )
    .await;
    assert_eq!(status, 302, "the stored event asks for size=thumb");

    // The stored job-status, get-gallery and get-image events name ids this user does
    // not have.
    for name in [
        "job-status",
        "job-events",
        "get-gallery",
        "get-image",
        "get-image-content",
    ] {
        let (status, _) = invoke(&app, event(name)).await;
        assert_eq!(status, 404, "{name}");
    }
}

#[tokio::test]
async fn an_event_without_authorizer_claims_is_refused() {
    let app = TestApp::spawn().await;
    let mut e = event("generate-upload-urls");
    e["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");

    // The Authorization header is not a dev token, and no authorizer vouched for it.
    let (status, body) = invoke(&app, e).await;

    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "invalid_token");
}

#[tokio::test]
async fn the_stored_s3_event_deserializes_and_unknown_keys_in_it_are_ignored() {
    let app = TestApp::spawn().await;
    // events/on-upload.json names a key no image row has.
    let raw = std::fs::read_to_string(events_dir().join("on-upload.json")).unwrap();
    let mut v: Value = serde_json::from_str(&raw).unwrap();
    v["Records"][0]["s3"]["bucket"]["name"] = json!(momentarium_tests::BUCKET);
    let event: aws_lambda_events::event::s3::S3Event = serde_json::from_value(v).unwrap();

    let summary = momentarium_shared::lambda::handle_s3_event(
        &app.app,
        lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default()),
    )
    .await
    .unwrap();

    assert_eq!(summary.ignored, 1);
}

#[tokio::test]
async fn sharing_events_drive_their_handlers_and_count_wrong_passwords_per_source_ip() {
    let app = TestApp::spawn().await;
    // A gallery of the Cognito user's, made through the API with a dev token for the sub.
    let token = app.token(COGNITO_SUB);
    let ids = app
        .upload_photos(
            &token,
            &[(
                "a.jpg",
                "image/jpeg",
                photos::jpeg(20, 20, [9, 9, 9], &Exif::default()),
            )],
        )
        .await;
    let job = app.process_job_id(&token, &ids).await;
    app.run_job_now(job).await.unwrap();
    let gallery: uuid::Uuid = app
        .db
        .client()
        .await
        .query_one(
            "SELECT gallery_id FROM processing_jobs WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap()
        .get(0);
    let album: uuid::Uuid = app
        .db
        .client()
        .await
        .query_one("SELECT id FROM albums WHERE gallery_id = $1", &[&gallery])
        .await
        .unwrap()
        .get(0);

    // share-gallery as stored (downloads off, no expiry: nothing in it depends on the date).
    let (status, created) = invoke(
        &app,
        with_path(
            event("share-gallery"),
            &format!("/api/galleries/{gallery}/shares"),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let url = created["url"].as_str().unwrap();
    let link = url
        .strip_prefix("https://id.execute-api.eu-central-1.amazonaws.com/s/")
        .unwrap_or_else(|| panic!("the page is on the API's https origin: {url}"));
    assert_eq!(created["allowDownload"], false);

    // shared-view without its password header: the link has none.
    let mut open = with_path(event("shared-view"), &format!("/api/shared/{link}"));
    open["headers"]
        .as_object_mut()
        .unwrap()
        .remove("share-password");
    let (status, view) = invoke(&app, open).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["albums"][0]["images"][0]["imageId"], ids[0].as_str());

    // A link with a password: the stored event's wrong guess, five times from its
    // sourceIp, locks that address; another sourceIp still gets to try.
    let created: Value = app
        .post_json(
            &format!("/api/galleries/{gallery}/shares"),
            &token,
            &json!({"password": "right"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let link = created["url"]
        .as_str()
        .unwrap()
        .rsplit_once("/s/")
        .unwrap()
        .1
        .to_string();
    let wrong = with_path(event("shared-view"), &format!("/api/shared/{link}"));
    for _ in 0..5 {
        let (status, body) = invoke(&app, wrong.clone()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("wrong_password"))
        );
    }
    let (status, body) = invoke(&app, wrong.clone()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("too_many_attempts"))
    );
    let mut elsewhere = wrong;
    elsewhere["requestContext"]["http"]["sourceIp"] = json!("198.51.100.23");
    let (status, _) = invoke(&app, elsewhere).await;
    assert_eq!(status, 401);

    // add-album-member for this user's album, then shared-with-me (the owner's own list
    // is empty: sharing is with others).
    let (status, member) = invoke(
        &app,
        with_path(
            event("add-album-member"),
            &format!("/api/albums/{album}/members"),
        ),
    )
    .await;
    assert_eq!(status, 201, "{member}");
    let (status, mine) = invoke(&app, event("shared-with-me")).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["albums"], json!([]));

    // The stored events name a gallery, an album and a token nobody has.
    for name in ["share-gallery", "add-album-member", "shared-view"] {
        let (status, _) = invoke(&app, event(name)).await;
        assert_eq!(status, 404, "{name}");
    }
}

#[tokio::test]
async fn cancel_and_retry_events_drive_their_handlers() {
    let app = TestApp::spawn().await;
    let token = app.token(COGNITO_SUB);
    let ids = app
        .upload_photos(
            &token,
            &[(
                "a.jpg",
                "image/jpeg",
                photos::jpeg(20, 20, [9, 9, 9], &Exif::default()),
            )],
        )
        .await;
    let job = app.process_job_id(&token, &ids).await;
    let (status, body) = invoke(
        &app,
        with_path(event("cancel-job"), &format!("/api/jobs/{job}/cancel")),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("cancelled")),
        "{body}"
    );
    let (status, body) = invoke(
        &app,
        with_path(event("retry-job"), &format!("/api/jobs/{job}/retry")),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_ne!(body["jobId"], job.to_string());
    // The stored events name a job nobody has.
    for name in ["cancel-job", "retry-job"] {
        let (status, _) = invoke(&app, event(name)).await;
        assert_eq!(status, 404, "{name}");
    }
}

#[tokio::test]
async fn delete_events_drive_their_handlers() {
    let app = TestApp::spawn().await;
    let token = app.token(COGNITO_SUB);
    let ids = app
        .upload_photos(
            &token,
            &[
                (
                    "a.jpg",
                    "image/jpeg",
                    photos::jpeg(20, 20, [9, 9, 9], &Exif::default()),
                ),
                (
                    "b.jpg",
                    "image/jpeg",
                    photos::jpeg(20, 20, [90, 9, 9], &Exif::default()),
                ),
            ],
        )
        .await;
    let job = app.process_job_id(&token, &ids).await;
    app.run_job_now(job).await.unwrap();
    let gallery: uuid::Uuid = app
        .db
        .client()
        .await
        .query_one(
            "SELECT gallery_id FROM processing_jobs WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap()
        .get(0);
    let (status, _) = invoke(
        &app,
        with_path(event("delete-image"), &format!("/api/images/{}", ids[0])),
    )
    .await;
    assert_eq!(status, 204);
    // delete-gallery as stored asks withPhotos=true: the other photo goes too.
    let (status, _) = invoke(
        &app,
        with_path(
            event("delete-gallery"),
            &format!("/api/galleries/{gallery}"),
        ),
    )
    .await;
    assert_eq!(status, 204);
    let left: i64 = app
        .db
        .client()
        .await
        .query_one("SELECT count(*) FROM images", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    for name in ["delete-image", "delete-gallery"] {
        let (status, _) = invoke(&app, event(name)).await;
        assert_eq!(status, 404, "{name}");
    }
    // get-me and patch-me: the authorizer's subject's settings.
    let (status, body) = invoke(&app, event("patch-me")).await;
    assert_eq!(
        (status, body["language"].as_str()),
        (200, Some("es")),
        "{body}"
    );
    let (status, body) = invoke(&app, event("get-me")).await;
    assert_eq!(
        (status, body["displayName"].as_str()),
        (200, Some("Ana Souza")),
        "{body}"
    );
    assert_eq!(body["subject"], COGNITO_SUB);
    // get-usage: the same caller's month.
    let (status, body) = invoke(&app, event("get-usage")).await;
    assert_eq!(
        (status, body["tier"].as_str()),
        (200, Some("free")),
        "{body}"
    );
    // delete-me: the authorizer's subject's account, then no account to delete.
    let (status, _) = invoke(&app, event("delete-me")).await;
    assert_eq!(status, 204);
    let (status, _) = invoke(&app, event("delete-me")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn generation_events_drive_their_handlers() {
    use momentarium_tests::image_providers::{ImageReply, ImageServer};
    let gemini = ImageServer::gemini(vec![ImageReply::Picture]).await;
    let openai = ImageServer::openai(vec![ImageReply::Picture]).await;
    let app = TestApp::spawn_with_image_providers(&gemini, &openai, &[]).await;
    let token = app.token(COGNITO_SUB);
    let photo = app.upload_samples(&token, 1).await.remove(0);
    // The stored events name a photo and a generation nobody has.
    let (status, body) = invoke(&app, event("create-generation")).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = invoke(&app, event("create-edit")).await;
    assert_eq!(status, 404);
    let (status, _) = invoke(&app, event("get-generation")).await;
    assert_eq!(status, 404);
    // With the caller's own photo as the reference, and as the photo edited.
    let mut create = event("create-generation");
    let mut stored: Value = serde_json::from_str(create["body"].as_str().unwrap()).unwrap();
    stored["referenceImageIds"] = json!([photo]);
    create["body"] = json!(stored.to_string());
    let (status, body) = invoke(&app, create).await;
    assert_eq!(status, 202, "{body}");
    let generation = body["generationId"].as_str().unwrap().to_string();
    let (status, body) = invoke(
        &app,
        with_path(event("create-edit"), &format!("/api/images/{photo}/edits")),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = invoke(
        &app,
        with_path(
            event("get-generation"),
            &format!("/api/generations/{generation}"),
        ),
    )
    .await;
    assert_eq!(
        (status, body["prompt"].as_str().is_some()),
        (200, true),
        "{body}"
    );
    let (status, body) = invoke(&app, event("list-generations")).await;
    assert_eq!(status, 200);
    assert_eq!(body["generations"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn search_events_drive_their_handlers() {
    let app = TestApp::spawn().await;
    let (status, body) = invoke(&app, event("search")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["understood"]["place"]["countryCode"], "PT");
    assert_eq!(body["understood"]["text"], "beach at sunset");
    assert_eq!(body["mode"], "keyword");
    let (status, body) = invoke(&app, event("search-history")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["searches"][0]["query"],
        "beach at sunset in Portugal last summer"
    );
    let (status, body) = invoke(&app, event("forget-search-history")).await;
    assert_eq!((status, body["deleted"].as_u64()), (200, Some(1)));
}
