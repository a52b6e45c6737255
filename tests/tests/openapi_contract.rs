//! `openapi.yaml` is kept true: real responses from the running app, good and bad, are
//! validated against the schemas it documents for their route and status.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use momentarium_shared::adapter::queue::{JobMessage, SignedMessage};
use momentarium_shared::adapter::standard_webhooks::WebhookSecret;
use momentarium_tests::gemini::{GeminiServer, Reply};
use momentarium_tests::photos::{self, Exif};
use momentarium_tests::{TestApp, WEBHOOK_SECRET};
use serde_json::{Value, json};
use uuid::Uuid;

struct Spec(Value);

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl Spec {
    fn load() -> Self {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        Self(serde_norway::from_str(&text).expect("openapi.yaml parses"))
    }

    /// Checks `body`, returned with `status` by `method template`, against the spec.
    fn check(&self, method: &str, template: &str, status: u16, body: &Value) {
        let mut pointer = format!(
            "/paths/{}/{}/responses/{}",
            escape(template),
            method,
            status
        );
        let response = self
            .0
            .pointer(&pointer)
            .unwrap_or_else(|| panic!("{method} {template} {status} is not documented"));
        if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
            pointer = reference.trim_start_matches('#').to_string();
        }
        pointer.push_str("/content/application~1json/schema");
        assert!(
            self.0.pointer(&pointer).is_some(),
            "no JSON schema at {pointer}"
        );
        let mut root = self.0.clone();
        root["$ref"] = json!(format!(
            "#{}",
            pointer.replace('{', "%7B").replace('}', "%7D")
        ));
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .expect("the spec compiles as JSON Schema");
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {template} {status} does not match openapi.yaml:\n{}\nbody: {body}",
            errors.join("\n")
        );
    }
}

async fn call(
    app: &TestApp,
    spec: &Spec,
    method: &str,
    template: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .http
        .request(method.to_uppercase().parse().unwrap(), app.url(path));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    spec.check(method, template, status, &body);
    (status, body)
}

