//! Bad input, endpoint by endpoint: each gets its documented 4xx and error code, never a 5xx.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use momentarium_tests::photos::{self, Exif};
use momentarium_tests::{DEV_SECRET, TestApp, sign_jwt};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

struct Case {
    name: &'static str,
    method: reqwest::Method,
    path: String,
    /// `None`: no Authorization header.
    token: Option<String>,
    body: Body,
    headers: Vec<(&'static str, String)>,
    status: u16,
    code: &'static str,
}

enum Body {
    None,
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

async fn run(app: &TestApp, cases: Vec<Case>) {
    let mut failures = Vec::new();
    for case in cases {
        let mut request = app.http.request(case.method.clone(), app.url(&case.path));
        if let Some(token) = &case.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in &case.headers {
            request = request.header(*name, value);
        }
        request = match case.body {
            Body::None => request,
            Body::Json(v) => request.json(&v),
            Body::Raw(ct, bytes) => {
                let r = request.body(bytes);
                if ct.is_empty() {
                    r
                } else {
                    r.header("content-type", ct)
                }
            }
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or("<none>")
            .to_string();
        let message = body["error"]["message"].as_str().unwrap_or("");
        if status != case.status || code != case.code || message.is_empty() {
            failures.push(format!(
                "{}: expected {} {}, got {} {}: {}",
                case.name, case.status, case.code, status, code, text
            ));
        }
        assert!(status < 500, "{}: a 5xx for bad input: {text}", case.name);
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn expired_token(subject: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let claims =
        json!({"sub": subject, "iss": "momentarium-dev", "iat": now - 7200, "exp": now - 3600});
    sign_jwt(header, &claims.to_string(), DEV_SECRET)
}

fn file(name: &str, ct: &str, size: i64) -> Value {
    json!({"filename": name, "contentType": ct, "size": size})
}

fn post(
    name: &'static str,
    path: &str,
    token: &str,
    body: Value,
    status: u16,
    code: &'static str,
) -> Case {
    Case {
        name,
        method: reqwest::Method::POST,
        path: path.into(),
        token: Some(token.into()),
        body: Body::Json(body),
        headers: vec![],
        status,
        code,
    }
}

fn get(
    name: &'static str,
    path: &str,
    token: Option<&str>,
    status: u16,
    code: &'static str,
) -> Case {
    Case {
        name,
        method: reqwest::Method::GET,
        path: path.into(),
        token: token.map(str::to_string),
        body: Body::None,
        headers: vec![],
        status,
        code,
    }
}

#[tokio::test]
async fn identity_problems_are_401s_on_every_user_route() {
    let app = TestApp::spawn().await;
    let good = app.token("alice");
    let forged = momentarium_shared::http::identity::issue_dev_token(
        &SecretString::from("not-the-server-secret"),
        "alice",
        Duration::from_secs(3600),
    );
    let none_alg = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let exp = chrono::Utc::now().timestamp() + 600;
        format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none"}"#),
            b64.encode(format!(
                r#"{{"sub":"alice","iss":"momentarium-dev","exp":{exp}}}"#
            ))
        )
    };
    let empty_sub = sign_jwt(
        r#"{"alg":"HS256"}"#,
        &json!({"sub": "", "iss": "momentarium-dev", "exp": chrono::Utc::now().timestamp() + 600})
            .to_string(),
        DEV_SECRET,
    );
    let routes: Vec<(reqwest::Method, String)> = vec![
        (reqwest::Method::POST, "/api/uploads/generate-urls".into()),
        (reqwest::Method::POST, "/api/galleries/process".into()),
        (
            reqwest::Method::GET,
            format!("/api/jobs/{}/status", Uuid::new_v4()),
        ),
        (
            reqwest::Method::GET,
            format!("/api/jobs/{}/events", Uuid::new_v4()),
        ),
        (
            reqwest::Method::GET,
            format!("/api/galleries/{}", Uuid::new_v4()),
        ),
        (reqwest::Method::GET, "/api/galleries".into()),
        (
            reqwest::Method::DELETE,
            format!("/api/galleries/{}", Uuid::new_v4()),
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/images/{}", Uuid::new_v4()),
        ),
        (reqwest::Method::GET, "/api/jobs".into()),
        (
            reqwest::Method::POST,
            format!("/api/jobs/{}/cancel", Uuid::new_v4()),
        ),
        (
            reqwest::Method::POST,
            format!("/api/jobs/{}/retry", Uuid::new_v4()),
        ),
        (
            reqwest::Method::GET,
            format!("/api/images/{}", Uuid::new_v4()),
        ),
        (
            reqwest::Method::GET,
            format!("/api/images/{}/content", Uuid::new_v4()),
        ),
        (
            reqwest::Method::POST,
            format!("/api/galleries/{}/shares", Uuid::new_v4()),
        ),
        (
            reqwest::Method::POST,
            format!("/api/albums/{}/shares", Uuid::new_v4()),
        ),
        (reqwest::Method::GET, "/api/shares".into()),
        (
            reqwest::Method::DELETE,
            format!("/api/shares/{}", Uuid::new_v4()),
        ),
        (
            reqwest::Method::POST,
            format!("/api/albums/{}/members", Uuid::new_v4()),
        ),
        (
            reqwest::Method::GET,
            format!("/api/albums/{}/members", Uuid::new_v4()),
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/albums/{}/members/bob", Uuid::new_v4()),
        ),
        (reqwest::Method::GET, "/api/shared-with-me".into()),
        (reqwest::Method::DELETE, "/api/me".into()),
        (reqwest::Method::GET, "/api/me".into()),
        (reqwest::Method::PATCH, "/api/me".into()),
        (reqwest::Method::GET, "/api/usage".into()),
        (reqwest::Method::GET, "/api/search?q=beach".into()),
        (reqwest::Method::GET, "/api/search/history".into()),
        (reqwest::Method::DELETE, "/api/search/history".into()),
        (reqwest::Method::POST, "/api/generations".into()),
        (reqwest::Method::GET, "/api/generations".into()),
        (
            reqwest::Method::GET,
            format!("/api/generations/{}", Uuid::new_v4()),
        ),
        (
            reqwest::Method::POST,
            format!("/api/images/{}/edits", Uuid::new_v4()),
        ),
        (
            reqwest::Method::GET,
            format!("/api/shared-with-me/{}", Uuid::new_v4()),
        ),
    ];
    let mut cases = Vec::new();
    for (method, path) in &routes {
        for (name, token, code) in [
            ("no token", None, "missing_token"),
            (
                "expired token",
                Some(expired_token("alice")),
                "token_expired",
            ),
            ("forged token", Some(forged.clone()), "invalid_token"),
            ("alg none", Some(none_alg.clone()), "invalid_token"),
            (
                "garbage token",
                Some("abc.def".to_string()),
                "invalid_token",
            ),
            ("empty subject", Some(empty_sub.clone()), "invalid_token"),
        ] {
            cases.push(Case {
                name,
                method: method.clone(),
                path: path.clone(),
                token,
                body: Body::Json(json!({})),
                headers: vec![],
                status: 401,
                code,
            });
        }
        cases.push(Case {
            name: "Basic auth instead of Bearer",
            method: method.clone(),
            path: path.clone(),
            token: None,
            body: Body::None,
            headers: vec![("authorization", format!("Basic {good}"))],
            status: 401,
            code: "missing_token",
        });
    }
    run(&app, cases).await;
}

#[tokio::test]
async fn generate_urls_refuses_each_kind_of_bad_batch() {
    let app = TestApp::spawn().await;
    let t = app.token("alice");
    let path = "/api/uploads/generate-urls";
    let ok = file("a.jpg", "image/jpeg", 1000);
    let many: Vec<Value> = (0..51)
        .map(|i| file(&format!("{i}.jpg"), "image/jpeg", 10))
        .collect();
    let mut cases = vec![
        post(
            "empty batch",
            path,
            &t,
            json!({"files": []}),
            422,
            "empty_batch",
        ),
        post(
            "51 files",
            path,
            &t,
            json!({"files": many}),
            422,
            "batch_too_large",
        ),
        post("files missing", path, &t, json!({}), 400, "invalid_body"),
        post(
            "files not a list",
            path,
            &t,
            json!({"files": "a.jpg"}),
            400,
            "invalid_body",
        ),
        post(
            "size a string",
            path,
            &t,
            json!({"files": [{"filename": "a.jpg", "contentType": "image/jpeg", "size": "big"}]}),
            400,
            "invalid_body",
        ),
        post(
            "size fractional",
            path,
            &t,
            json!({"files": [{"filename": "a.jpg", "contentType": "image/jpeg", "size": 1.5}]}),
            400,
            "invalid_body",
        ),
        post(
            "filename missing",
            path,
            &t,
            json!({"files": [{"contentType": "image/jpeg", "size": 10}]}),
            400,
            "invalid_body",
        ),
        post(
            "body is an array",
            path,
            &t,
            json!([ok]),
            400,
            "invalid_body",
        ),
        post(
            "gif",
            path,
            &t,
            json!({"files": [file("a.gif", "image/gif", 10)]}),
            415,
            "unsupported_media_type",
        ),
        post(
            "svg",
            path,
            &t,
            json!({"files": [file("a.svg", "image/svg+xml", 10)]}),
            415,
            "unsupported_media_type",
        ),
        post(
            "html",
            path,
            &t,
            json!({"files": [file("a.html", "text/html", 10)]}),
            415,
            "unsupported_media_type",
        ),
        post(
            "zero size",
            path,
            &t,
            json!({"files": [file("a.jpg", "image/jpeg", 0)]}),
            422,
            "invalid_size",
        ),
        post(
            "negative size",
            path,
            &t,
            json!({"files": [file("a.jpg", "image/jpeg", -5)]}),
            422,
            "invalid_size",
        ),
        post(
            "over 25 MiB",
            path,
            &t,
            json!({"files": [file("a.jpg", "image/jpeg", 25 * 1024 * 1024 + 1)]}),
            413,
            "file_too_large",
        ),
        post(
            "path traversal",
            path,
            &t,
            json!({"files": [file("../../etc/passwd", "image/jpeg", 10)]}),
            422,
            "invalid_filename",
        ),
        post(
            "windows traversal",
            path,
            &t,
            json!({"files": [file("..\\..\\boot.ini", "image/jpeg", 10)]}),
            422,
            "invalid_filename",
        ),
        post(
            "dot dot",
            path,
            &t,
            json!({"files": [file("..", "image/jpeg", 10)]}),
            422,
            "invalid_filename",
        ),
        post(
            "NUL in name",
            path,
            &t,
            json!({"files": [file("a\u{0}.jpg", "image/jpeg", 10)]}),
            422,
            "invalid_filename",
        ),
        post(
            "newline in name",
            path,
            &t,
            json!({"files": [file("a\n.jpg", "image/jpeg", 10)]}),
            422,
            "invalid_filename",
        ),
        post(
            "RTL override",
            path,
            &t,
            json!({"files": [file("gpj\u{202E}.exe", "image/jpeg", 10)]}),
            422,
            "invalid_filename",
        ),
        post(
            "empty name",
            path,
            &t,
            json!({"files": [file("  ", "image/jpeg", 10)]}),
            422,
            "invalid_filename",
        ),
        post(
            "300-byte name",
            path,
            &t,
            json!({"files": [file(&"a".repeat(300), "image/jpeg", 10)]}),
            422,
            "invalid_filename",
        ),
        post(
            "one bad among good",
            path,
            &t,
            json!({"files": [ok.clone(), file("b.jpg", "image/tiff", 10)]}),
            415,
            "unsupported_media_type",
        ),
    ];
    cases.push(Case {
        name: "malformed JSON",
        method: reqwest::Method::POST,
        path: path.into(),
        token: Some(t.clone()),
        body: Body::Raw("application/json", b"{\"files\": [".to_vec()),
        headers: vec![],
        status: 400,
        code: "invalid_json",
    });
    cases.push(Case {
        name: "not JSON content type",
        method: reqwest::Method::POST,
        path: path.into(),
        token: Some(t.clone()),
        body: Body::Raw("text/plain", br#"{"files": []}"#.to_vec()),
        headers: vec![],
        status: 415,
        code: "unsupported_content_type",
    });
    let huge = format!(
        r#"{{"files": [{{"filename": "{}", "contentType": "image/jpeg", "size": 1}}]}}"#,
        "a".repeat(300_000)
    );
    cases.push(Case {
        name: "huge body",
        method: reqwest::Method::POST,
        path: path.into(),
        token: Some(t.clone()),
        body: Body::Raw("application/json", huge.into_bytes()),
        headers: vec![],
        status: 413,
        code: "body_too_large",
    });
    run(&app, cases).await;

    // Nothing was created by any of them.
    let n: i64 = app
        .db
        .client()
        .await
        .query_one("SELECT count(*) FROM images", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);

    // Unicode is welcome; the key never carries the name.
    let ok = app
        .post_json(
            path,
            &t,
            &json!({"files": [file("Ostsee 🌊 Møn – 日本.jpg", "image/jpeg", 10)]}),
        )
        .await;
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert!(
        !body["uploads"][0]["key"]
            .as_str()
            .unwrap()
            .contains("Ostsee")
    );
    assert_eq!(body["uploads"][0]["headers"]["content-type"], "image/jpeg");
}

#[tokio::test]
async fn process_refuses_each_kind_of_bad_request() {
    let app = TestApp::spawn().await;
    let t = app.token("alice");
    let bob = app.token("bob");
    let ids = app
        .upload_photos(
            &t,
            &[(
                "a.jpg",
                "image/jpeg",
                photos::jpeg(8, 8, [1, 1, 1], &Exif::default()),
            )],
        )
        .await;
    let bobs = app
        .upload_photos(
            &bob,
            &[(
                "b.jpg",
                "image/jpeg",
                photos::jpeg(8, 8, [2, 2, 2], &Exif::default()),
            )],
        )
        .await;
    let path = "/api/galleries/process";
    let many: Vec<String> = (0..51).map(|_| Uuid::new_v4().to_string()).collect();
    let mut cases = vec![
        post(
            "empty",
            path,
            &t,
            json!({"imageIds": []}),
            422,
            "empty_batch",
        ),
        post(
            "51 ids",
            path,
            &t,
            json!({"imageIds": many}),
            422,
            "batch_too_large",
        ),
        post(
            "duplicates",
            path,
            &t,
            json!({"imageIds": [ids[0], ids[0]]}),
            422,
            "duplicate_image_ids",
        ),
        post(
            "not a uuid",
            path,
            &t,
            json!({"imageIds": ["../../etc"]}),
            400,
            "invalid_body",
        ),
        post(
            "numbers",
            path,
            &t,
            json!({"imageIds": [1, 2]}),
            400,
            "invalid_body",
        ),
        post(
            "missing field",
            path,
            &t,
            json!({"ids": ids}),
            400,
            "invalid_body",
        ),
        post(
            "unknown id",
            path,
            &t,
            json!({"imageIds": [Uuid::new_v4()]}),
            404,
            "not_found",
        ),
        post(
            "another user's id",
            path,
            &t,
            json!({"imageIds": [bobs[0]]}),
            404,
            "not_found",
        ),
        post(
            "mine and another's",
            path,
            &t,
            json!({"imageIds": [ids[0], bobs[0]]}),
            404,
            "not_found",
        ),
    ];
    let mut bad_key = post(
        "idempotency key too long",
        path,
        &t,
        json!({"imageIds": ids}),
        400,
        "invalid_idempotency_key",
    );
    bad_key.headers.push(("idempotency-key", "k".repeat(300)));
    cases.push(bad_key);
    // Spaces are printable and allowed (openapi.yaml); a tab is not.
    let mut tabbed_key = post(
        "idempotency key with a tab",
        path,
        &t,
        json!({"imageIds": ids}),
        400,
        "invalid_idempotency_key",
    );
    tabbed_key.headers.push(("idempotency-key", "a\tb".into()));
    cases.push(tabbed_key);
    cases.push(Case {
        name: "malformed JSON",
        method: reqwest::Method::POST,
        path: path.into(),
        token: Some(t.clone()),
        body: Body::Raw("application/json", b"imageIds=1".to_vec()),
        headers: vec![],
        status: 400,
        code: "invalid_json",
    });
    run(&app, cases).await;
    let n: i64 = app
        .db
        .client()
        .await
        .query_one("SELECT count(*) FROM processing_jobs", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "no bad request created a job");
}

#[tokio::test]
async fn status_and_gallery_reads_refuse_bad_ids_and_parameters() {
    let app = TestApp::spawn().await;
    let t = app.token("alice");
    let t = Some(t.as_str());
    run(
        &app,
        vec![
            get(
                "job id not a uuid",
                "/api/jobs/not-a-uuid/status",
                t,
                404,
                "not_found",
            ),
            get(
                "job id traversal",
                "/api/jobs/..%2F..%2Fetc/status",
                t,
                404,
                "not_found",
            ),
            get(
                "jobs: limit zero",
                "/api/jobs?limit=0",
                t,
                400,
                "invalid_limit",
            ),
            get(
                "jobs: limit too high",
                "/api/jobs?limit=101",
                t,
                400,
                "invalid_limit",
            ),
            get(
                "jobs: limit not a number",
                "/api/jobs?limit=ten",
                t,
                400,
                "invalid_query",
            ),
            get(
                "jobs: a cursor not given out",
                "/api/jobs?cursor=bm90LWEtY3Vyc29y",
                t,
                400,
                "invalid_cursor",
            ),
            get(
                "events of a job id not a uuid",
                "/api/jobs/not-a-uuid/events",
                t,
                404,
                "not_found",
            ),
            get(
                "events of an unknown job",
                &format!("/api/jobs/{}/events", Uuid::new_v4()),
                t,
                404,
                "not_found",
            ),
            get(
                "gallery id not a uuid",
                "/api/galleries/123",
                t,
                404,
                "not_found",
            ),
            get(
                "limit zero",
                "/api/galleries?limit=0",
                t,
                400,
                "invalid_limit",
            ),
            get(
                "limit too high",
                "/api/galleries?limit=1000",
                t,
                400,
                "invalid_limit",
            ),
            get(
                "limit not a number",
                "/api/galleries?limit=ten",
                t,
                400,
                "invalid_query",
            ),
            get(
                "forged cursor",
                "/api/galleries?cursor=bm90LWEtY3Vyc29y",
                t,
                400,
                "invalid_cursor",
            ),
            get("unknown route", "/api/galleries/x/y/z", t, 404, "not_found"),
            get(
                "gallery photo page of zero",
                &format!("/api/galleries/{}?limit=0", Uuid::new_v4()),
                t,
                400,
                "invalid_limit",
            ),
            get(
                "gallery photo cursor forged",
                &format!("/api/galleries/{}?cursor=cDEuMg-x", Uuid::new_v4()),
                t,
                400,
                "invalid_cursor",
            ),
            get(
                "paging an unknown gallery",
                &format!("/api/galleries/{}?limit=10", Uuid::new_v4()),
                t,
                404,
                "not_found",
            ),
            get(
                "image id not a uuid",
                "/api/images/not-a-uuid",
                t,
                404,
                "not_found",
            ),
            get(
                "unknown image",
                &format!("/api/images/{}", Uuid::new_v4()),
                t,
                404,
                "not_found",
            ),
            get(
                "content of an image id not a uuid",
                "/api/images/%2e%2e/content",
                t,
                404,
                "not_found",
            ),
            get(
                "content size unknown",
                &format!("/api/images/{}/content?size=huge", Uuid::new_v4()),
                t,
                400,
                "invalid_size",
            ),
            get(
                "content size given twice",
                &format!(
                    "/api/images/{}/content?size=thumb&size=original",
                    Uuid::new_v4()
                ),
                t,
                400,
                "invalid_size",
            ),
            get(
                "content of an unknown image, with a parameter it ignores",
                &format!("/api/images/{}/content?v=2", Uuid::new_v4()),
                t,
                404,
                "not_found",
            ),
            get(
                "content of an unknown image",
                &format!("/api/images/{}/content?size=thumb", Uuid::new_v4()),
                t,
                404,
                "not_found",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn dev_sign_in_refuses_bad_names_and_bodies() {
    let app = TestApp::spawn().await;
    let unsigned = |name, body: Body, status, code| Case {
        name,
        method: reqwest::Method::POST,
        path: "/api/dev/sign-in".into(),
        token: None,
        body,
        headers: vec![],
        status,
        code,
    };
    run(
        &app,
        vec![
            unsigned(
                "empty name",
                Body::Json(json!({"name": "   "})),
                400,
                "invalid_name",
            ),
            unsigned(
                "name too long",
                Body::Json(json!({"name": "x".repeat(65)})),
                400,
                "invalid_name",
            ),
            unsigned(
                "control character",
                Body::Json(json!({"name": "ann\u{0}"})),
                400,
                "invalid_name",
            ),
            unsigned("no name", Body::Json(json!({})), 400, "invalid_body"),
            unsigned(
                "name not a string",
                Body::Json(json!({"name": 7})),
                400,
                "invalid_body",
            ),
            unsigned(
                "unknown field",
                Body::Json(json!({"name": "ann", "admin": true})),
                400,
                "invalid_body",
            ),
            unsigned(
                "not JSON",
                Body::Raw("application/json", b"{name".to_vec()),
                400,
                "invalid_body",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn sharing_refuses_each_kind_of_bad_request() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let t = Some(token.as_str());
    let gallery = format!("/api/galleries/{}/shares", Uuid::new_v4());
    let album = format!("/api/albums/{}/shares", Uuid::new_v4());
    let members = format!("/api/albums/{}/members", Uuid::new_v4());
    let delete = |name, path: String, status, code| Case {
        name,
        method: reqwest::Method::DELETE,
        path,
        token: Some(token.clone()),
        body: Body::None,
        headers: vec![],
        status,
        code,
    };
    let shared = |name, token: &str, headers: Vec<(&'static str, String)>, status, code| Case {
        name,
        method: reqwest::Method::GET,
        path: format!("/api/shared/{token}"),
        token: None,
        body: Body::None,
        headers,
        status,
        code,
    };
    let unknown = "A".repeat(43);
    run(
        &app,
        vec![
            post(
                "share: not JSON",
                &gallery,
                &token,
                json!("x"),
                400,
                "invalid_body",
            ),
            post(
                "share: unknown field",
                &gallery,
                &token,
                json!({"public": true}),
                400,
                "invalid_body",
            ),
            post(
                "share: download not a bool",
                &gallery,
                &token,
                json!({"allowDownload": "yes"}),
                400,
                "invalid_body",
            ),
            post(
                "share: expiry not a time",
                &gallery,
                &token,
                json!({"expiresAt": "tomorrow"}),
                400,
                "invalid_body",
            ),
            post(
                "share: expiry in the past",
                &gallery,
                &token,
                json!({"expiresAt": "2001-01-01T00:00:00Z"}),
                422,
                "expiry_in_past",
            ),
            post(
                "share: empty password",
                &gallery,
                &token,
                json!({"password": ""}),
                422,
                "invalid_password",
            ),
            post(
                "share: password too long",
                &album,
                &token,
                json!({"password": "p".repeat(257)}),
                422,
                "invalid_password",
            ),
            post(
                "share: unknown gallery",
                &gallery,
                &token,
                json!({}),
                404,
                "not_found",
            ),
            post(
                "share: unknown album",
                &album,
                &token,
                json!({}),
                404,
                "not_found",
            ),
            post(
                "share: gallery id not a uuid",
                "/api/galleries/nope/shares",
                &token,
                json!({}),
                404,
                "not_found",
            ),
            Case {
                name: "share: body not JSON typed",
                method: reqwest::Method::POST,
                path: gallery.clone(),
                token: Some(token.clone()),
                body: Body::Raw("text/plain", b"{}".to_vec()),
                headers: vec![],
                status: 415,
                code: "unsupported_content_type",
            },
            get(
                "shares: limit zero",
                "/api/shares?limit=0",
                t,
                400,
                "invalid_limit",
            ),
            get(
                "shares: bad cursor",
                "/api/shares?cursor=zzz",
                t,
                400,
                "invalid_cursor",
            ),
            delete(
                "revoke: unknown",
                format!("/api/shares/{}", Uuid::new_v4()),
                404,
                "not_found",
            ),
            delete(
                "revoke: not a uuid",
                "/api/shares/nope".into(),
                404,
                "not_found",
            ),
            shared("open: malformed token", "short", vec![], 404, "not_found"),
            shared("open: unknown token", &unknown, vec![], 404, "not_found"),
            shared(
                "open: token with a dot",
                &format!("{}.", &unknown[1..]),
                vec![],
                404,
                "not_found",
            ),
            shared(
                "open: password not UTF-8",
                &unknown,
                vec![("share-password", "%C3%28".into())],
                400,
                "invalid_password_header",
            ),
            post(
                "member: no subject",
                &members,
                &token,
                json!({}),
                400,
                "invalid_body",
            ),
            post(
                "member: empty subject",
                &members,
                &token,
                json!({"subject": ""}),
                422,
                "invalid_subject",
            ),
            post(
                "member: subject too long",
                &members,
                &token,
                json!({"subject": "s".repeat(256)}),
                422,
                "invalid_subject",
            ),
            post(
                "member: control character",
                &members,
                &token,
                json!({"subject": "bob\u{7}"}),
                422,
                "invalid_subject",
            ),
            post(
                "member: unknown role",
                &members,
                &token,
                json!({"subject": "bob", "role": "owner"}),
                422,
                "invalid_role",
            ),
            post(
                "member: yourself",
                &members,
                &token,
                json!({"subject": "alice"}),
                422,
                "cannot_share_with_yourself",
            ),
            post(
                "member: unknown album",
                &members,
                &token,
                json!({"subject": "bob"}),
                404,
                "not_found",
            ),
            get("members: unknown album", &members, t, 404, "not_found"),
            delete(
                "member: not one",
                format!("{members}/bob"),
                404,
                "not_found",
            ),
            get(
                "shared with me: limit",
                "/api/shared-with-me?limit=101",
                t,
                400,
                "invalid_limit",
            ),
            get(
                "shared with me: unknown album",
                &format!("/api/shared-with-me/{}", Uuid::new_v4()),
                t,
                404,
                "not_found",
            ),
            get(
                "shared with me: not a uuid",
                "/api/shared-with-me/nope",
                t,
                404,
                "not_found",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn cancel_and_retry_refuse_unknown_and_malformed_jobs() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let unknown = Uuid::new_v4();
    run(
        &app,
        vec![
            post(
                "cancel: unknown job",
                &format!("/api/jobs/{unknown}/cancel"),
                &token,
                json!({}),
                404,
                "not_found",
            ),
            post(
                "cancel: not a uuid",
                "/api/jobs/nope/cancel",
                &token,
                json!({}),
                404,
                "not_found",
            ),
            post(
                "retry: unknown job",
                &format!("/api/jobs/{unknown}/retry"),
                &token,
                json!({}),
                404,
                "not_found",
            ),
            post(
                "retry: not a uuid",
                "/api/jobs/nope/retry",
                &token,
                json!({}),
                404,
                "not_found",
            ),
            get(
                "cancel: GET is not the method",
                &format!("/api/jobs/{unknown}/cancel"),
                Some(&token),
                405,
                "method_not_allowed",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn deleting_refuses_unknown_and_malformed_ids_and_queries() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let unknown = Uuid::new_v4();
    let delete = |name, path: String, status, code| Case {
        name,
        method: reqwest::Method::DELETE,
        path,
        token: Some(token.clone()),
        body: Body::None,
        headers: vec![],
        status,
        code,
    };
    run(
        &app,
        vec![
            delete(
                "image: unknown",
                format!("/api/images/{unknown}"),
                404,
                "not_found",
            ),
            delete(
                "image: not a uuid",
                "/api/images/nope".into(),
                404,
                "not_found",
            ),
            delete(
                "gallery: unknown",
                format!("/api/galleries/{unknown}"),
                404,
                "not_found",
            ),
            delete(
                "gallery: not a uuid",
                "/api/galleries/nope".into(),
                404,
                "not_found",
            ),
            delete(
                "gallery: withPhotos not a bool",
                format!("/api/galleries/{unknown}?withPhotos=yes"),
                400,
                "invalid_query",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn generation_refuses_each_kind_of_bad_request() {
    use momentarium_tests::image_providers::ImageServer;
    let gemini = ImageServer::gemini(vec![]).await;
    let openai = ImageServer::openai(vec![]).await;
    let app = TestApp::spawn_with_image_providers(&gemini, &openai, &[]).await;
    let token = app.token("alice");
    let mine = app.upload_samples(&token, 4).await;
    let theirs = app.upload_samples(&app.token("bob"), 1).await.remove(0);
    let unknown = Uuid::new_v4();
    let g = "/api/generations";
    let edit = format!("/api/images/{}/edits", mine[0]);
    let t = Some(token.as_str());
    run(
        &app,
        vec![
            post(
                "generate: no prompt",
                g,
                &token,
                json!({}),
                400,
                "invalid_body",
            ),
            post(
                "generate: prompt not a string",
                g,
                &token,
                json!({"prompt": 7}),
                400,
                "invalid_body",
            ),
            post(
                "generate: unknown field",
                g,
                &token,
                json!({"prompt": "a", "n": 2}),
                400,
                "invalid_body",
            ),
            post(
                "generate: empty prompt",
                g,
                &token,
                json!({"prompt": ""}),
                422,
                "invalid_prompt",
            ),
            post(
                "generate: 4,001 characters",
                g,
                &token,
                json!({"prompt": "a".repeat(4001)}),
                422,
                "invalid_prompt",
            ),
            post(
                "generate: control characters",
                g,
                &token,
                json!({"prompt": "a\u{1}b"}),
                422,
                "invalid_prompt",
            ),
            post(
                "generate: unknown provider",
                g,
                &token,
                json!({"prompt": "a", "provider": "midjourney"}),
                422,
                "unknown_provider",
            ),
            post(
                "generate: ratio the provider lacks",
                g,
                &token,
                json!({"prompt": "a", "provider": "openai", "aspectRatio": "21:9"}),
                422,
                "unsupported_aspect_ratio",
            ),
            post(
                "generate: ratio not a ratio",
                g,
                &token,
                json!({"prompt": "a", "aspectRatio": "wide"}),
                422,
                "unsupported_aspect_ratio",
            ),
            post(
                "generate: four references",
                g,
                &token,
                json!({"prompt": "a", "referenceImageIds": mine}),
                422,
                "too_many_references",
            ),
            post(
                "generate: a reference twice",
                g,
                &token,
                json!({"prompt": "a", "referenceImageIds": [mine[0], mine[0]]}),
                422,
                "duplicate_reference",
            ),
            post(
                "generate: another user's photo",
                g,
                &token,
                json!({"prompt": "a", "referenceImageIds": [theirs]}),
                404,
                "not_found",
            ),
            post(
                "generate: unknown photo",
                g,
                &token,
                json!({"prompt": "a", "referenceImageIds": [unknown]}),
                404,
                "not_found",
            ),
            post(
                "generate: reference not a uuid",
                g,
                &token,
                json!({"prompt": "a", "referenceImageIds": ["nope"]}),
                400,
                "invalid_body",
            ),
            Case {
                name: "generate: body not JSON typed",
                method: reqwest::Method::POST,
                path: g.into(),
                token: Some(token.clone()),
                body: Body::Raw("text/plain", b"{}".to_vec()),
                headers: vec![],
                status: 415,
                code: "unsupported_content_type",
            },
            Case {
                name: "generate: bad Idempotency-Key",
                method: reqwest::Method::POST,
                path: g.into(),
                token: Some(token.clone()),
                body: Body::Json(json!({"prompt": "a"})),
                headers: vec![("idempotency-key", "k".repeat(300))],
                status: 400,
                code: "invalid_idempotency_key",
            },
            post(
                "edit: another user's photo",
                &format!("/api/images/{theirs}/edits"),
                &token,
                json!({"prompt": "a"}),
                404,
                "not_found",
            ),
            post(
                "edit: unknown photo",
                &format!("/api/images/{unknown}/edits"),
                &token,
                json!({"prompt": "a"}),
                404,
                "not_found",
            ),
            post(
                "edit: not a uuid",
                "/api/images/nope/edits",
                &token,
                json!({"prompt": "a"}),
                404,
                "not_found",
            ),
            post(
                "edit: the photo again as a reference",
                &edit,
                &token,
                json!({"prompt": "a", "referenceImageIds": [mine[0]]}),
                422,
                "duplicate_reference",
            ),
            post(
                "edit: three more references",
                &edit,
                &token,
                json!({"prompt": "a", "referenceImageIds": &mine[1..4]}),
                422,
                "too_many_references",
            ),
            get(
                "history: limit zero",
                "/api/generations?limit=0",
                t,
                400,
                "invalid_limit",
            ),
            get(
                "history: bad cursor",
                "/api/generations?cursor=zzz",
                t,
                400,
                "invalid_cursor",
            ),
            get(
                "generation: unknown",
                &format!("/api/generations/{unknown}"),
                t,
                404,
                "not_found",
            ),
            get(
                "generation: not a uuid",
                "/api/generations/nope",
                t,
                404,
                "not_found",
            ),
            Case {
                name: "generation: DELETE is not the method",
                method: reqwest::Method::DELETE,
                path: format!("/api/generations/{unknown}"),
                token: Some(token.clone()),
                body: Body::None,
                headers: vec![],
                status: 405,
                code: "method_not_allowed",
            },
        ],
    )
    .await;
    // Nothing was queued by any of them.
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
async fn settings_refuse_each_kind_of_bad_change() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let change = |name: &'static str, body: Value, status: u16, code: &'static str| Case {
        name,
        method: reqwest::Method::PATCH,
        path: "/api/me".into(),
        token: Some(token.clone()),
        body: Body::Json(body),
        headers: vec![],
        status,
        code,
    };
    run(
        &app,
        vec![
            change(
                "name: 101 characters",
                json!({"displayName": "é".repeat(101)}),
                422,
                "invalid_display_name",
            ),
            change(
                "name: blank",
                json!({"displayName": "   "}),
                422,
                "invalid_display_name",
            ),
            change(
                "name: control characters",
                json!({"displayName": "a\u{7}b"}),
                422,
                "invalid_display_name",
            ),
            change(
                "name: a number",
                json!({"displayName": 7}),
                400,
                "invalid_body",
            ),
            change(
                "language: unknown",
                json!({"language": "pt-BR"}),
                422,
                "unsupported_language",
            ),
            change(
                "language: empty",
                json!({"language": ""}),
                422,
                "unsupported_language",
            ),
            change(
                "language: a list",
                json!({"language": ["de"]}),
                400,
                "invalid_body",
            ),
            change(
                "unknown field",
                json!({"email": "a@b.c"}),
                400,
                "invalid_body",
            ),
            change("not an object", json!(["de"]), 400, "invalid_body"),
            Case {
                name: "body not JSON typed",
                method: reqwest::Method::PATCH,
                path: "/api/me".into(),
                token: Some(token.clone()),
                body: Body::Raw("text/plain", b"{}".to_vec()),
                headers: vec![],
                status: 415,
                code: "unsupported_content_type",
            },
            Case {
                name: "PUT is not the method",
                method: reqwest::Method::PUT,
                path: "/api/me".into(),
                token: Some(token.clone()),
                body: Body::Json(json!({})),
                headers: vec![],
                status: 405,
                code: "method_not_allowed",
            },
        ],
    )
    .await;
    let me: Value = app.get("/api/me", &token).await.json().await.unwrap();
    assert_eq!(
        (me["displayName"].clone(), me["language"].as_str()),
        (Value::Null, Some("en"))
    );
}

#[tokio::test]
async fn search_refuses_each_kind_of_bad_query() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let t = Some(token.as_str());
    let mine = app.upload_samples(&token, 1).await;
    let bob = app.token("bob");
    let bobs = app.upload_samples(&bob, 1).await;
    let long = format!("/api/search?q={}", "b".repeat(501));
    let too_long_for_a_url = format!("/api/search?q={}", "b".repeat(9000));
    let others = format!("/api/search?similarTo={}", bobs[0]);
    let unknown = format!("/api/search?similarTo={}", Uuid::new_v4());
    let place = format!("/api/search?place={}", "p".repeat(201));
    run(
        &app,
        vec![
            get("query: 501 characters", &long, t, 422, "query_too_long"),
            get(
                "query: past the request-line limit",
                &too_long_for_a_url,
                t,
                414,
                "uri_too_long",
            ),
            get(
                "query: a NUL",
                "/api/search?q=a%00b",
                t,
                400,
                "invalid_query",
            ),
            get(
                "unknown parameter",
                "/api/search?sort=new",
                t,
                400,
                "invalid_query",
            ),
            get(
                "parameter twice",
                "/api/search?q=a&q=b",
                t,
                400,
                "invalid_query",
            ),
            get(
                "limit: zero",
                "/api/search?limit=0",
                t,
                400,
                "invalid_limit",
            ),
            get(
                "limit: 101",
                "/api/search?limit=101",
                t,
                400,
                "invalid_limit",
            ),
            get(
                "limit: a word",
                "/api/search?limit=ten",
                t,
                400,
                "invalid_limit",
            ),
            get(
                "cursor: not ours",
                "/api/search?cursor=zzz",
                t,
                400,
                "invalid_cursor",
            ),
            get(
                "cursor: too deep",
                "/api/search?cursor=bzo5OTk5",
                t,
                400,
                "invalid_cursor",
            ),
            get(
                "from: not a date",
                "/api/search?from=May",
                t,
                400,
                "invalid_date",
            ),
            get(
                "to: month 13",
                "/api/search?to=2025-13-01",
                t,
                400,
                "invalid_date",
            ),
            get(
                "from after to",
                "/api/search?from=2025-06-02&to=2025-06-01",
                t,
                422,
                "invalid_range",
            ),
            get(
                "album: not a uuid",
                "/api/search?album=x",
                t,
                400,
                "invalid_id",
            ),
            get(
                "similarTo: not a uuid",
                "/api/search?similarTo=x",
                t,
                400,
                "invalid_id",
            ),
            get(
                "similarTo: someone else's photo",
                &others,
                t,
                404,
                "not_found",
            ),
            get("similarTo: no such photo", &unknown, t, 404, "not_found"),
            get("place: 201 characters", &place, t, 400, "invalid_place"),
            get(
                "place: a NUL",
                "/api/search?place=a%00b",
                t,
                400,
                "invalid_place",
            ),
            get(
                "from: the year -262143",
                "/api/search?from=-262143-01-01",
                t,
                400,
                "invalid_date",
            ),
            get(
                "to: the year +262142",
                "/api/search?to=%2B262142-12-31",
                t,
                400,
                "invalid_date",
            ),
            get(
                "from: the year 5",
                "/api/search?from=0005-01-01",
                t,
                400,
                "invalid_date",
            ),
            get(
                "today: not a date",
                "/api/search?today=now",
                t,
                400,
                "invalid_date",
            ),
            Case {
                name: "history: POST is not the method",
                method: reqwest::Method::POST,
                path: "/api/search/history".into(),
                token: Some(token.clone()),
                body: Body::None,
                headers: vec![],
                status: 405,
                code: "method_not_allowed",
            },
        ],
    )
    .await;
    // None of them was remembered, and Alice's own photo is still found.
    let history: Value = app
        .get("/api/search/history", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["searches"], json!([]));
    let (status, found) = {
        let r = app.get("/api/search", &token).await;
        (r.status(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 200);
    assert_eq!(found["results"][0]["imageId"], mine[0].as_str());
}
