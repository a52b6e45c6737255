//! The web app's server side: the page, its fingerprinted assets and the local dev
//! sign-in, over HTTP. (The page itself is driven in Chromium by `cli/tests/web_app.rs`.)

#![allow(clippy::unwrap_used)]

use momentarium_shared::http::web::asset_paths;
use momentarium_tests::TestApp;
use serde_json::{Value, json};

#[tokio::test]
async fn the_page_links_fingerprinted_assets_that_are_cached_for_a_year() {
    let app = TestApp::spawn().await;

    let page = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(page.headers()["cache-control"], "no-cache");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<meta name="momentarium-sign-in" content="dev">"#));
    assert!(!html.contains("{{"), "every placeholder is filled: {html}");

    let paths = asset_paths();
    assert_eq!(paths.len(), 3);
    let mut total = 0;
    for path in &paths {
        assert!(html.contains(path.as_str()), "the page links {path}");
        let name = path.rsplit('/').next().unwrap();
        let hash = name.split('.').nth(1).unwrap();
        assert_eq!(hash.len(), 10, "{name}");
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let body = response.text().await.unwrap();
        assert!(!body.contains("{{"), "{path} links its imports");
        total += body.len();
    }
    // app.js imports the client module by its fingerprinted name.
    let app_js = paths
        .iter()
        .find(|p| p.contains("/app.") && p.ends_with(".js"))
        .unwrap();
    let client = paths.iter().find(|p| p.contains("/momentarium.")).unwrap();
    let body = app
        .http
        .get(app.url(app_js))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains(client.as_str()));
    // The page's own JS and CSS, uncompressed, well under the 60 KB gzipped budget.
    assert!(total < 60_000, "{total} bytes");
}

#[tokio::test]
async fn unknown_or_stale_asset_names_are_404_in_the_error_shape() {
    let app = TestApp::spawn().await;
    for path in [
        "/assets/app.js",
        "/assets/app.0000000000.js",
        "/assets/..%2F..%2Fetc%2Fpasswd",
    ] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
}

#[tokio::test]
async fn dev_sign_in_gives_a_token_the_api_accepts() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json("/api/dev/sign-in", "", &json!({"name": "  Ann  "}))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["subject"], "Ann");
    let token = body["token"].as_str().unwrap();
    let galleries = app.get("/api/galleries", token).await;
    assert_eq!(galleries.status(), 200);
}

#[tokio::test]
async fn dev_sign_in_is_refused_to_a_page_served_under_another_name() {
    let app = TestApp::spawn().await;
    // A site whose name resolves to 127.0.0.1 (DNS rebinding) sends its own name as Host.
    let response = app
        .http
        .post(app.url("/api/dev/sign-in"))
        .header("host", "attacker.example:3000")
        .json(&json!({"name": "Ann"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn without_dev_tokens_there_is_no_dev_sign_in_and_the_page_asks_for_a_token() {
    let app = TestApp::spawn_with(|mut app| {
        let mut config = (*app.config).clone();
        config.auth.dev_jwt_secret = None;
        app.config = std::sync::Arc::new(config);
        app
    })
    .await;
    let response = app
        .post_json("/api/dev/sign-in", "", &json!({"name": "Ann"}))
        .await;
    assert_eq!(response.status(), 404);
    let html = app
        .http
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"<meta name="momentarium-sign-in" content="token">"#));
}