#[tokio::test]
async fn real_responses_match_the_documented_schemas() {
    let spec = Spec::load();
    let (app, _sqs) = TestApp::spawn_with_sqs().await;
    let token = app.token("alice");
    let t = Some(token.as_str());

    call(&app, &spec, "get", "/api/health", "/api/health", None, None).await;

    let (status, _) = call(
        &app,
        &spec,
        "post",
        "/api/uploads/generate-urls",
        "/api/uploads/generate-urls",
        t,
        Some(json!({"files": [{"filename": "a.jpg", "contentType": "image/jpeg", "size": 10}]})),
    )
    .await;
    assert_eq!(status, 200);
    for bad in [
        json!({"files": []}),
        json!({"files": "x"}),
        json!({"files": [{"filename": "a.gif", "contentType": "image/gif", "size": 10}]}),
        json!({"files": [{"filename": "a.jpg", "contentType": "image/jpeg", "size": 1_000_000_000}]}),
    ] {
        let (status, _) = call(
            &app,
            &spec,
            "post",
            "/api/uploads/generate-urls",
            "/api/uploads/generate-urls",
            t,
            Some(bad),
        )
        .await;
        assert!((400..500).contains(&status));
    }
    call(
        &app,
        &spec,
        "post",
        "/api/uploads/generate-urls",
        "/api/uploads/generate-urls",
        None,
        Some(json!({})),
    )
    .await;

    let ids = app
        .upload_photos(
            &token,
            &[(
                "a.jpg",
                "image/jpeg",
                photos::jpeg(12, 9, [3, 4, 5], &Exif::default()),
            )],
        )
        .await;
    let (status, accepted) = call(
        &app,
        &spec,
        "post",
        "/api/galleries/process",
        "/api/galleries/process",
        t,
        Some(json!({"imageIds": ids})),
    )
    .await;
    assert_eq!(status, 202);
    for bad in [
        json!({"imageIds": [Uuid::new_v4()]}),
        json!({"imageIds": [ids[0], ids[0]]}),
        json!({"imageIds": "nope"}),
    ] {
        call(
            &app,
            &spec,
            "post",
            "/api/galleries/process",
            "/api/galleries/process",
            t,
            Some(bad),
        )
        .await;
    }
    let pending = app
        .upload_urls(&token, &[("p.jpg", "image/jpeg", 50)])
        .await;
    let (status, _) = call(
        &app,
        &spec,
        "post",
        "/api/galleries/process",
        "/api/galleries/process",
        t,
        Some(json!({"imageIds": [pending[0]["imageId"]]})),
    )
    .await;
    assert_eq!(status, 409);

    let job = accepted["jobId"].as_str().unwrap();
    let gallery = accepted["galleryId"].as_str().unwrap();
    let status_t = "/api/jobs/{jobId}/status";
    call(
        &app,
        &spec,
        "get",
        status_t,
        &format!("/api/jobs/{job}/status"),
        t,
        None,
    )
    .await;
    call(
        &app,
        &spec,
        "get",
        status_t,
        &format!("/api/jobs/{}/status", Uuid::new_v4()),
        t,
        None,
    )
    .await;
    call(
        &app,
        &spec,
        "get",
        status_t,
        &format!("/api/jobs/{job}/status"),
        None,
        None,
    )
    .await;

    // A gallery with an album, so the nested schemas are exercised.
    let user: Uuid = app
        .db
        .client()
        .await
        .query_one("SELECT id FROM users WHERE subject = 'alice'", &[])
        .await
        .unwrap()
        .get(0);
    let image = Uuid::parse_str(&ids[0]).unwrap();
    let gallery_id = Uuid::parse_str(gallery).unwrap();
    {
        let client = app.db.client().await;
        momentarium_shared::repo::galleries::insert_albums(
            &client,
            user,
            gallery_id,
            &[momentarium_shared::repo::galleries::NewAlbum {
                id: Uuid::now_v7(),
                title: "Everything".into(),
                description: "".into(),
                cover_image_id: None,
                image_ids: vec![image],
            }],
        )
        .await
        .unwrap();
    }
    let gallery_t = "/api/galleries/{galleryId}";
    let (status, body) = call(
        &app,
        &spec,
        "get",
        gallery_t,
        &format!("/api/galleries/{gallery}"),
        t,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["albums"][0]["images"].as_array().unwrap().len(), 1);
    call(
        &app,
        &spec,
        "get",
        gallery_t,
        &format!("/api/galleries/{}", Uuid::new_v4()),
        t,
        None,
    )
    .await;

    call(
        &app,
        &spec,
        "get",
        "/api/galleries",
        "/api/galleries?limit=1",
        t,
        None,
    )
    .await;
    call(
        &app,
        &spec,
        "get",
        "/api/galleries",
        "/api/galleries?limit=0",
        t,
        None,
    )
    .await;
    call(
        &app,
        &spec,
        "get",
        "/api/galleries",
        "/api/galleries?cursor=zzz",
        t,
        None,
    )
    .await;

    let image_t = "/api/images/{imageId}";
    let (status, body) = call(
        &app,
        &spec,
        "get",
        image_t,
        &format!("/api/images/{image}"),
        t,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "uploaded");
    call(
        &app,
        &spec,
        "get",
        image_t,
        &format!("/api/images/{}", Uuid::new_v4()),
        t,
        None,
    )
    .await;
    let content_t = "/api/images/{imageId}/content";
    let (status, _) = call(
        &app,
        &spec,
        "get",
        content_t,
        &format!("/api/images/{image}/content?size=huge"),
        t,
        None,
    )
    .await;
    assert_eq!(status, 400);
    call(
        &app,
        &spec,
        "get",
        content_t,
        &format!("/api/images/{}/content", Uuid::new_v4()),
        t,
        None,
    )
    .await;
}

