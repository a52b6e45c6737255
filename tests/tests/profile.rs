//! The person: `GET`/`PATCH /api/me` (display name, language), and the language reaching
//! what is written — the offline organiser's titles, and the model's instructions.

#![allow(clippy::unwrap_used)]

use momentarium_tests::gemini::{GeminiServer, Reply};
use momentarium_tests::photos::{self, Exif};
use momentarium_tests::{TestApp, assert_error};
use serde_json::{Value, json};

async fn patch(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.http
        .patch(app.url("/api/me"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Two photos of one Saturday evening (2 August 2025, 19:10 and 19:40 at UTC+2).
async fn evening(app: &TestApp, token: &str) -> Vec<String> {
    let exif = |taken| Exif {
        taken: Some(taken),
        offset: Some("+02:00"),
        gps: Some((54.91, 8.31)),
        ..Exif::default()
    };
    app.upload_photos(
        token,
        &[
            (
                "a.jpg",
                "image/jpeg",
                photos::jpeg(40, 30, [10, 20, 30], &exif("2025:08:02 19:10:00")),
            ),
            (
                "b.jpg",
                "image/jpeg",
                photos::jpeg(40, 30, [30, 20, 10], &exif("2025:08:02 19:40:00")),
            ),
        ],
    )
    .await
}

async fn first_album(app: &TestApp, token: &str, ids: &[String]) -> Value {
    let job = app.process_job_id(token, ids).await;
    app.run_job_now(job).await.unwrap();
    let status: Value = app
        .get(&format!("/api/jobs/{job}/status"), token)
        .await
        .json()
        .await
        .unwrap();
    let gallery: Value = app
        .get(status["resultUrl"].as_str().unwrap(), token)
        .await
        .json()
        .await
        .unwrap();
    gallery["albums"][0].clone()
}

#[tokio::test]
async fn settings_are_read_changed_and_cleared() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let me: Value = app.get("/api/me", &alice).await.json().await.unwrap();
    assert_eq!(me["subject"], "alice");
    assert_eq!(me["displayName"], Value::Null);
    assert_eq!(me["language"], "en");
    assert_eq!(me["languages"], json!(["en", "de", "fr", "es"]));

    let changed = patch(
        &app,
        &alice,
        json!({"displayName": "  Alice Martin ", "language": "de-CH"}),
    )
    .await;
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(
        (
            changed["displayName"].as_str(),
            changed["language"].as_str()
        ),
        (Some("Alice Martin"), Some("de"))
    );
    // Absent fields stay; null clears the name.
    let kept: Value = patch(&app, &alice, json!({"language": "fr"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["displayName"], "Alice Martin");
    let cleared: Value = patch(&app, &alice, json!({"displayName": null}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (cleared["displayName"].clone(), cleared["language"].as_str()),
        (Value::Null, Some("fr"))
    );
    // Nobody else's settings moved.
    let bob: Value = app
        .get("/api/me", &app.token("bob"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bob["language"], "en");
    // Refusals change nothing.
    assert_error(
        patch(&app, &alice, json!({"language": "pt"})).await,
        422,
        "unsupported_language",
    )
    .await;
    assert_error(
        patch(&app, &alice, json!({"displayName": "x".repeat(101)})).await,
        422,
        "invalid_display_name",
    )
    .await;
    let me: Value = app.get("/api/me", &alice).await.json().await.unwrap();
    assert_eq!(me["language"], "fr");
}

#[tokio::test]
async fn the_offline_organiser_writes_titles_in_the_persons_language() {
    let app = TestApp::spawn().await;
    let expected = [
        (
            "en",
            "Saturday Evening in Westerland, 2 August 2025",
            "2 photos taken between 19:10 and 19:40 in Westerland, Germany",
        ),
        (
            "de",
            "Samstagabend in Westerland, 2. August 2025",
            "2 Fotos, aufgenommen zwischen 19:10 und 19:40 in Westerland, Schleswig-Holstein",
        ),
        (
            "fr",
            "Samedi soir à Westerland, 2 août 2025",
            "2 photos prises entre 19:10 et 19:40 à Westerland, Schleswig-Holstein",
        ),
        (
            "es",
            "Sábado por la tarde en Westerland, 2 de agosto de 2025",
            "2 fotos tomadas entre las 19:10 y las 19:40 en Westerland, Schleswig-Holstein",
        ),
    ];
    for (language, title, description) in expected {
        let token = app.token(&format!("user-{language}"));
        assert_eq!(
            patch(&app, &token, json!({"language": language}))
                .await
                .status(),
            200
        );
        let ids = evening(&app, &token).await;
        let album = first_album(&app, &token, &ids).await;
        assert_eq!(album["title"], title, "{language}");
        assert!(
            album["description"]
                .as_str()
                .unwrap()
                .starts_with(description),
            "{language}: {album}"
        );
    }
}

#[tokio::test]
async fn the_model_is_asked_to_write_in_the_persons_language() {
    let plan = Reply::answer(json!({
        "albums": [{"title": "Abend am Meer", "description": "Zwei Fotos.", "cover": 1, "photos": [1, 2]}],
        "photos": [{"photo": 1, "caption": "Die Düne im Abendlicht.", "tags": ["düne"]}]
    }));
    let gemini = GeminiServer::start(vec![plan]).await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let token = app.token("greta");
    patch(&app, &token, json!({"language": "de"})).await;
    let ids = evening(&app, &token).await;
    let album = first_album(&app, &token, &ids).await;
    assert_eq!(album["title"], "Abend am Meer");
    let seen = gemini.seen();
    assert!(
        seen[0].texts[0].contains("Write every title, description, caption and tag in German."),
        "{:?}",
        seen[0].texts[0]
    );
    assert!(gemini.violations().is_empty(), "{:?}", gemini.violations());
}