#[tokio::test]
async fn health_when_the_database_is_down_matches_the_spec() {
    let spec = Spec::load();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = momentarium_tests::test_config(&format!("postgres://postgres@127.0.0.1:{port}/x"));
    let pool = momentarium_shared::adapter::postgres::create_pool(&config.database).unwrap();
    let addr = momentarium_tests::serve(momentarium_shared::App::new(config, pool)).await;

    let response = momentarium_tests::client()
        .get(format!("http://{addr}/api/health"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 503);
    spec.check("get", "/api/health", 503, &response.json().await.unwrap());
}

/// `/a/{id}/b` and `/a/{other_name}/b` are the same route.
fn route_shape(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_documented_operation_is_a_route_of_the_router_and_every_route_is_documented() {
    let spec = Spec::load();
    let mut documented = BTreeSet::new();
    for (path, item) in spec.0["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "put", "post", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                documented.insert((method.to_uppercase(), route_shape(path)));
            }
        }
    }
    let served: BTreeSet<(String, String)> = momentarium_shared::http::routes()
        .iter()
        .map(|r| (r.method.to_string(), route_shape(r.path)))
        .collect();

    assert_eq!(documented, served, "openapi.yaml and the router disagree");

    // And the running router answers each one itself, not with its fallbacks.
    let app = TestApp::spawn().await;
    for (method, shape) in &documented {
        let path = shape.replace("{}", &Uuid::new_v4().to_string());
        let response = app
            .http
            .request(method.parse().unwrap(), app.url(&path))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(
            status != 405 && body["error"]["message"] != "route not found",
            "{method} {path} is documented but the router answers {status} {body}"
        );
    }
}

async fn deliver(
    app: &TestApp,
    spec: &Spec,
    body: &str,
    headers: &[(&str, String)],
) -> (u16, Value) {
    let mut request = app
        .http
        .post(app.url("/api/jobs/process"))
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 503 {
        assert!(
            response.headers().contains_key("retry-after"),
            "a 503 says when to retry"
        );
    }
    let answer: Value = response.json().await.unwrap();
    spec.check("post", "/api/jobs/process", status, &answer);
    (status, answer)
}

fn signed(job: Uuid) -> (String, Vec<(&'static str, String)>) {
    let secret = WebhookSecret::parse(WEBHOOK_SECRET).unwrap();
    let message = SignedMessage::new(
        &secret,
        &JobMessage::process(job),
        chrono::Utc::now().timestamp(),
    );
    (
        message.body,
        vec![
            ("webhook-id", message.headers.id),
            ("webhook-timestamp", message.headers.timestamp),
            ("webhook-signature", message.headers.signature),
        ],
    )
}

#[tokio::test]
async fn job_delivery_responses_match_the_documented_schemas() {
    let spec = Spec::load();
    let gemini = GeminiServer::start(vec![
        Reply::Error(503, "UNAVAILABLE", vec![]),
        Reply::answer(json!({
            "albums": [{"title": "All", "description": "", "cover": 1, "photos": [1]}],
            "photos": []
        })),
    ])
    .await;
    let app = TestApp::spawn_with_gemini(&gemini, &[("GEMINI_MAX_ATTEMPTS", "1")]).await;
    let token = app.token("alice");
    let mut jobs = Vec::new();
    for colour in [[3, 4, 5], [200, 10, 10]] {
        let ids = app
            .upload_photos(
                &token,
                &[(
                    "a.jpg",
                    "image/jpeg",
                    photos::jpeg(12, 9, colour, &Exif::default()),
                )],
            )
            .await;
        jobs.push(app.process_job_id(&token, &ids).await);
    }

    let (body, headers) = signed(jobs[0]);
    let (status, answer) = deliver(&app, &spec, &body, &headers).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (503, &json!("retry_later"))
    );
    let (status, answer) = deliver(&app, &spec, &body, &headers).await;
    assert_eq!((status, &answer["status"]), (200, &json!("completed")));
    let (status, _) = deliver(&app, &spec, &body, &headers).await;
    assert_eq!(status, 200, "already completed");

    // A live claim by another worker: 202.
    let claim = momentarium_shared::repo::jobs::claim(
        &app.db.client().await,
        jobs[1],
        "another-worker",
        std::time::Duration::from_secs(600),
    )
    .await
    .unwrap();
    assert!(matches!(
        claim,
        momentarium_shared::repo::jobs::Claim::Claimed(_)
    ));
    let (body, headers) = signed(jobs[1]);
    let (status, answer) = deliver(&app, &spec, &body, &headers).await;
    assert_eq!((status, &answer["status"]), (202, &json!("processing")));

    let (body, headers) = signed(Uuid::new_v4());
    let (status, _) = deliver(&app, &spec, &body, &headers).await;
    assert_eq!(status, 404, "an unknown job");

    let secret = WebhookSecret::parse(WEBHOOK_SECRET).unwrap();
    let now = chrono::Utc::now().timestamp();
    let bad = r#"{"type":"gallery.delete","jobId":"x"}"#;
    let bad_headers = vec![
        ("webhook-id", "msg_x".to_string()),
        ("webhook-timestamp", now.to_string()),
        (
            "webhook-signature",
            secret.sign("msg_x", now, bad.as_bytes()),
        ),
    ];
    let (status, _) = deliver(&app, &spec, bad, &bad_headers).await;
    assert_eq!(status, 400, "a signed body that is not a job message");

    let (status, answer) = deliver(&app, &spec, &body, &[]).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (401, &json!("invalid_signature"))
    );
}

#[tokio::test]
async fn sharing_responses_match_the_documented_schemas() {
    let spec = Spec::load();
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let bob = app.token("bob");
    let a = Some(alice.as_str());
    let gps = Exif {
        taken: Some("2026:07:04 19:10:00"),
        gps: Some((54.9123, 8.3123)),
        make: Some("Fujifilm"),
        model: Some("X100V"),
        ..Exif::default()
    };
    let ids = app
        .upload_photos(
            &alice,
            &[(
                "a.jpg",
                "image/jpeg",
                photos::jpeg(30, 20, [10, 20, 30], &gps),
            )],
        )
        .await;
    let job = app.process_job_id(&alice, &ids).await;
    app.run_job_now(job).await.unwrap();
    let gallery: Value = app
        .get("/api/galleries", &alice)
        .await
        .json()
        .await
        .unwrap();
    let gallery = gallery["galleries"][0]["galleryId"]
        .as_str()
        .unwrap()
        .to_string();
    let view: Value = app
        .get(&format!("/api/galleries/{gallery}"), &alice)
        .await
        .json()
        .await
        .unwrap();
    let album = view["albums"][0]["albumId"].as_str().unwrap().to_string();

    let g_t = "/api/galleries/{galleryId}/shares";
    let a_t = "/api/albums/{albumId}/shares";
    let g_path = format!("/api/galleries/{gallery}/shares");
    let a_path = format!("/api/albums/{album}/shares");
    let (status, open_link) = call(&app, &spec, "post", g_t, &g_path, a, Some(json!({}))).await;
    assert_eq!(status, 201);
    let (status, located) = call(
        &app,
        &spec,
        "post",
        a_t,
        &a_path,
        a,
        Some(
            json!({"showLocation": true, "allowDownload": false, "password": "pw",
                    "expiresAt": "2099-01-01T00:00:00Z"}),
        ),
    )
    .await;
    assert_eq!(status, 201);
    for (template, path, body, want) in [
        (g_t, g_path.as_str(), json!({"x": 1}), 400),
        (g_t, g_path.as_str(), json!({"password": ""}), 422),
        (
            a_t,
            "/api/albums/00000000-0000-4000-8000-000000000000/shares",
            json!({}),
            404,
        ),
    ] {
        let (status, _) = call(&app, &spec, "post", template, path, a, Some(body)).await;
        assert_eq!(status, want);
    }
    call(&app, &spec, "post", g_t, &g_path, None, Some(json!({}))).await;
    let (status, _) = call(&app, &spec, "get", "/api/shares", "/api/shares", a, None).await;
    assert_eq!(status, 200);
    call(
        &app,
        &spec,
        "get",
        "/api/shares",
        "/api/shares?limit=0",
        a,
        None,
    )
    .await;

    let view_t = "/api/shared/{token}";
    let token = |created: &Value| {
        created["url"]
            .as_str()
            .unwrap()
            .rsplit_once("/s/")
            .unwrap()
            .1
            .to_string()
    };
    let (status, _) = call(
        &app,
        &spec,
        "get",
        view_t,
        &format!("/api/shared/{}", token(&open_link)),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let located_path = format!("/api/shared/{}", token(&located));
    let (status, _) = call(&app, &spec, "get", view_t, &located_path, None, None).await;
    assert_eq!(status, 401);
    let with_password = app
        .http
        .get(app.url(&located_path))
        .header("share-password", "pw")
        .send()
        .await
        .unwrap();
    assert_eq!(with_password.status(), 200);
    let body: Value = with_password.json().await.unwrap();
    spec.check("get", view_t, 200, &body);
    assert!(body["albums"][0]["images"][0]["location"].is_object());
    for _ in 0..5 {
        let wrong = app
            .http
            .get(app.url(&located_path))
            .header("share-password", "no")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
    }
    let locked = app
        .http
        .get(app.url(&located_path))
        .header("share-password", "pw")
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), 429);
    assert!(locked.headers().contains_key("retry-after"));
    spec.check("get", view_t, 429, &locked.json().await.unwrap());
    call(&app, &spec, "get", view_t, "/api/shared/nope", None, None).await;

    let m_t = "/api/albums/{albumId}/members";
    let m_path = format!("/api/albums/{album}/members");
    let (status, _) = call(
        &app,
        &spec,
        "post",
        m_t,
        &m_path,
        a,
        Some(json!({"subject": "bob"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = call(
        &app,
        &spec,
        "post",
        m_t,
        &m_path,
        a,
        Some(json!({"subject": "bob"})),
    )
    .await;
    assert_eq!(status, 200);
    call(
        &app,
        &spec,
        "post",
        m_t,
        &m_path,
        a,
        Some(json!({"subject": "alice"})),
    )
    .await;
    let (status, _) = call(&app, &spec, "get", m_t, &m_path, a, None).await;
    assert_eq!(status, 200);
    let b = Some(bob.as_str());
    let (status, mine) = call(
        &app,
        &spec,
        "get",
        "/api/shared-with-me",
        "/api/shared-with-me",
        b,
        None,
    )
    .await;
    assert_eq!((status, mine["albums"].as_array().unwrap().len()), (200, 1));
    let one_t = "/api/shared-with-me/{albumId}";
    let (status, _) = call(
        &app,
        &spec,
        "get",
        one_t,
        &format!("/api/shared-with-me/{album}"),
        b,
        None,
    )
    .await;
    assert_eq!(status, 200);
    call(
        &app,
        &spec,
        "get",
        one_t,
        &format!("/api/shared-with-me/{album}"),
        a,
        None,
    )
    .await;

    // The two 204s: documented, and with no body.
    for (path, template) in [
        (
            format!("{m_path}/bob"),
            "/api/albums/{albumId}/members/{subject}",
        ),
        (
            format!("/api/shares/{}", open_link["shareId"].as_str().unwrap()),
            "/api/shares/{shareId}",
        ),
    ] {
        assert!(
            spec.0
                .pointer(&format!("/paths/{}/delete/responses/204", escape(template)))
                .is_some()
        );
        let response = app
            .http
            .delete(app.url(&path))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        assert!(response.bytes().await.unwrap().is_empty());
        let (status, _) = call(&app, &spec, "delete", template, &path, a, None).await;
        assert_eq!(status, 404);
    }
}

#[tokio::test]
async fn cancel_and_retry_responses_match_the_documented_schemas() {
    let spec = Spec::load();
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let a = Some(alice.as_str());
    let ids = app
        .upload_photos(
            &alice,
            &[(
                "a.jpg",
                "image/jpeg",
                photos::jpeg(20, 20, [1, 2, 3], &Exif::default()),
            )],
        )
        .await;
    let job = app.process_job_id(&alice, &ids).await;
    let cancel_t = "/api/jobs/{jobId}/cancel";
    let retry_t = "/api/jobs/{jobId}/retry";
    let cancel = format!("/api/jobs/{job}/cancel");
    let retry = format!("/api/jobs/{job}/retry");
    let (status, _) = call(&app, &spec, "post", retry_t, &retry, a, None).await;
    assert_eq!(status, 409, "a pending job is not retried");
    let (status, _) = call(&app, &spec, "post", cancel_t, &cancel, a, None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&app, &spec, "post", cancel_t, &cancel, a, None).await;
    assert_eq!(status, 409);
    let (status, _) = call(&app, &spec, "post", retry_t, &retry, a, None).await;
    assert_eq!(status, 202);
    let unknown = format!("/api/jobs/{}/retry", Uuid::new_v4());
    let (status, _) = call(&app, &spec, "post", retry_t, &unknown, a, None).await;
    assert_eq!(status, 404);
    let (status, _) = call(&app, &spec, "post", cancel_t, &cancel, None, None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn delete_responses_match_the_documented_schemas() {
    let spec = Spec::load();
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let ids = app
        .upload_photos(
            &alice,
            &[(
                "a.jpg",
                "image/jpeg",
                photos::jpeg(20, 20, [1, 2, 3], &Exif::default()),
            )],
        )
        .await;
    let job = app.process_job_id(&alice, &ids).await;
    app.run_job_now(job).await.unwrap();
    let galleries: Value = app
        .get("/api/galleries", &alice)
        .await
        .json()
        .await
        .unwrap();
    let gallery = galleries["galleries"][0]["galleryId"]
        .as_str()
        .unwrap()
        .to_string();
    for (template, path) in [
        ("/api/images/{imageId}", format!("/api/images/{}", ids[0])),
        (
            "/api/galleries/{galleryId}",
            format!("/api/galleries/{gallery}"),
        ),
    ] {
        let pointer = format!("/paths/{}/delete/responses/204", escape(template));
        assert!(spec.0.pointer(&pointer).is_some(), "{pointer}");
        let response = app
            .http
            .delete(app.url(&path))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        assert!(response.bytes().await.unwrap().is_empty());
        let (status, _) = call(&app, &spec, "delete", template, &path, Some(&alice), None).await;
        assert_eq!(status, 404);
        let (status, _) = call(&app, &spec, "delete", template, &path, None, None).await;
        assert_eq!(status, 401);
    }
    let (status, _) = call(
        &app,
        &spec,
        "delete",
        "/api/galleries/{galleryId}",
        &format!("/api/galleries/{gallery}?withPhotos=2"),
        Some(&alice),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        spec.0
            .pointer("/paths/~1api~1me/delete/responses/204")
            .is_some()
    );
    let response = app
        .http
        .delete(app.url("/api/me"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let (status, _) = call(
        &app,
        &spec,
        "delete",
        "/api/me",
        "/api/me",
        Some(&alice),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn generation_responses_match_the_documented_schemas() {
    use momentarium_tests::image_providers::{ImageReply, ImageServer};
    let spec = Spec::load();
    let gemini = ImageServer::gemini(vec![ImageReply::Picture, ImageReply::Blocked]).await;
    let openai = ImageServer::openai(vec![ImageReply::Picture]).await;
    let app = TestApp::spawn_with_image_providers(&gemini, &openai, &[]).await;
    let alice = app.token("alice");
    let a = Some(alice.as_str());
    let photo = app.upload_samples(&alice, 1).await.remove(0);
    let (g, one, edit) = (
        "/api/generations",
        "/api/generations/{generationId}",
        "/api/images/{imageId}/edits",
    );
    let body = json!({"prompt": "a lighthouse", "referenceImageIds": [photo]});
    let (status, made) = call(&app, &spec, "post", g, g, a, Some(body)).await;
    assert_eq!(status, 202);
    let made = Uuid::parse_str(made["generationId"].as_str().unwrap()).unwrap();
    let (status, blocked) = call(&app, &spec, "post", g, g, a, Some(json!({"prompt": "no"}))).await;
    assert_eq!(status, 202);
    let blocked = Uuid::parse_str(blocked["generationId"].as_str().unwrap()).unwrap();
    let edit_path = format!("/api/images/{photo}/edits");
    let body = json!({"prompt": "golden hour", "provider": "openai"});
    let (status, edited) = call(&app, &spec, "post", edit, &edit_path, a, Some(body)).await;
    assert_eq!(status, 202);
    let edited = Uuid::parse_str(edited["generationId"].as_str().unwrap()).unwrap();
    // Pending, then completed, failed and edited.
    let (status, _) = call(
        &app,
        &spec,
        "get",
        one,
        &format!("/api/generations/{made}"),
        a,
        None,
    )
    .await;
    assert_eq!(status, 200);
    for id in [made, blocked, edited] {
        app.run_job_now(id).await.unwrap();
        let (status, body) = call(
            &app,
            &spec,
            "get",
            one,
            &format!("/api/generations/{id}"),
            a,
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        // The picture is a library image with its origin.
        if let Some(image) = body["imageId"].as_str() {
            let (status, _) = call(
                &app,
                &spec,
                "get",
                "/api/images/{imageId}",
                &format!("/api/images/{image}"),
                a,
                None,
            )
            .await;
            assert_eq!(status, 200);
        }
    }
    let (status, list) = call(&app, &spec, "get", g, "/api/generations?limit=2", a, None).await;
    assert_eq!(
        (status, list["generations"].as_array().unwrap().len()),
        (200, 2)
    );
    // A generation in the jobs list, and its retry.
    let (status, _) = call(&app, &spec, "get", "/api/jobs", "/api/jobs", a, None).await;
    assert_eq!(status, 200);
    let retry = format!("/api/jobs/{blocked}/retry");
    let (status, _) = call(
        &app,
        &spec,
        "post",
        "/api/jobs/{jobId}/retry",
        &retry,
        a,
        None,
    )
    .await;
    assert_eq!(status, 202);
    // Errors.
    let (status, _) = call(&app, &spec, "post", g, g, a, Some(json!({"prompt": ""}))).await;
    assert_eq!(status, 422);
    let (status, _) = call(&app, &spec, "post", g, g, a, Some(json!({"prompt": 1}))).await;
    assert_eq!(status, 400);
    let unknown = format!("/api/generations/{}", Uuid::new_v4());
    let (status, _) = call(&app, &spec, "get", one, &unknown, a, None).await;
    assert_eq!(status, 404);
    let (status, _) = call(&app, &spec, "get", g, g, None, None).await;
    assert_eq!(status, 401);
    let bare = TestApp::spawn().await;
    let token = bare.token("alice");
    let (status, _) = call(
        &bare,
        &spec,
        "post",
        g,
        g,
        Some(&token),
        Some(json!({"prompt": "a"})),
    )
    .await;
    assert_eq!(status, 503);
}

#[tokio::test]
async fn settings_responses_match_the_documented_schemas() {
    let spec = Spec::load();
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let a = Some(alice.as_str());
    let (status, _) = call(&app, &spec, "get", "/api/me", "/api/me", a, None).await;
    assert_eq!(status, 200);
    let body = json!({"displayName": "Alice", "language": "de"});
    let (status, _) = call(&app, &spec, "patch", "/api/me", "/api/me", a, Some(body)).await;
    assert_eq!(status, 200);
    let body = json!({"language": "xx"});
    let (status, _) = call(&app, &spec, "patch", "/api/me", "/api/me", a, Some(body)).await;
    assert_eq!(status, 422);
    let body = json!({"language": 3});
    let (status, _) = call(&app, &spec, "patch", "/api/me", "/api/me", a, Some(body)).await;
    assert_eq!(status, 400);
    let (status, _) = call(&app, &spec, "get", "/api/me", "/api/me", None, None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn usage_and_limit_responses_match_the_documented_schemas() {
    let spec = Spec::load();
    let limits = r#"{"free": {"readPerMinute": 2, "writePerMinute": 300, "aiPerMinute": 30, "photosPerDay": 1, "generationsPerDay": 0, "storageBytes": 100, "monthlyBudgetUsd": 0}}"#;
    let app = TestApp::spawn_configured(&[("TIER_LIMITS", limits)], |a| a).await;
    let alice = app.token("alice");
    let a = Some(alice.as_str());
    // Not in the last seconds of a minute: the per-minute window must not turn mid-test.
    let second = chrono::Timelike::second(&chrono::Utc::now());
    if second >= 50 {
        tokio::time::sleep(std::time::Duration::from_secs(u64::from(61 - second))).await;
    }
    let (status, _) = call(&app, &spec, "get", "/api/usage", "/api/usage", a, None).await;
    assert_eq!(status, 200);
    let files = json!({"files": [{"filename": "a.jpg", "contentType": "image/jpeg", "size": 500}]});
    let (status, _) = call(
        &app,
        &spec,
        "post",
        "/api/uploads/generate-urls",
        "/api/uploads/generate-urls",
        a,
        Some(files),
    )
    .await;
    assert_eq!(status, 429, "storage");
    // Reads: one more is allowed this minute (the usage read was the first), then 429.
    let (status, _) = call(&app, &spec, "get", "/api/jobs", "/api/jobs", a, None).await;
    let (status2, _) = call(&app, &spec, "get", "/api/jobs", "/api/jobs", a, None).await;
    assert_eq!((status, status2), (200, 429));
    let (status, _) = call(&app, &spec, "get", "/api/usage", "/api/usage", None, None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn search_responses_match_the_documented_schemas() {
    let spec = Spec::load();
    let gemini = GeminiServer::start(vec![Reply::answer(json!({
        "albums": [{"title": "Coast", "description": "Evening.", "cover": 1, "photos": [1, 2]}],
        "photos": [
            {"photo": 1, "caption": "Sunset over the beach", "tags": ["beach"]},
            {"photo": 2, "caption": "Dunes in the wind", "tags": ["dunes"]}
        ]
    }))])
    .await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let alice = app.token("alice");
    let a = Some(alice.as_str());
    let exif = Exif {
        taken: Some("2025:08:02 18:05:00"),
        offset: Some("+02:00"),
        gps: Some((54.9079, 8.3089)),
        ..Exif::default()
    };
    let ids = app
        .upload_photos(
            &alice,
            &[
                (
                    "a.jpg",
                    "image/jpeg",
                    photos::jpeg(40, 30, [9, 80, 160], &exif),
                ),
                (
                    "b.jpg",
                    "image/jpeg",
                    photos::jpeg(40, 30, [90, 80, 60], &Exif::default()),
                ),
            ],
        )
        .await;
    let job = app.process_job_id(&alice, &ids).await;
    app.run_job_now(job).await.unwrap();
    let s = "/api/search";
    // Hybrid, with a place in the results.
    let (status, body) = call(
        &app,
        &spec,
        "get",
        s,
        "/api/search?q=beach%20in%20Germany%202025",
        a,
        None,
    )
    .await;
    assert_eq!(
        (status, body["mode"].as_str()),
        (200, Some("hybrid")),
        "{body}"
    );
    assert_eq!(body["results"][0]["place"]["name"], "Westerland");
    // More like this; filters only; a page; keyword with a reason.
    let (status, body) = call(
        &app,
        &spec,
        "get",
        s,
        &format!("/api/search?similarTo={}", ids[0]),
        a,
        None,
    )
    .await;
    assert_eq!(
        (status, body["mode"].as_str()),
        (200, Some("similar")),
        "{body}"
    );
    let (status, body) = call(
        &app,
        &spec,
        "get",
        s,
        "/api/search?from=2025-08-01&to=2025-08-31&limit=1",
        a,
        None,
    )
    .await;
    assert_eq!((status, body["total"].as_u64()), (200, Some(1)));
    gemini.push_embed(Reply::Error(503, "UNAVAILABLE", vec![]));
    let (status, body) = call(
        &app,
        &spec,
        "get",
        s,
        "/api/search?q=dunes%20in%20the%20evening",
        a,
        None,
    )
    .await;
    assert_eq!(
        (status, body["mode"].as_str()),
        (200, Some("keyword")),
        "{body}"
    );
    assert_eq!(body["understood"]["partOfDay"], "evening");
    // Errors.
    for (path, want) in [
        ("/api/search?limit=0", 400),
        (&*format!("/api/search?similarTo={}", Uuid::new_v4()), 404),
        ("/api/search?from=2025-02-01&to=2025-01-01", 422),
    ] {
        let (status, _) = call(&app, &spec, "get", s, path, a, None).await;
        assert_eq!(status, want, "{path}");
    }
    let (status, _) = call(&app, &spec, "get", s, s, None, None).await;
    assert_eq!(status, 401);
    // The image's details carry its place.
    let (status, _) = call(
        &app,
        &spec,
        "get",
        "/api/images/{imageId}",
        &format!("/api/images/{}", ids[0]),
        a,
        None,
    )
    .await;
    assert_eq!(status, 200);
    // History.
    let h = "/api/search/history";
    let (status, body) = call(&app, &spec, "get", h, h, a, None).await;
    assert_eq!(
        (status, body["searches"].as_array().unwrap().len()),
        (200, 2)
    );
    let (status, body) = call(&app, &spec, "delete", h, h, a, None).await;
    assert_eq!((status, body["deleted"].as_u64()), (200, Some(2)));
    let (status, _) = call(&app, &spec, "get", h, h, None, None).await;
    assert_eq!(status, 401);
}
