//! `GET /api/jobs/{jobId}/events`: a job's progress pushed as server-sent events, read
//! over HTTP as a browser or the CLI reads them, while the processor runs the job against
//! the Gemini-protocol server (answering after a delay, so the model stage is seen).

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use momentarium_shared::usecase::run_job::{Delivery, run_job};
use momentarium_tests::gemini::{GeminiServer, Reply};
use momentarium_tests::photos::{self, Exif};
use momentarium_tests::{TestApp, assert_error};
use serde_json::{Value, json};

/// Uploads two photos and asks for them to be organised (no queue: the job waits).
async fn pending_job(app: &TestApp, token: &str) -> uuid::Uuid {
    let photos: Vec<(&str, &str, Vec<u8>)> = (0..2u8)
        .map(|i| {
            let exif = Exif {
                taken: Some("2025:05:10 09:40:00"),
                ..Exif::default()
            };
            (
                ["a.jpg", "b.jpg"][i as usize],
                "image/jpeg",
                photos::jpeg(64, 48, [40 * i, 90, 200], &exif),
            )
        })
        .collect();
    let ids = app.upload_photos(token, &photos).await;
    app.process_job_id(token, &ids).await
}

/// The `status` events of one stream, in order, until it ends.
async fn read_events(response: reqwest::Response) -> Vec<Value> {
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let started = Instant::now();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(30), body.next())
        .await
        .expect("an event or the end within 30 s")
    {
        text.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        assert!(started.elapsed() < Duration::from_secs(60), "{text}");
    }
    parse(&text)
}

/// The data of each `status` event in an event-stream text.
fn parse(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter(|block| block.lines().any(|l| l == "event: status"))
        .map(|block| {
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap();
            serde_json::from_str(data).unwrap()
        })
        .collect()
}

fn state(event: &Value) -> (String, String) {
    (
        event["status"].as_str().unwrap().to_string(),
        event["stage"].as_str().unwrap_or("-").to_string(),
    )
}

#[tokio::test]
async fn a_followed_job_pushes_each_stage_once_in_order_until_it_completes() {
    let gemini = GeminiServer::start(vec![Reply::Delayed(
        Duration::from_millis(1500),
        Box::new(Reply::answer(json!({
            "albums": [{"title": "Morning in the Garden", "description": "Flowers.", "cover": 1, "photos": [1, 2]}],
            "photos": [
                {"photo": 1, "caption": "A ladybird.", "tags": ["insect"]},
                {"photo": 2, "caption": "A rose.", "tags": ["flower"]}
            ]
        }))),
    )])
    .await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let token = app.token("alice");
    let job = pending_job(&app, &token).await;

    let stream = app.get(&format!("/api/jobs/{job}/events"), &token).await;
    let worker = {
        let app = app.app.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            run_job(
                &app,
                job,
                Delivery {
                    deadline: Instant::now() + Duration::from_secs(60),
                },
            )
            .await
        })
    };
    let events = read_events(stream).await;
    worker.await.unwrap().unwrap();

    let states: Vec<(String, String)> = events.iter().map(state).collect();
    // Queued first; the model's stage (1.5 s long) is seen; completed last, and then the
    // stream ends by itself.
    assert_eq!(states.first().unwrap().0, "pending", "{states:?}");
    assert!(
        states.contains(&("processing".into(), "asking_model".into())),
        "{states:?}"
    );
    assert_eq!(
        states.last().unwrap(),
        &("completed".to_string(), "-".to_string())
    );
    // Forward only, each state once.
    let rank = |s: &(String, String)| match (s.0.as_str(), s.1.as_str()) {
        ("pending", _) => 0,
        ("processing", "preparing") => 1,
        ("processing", "asking_model") => 2,
        ("processing", "writing") => 3,
        ("completed", _) => 4,
        other => panic!("unexpected state {other:?}"),
    };
    let ranks: Vec<i32> = states.iter().map(rank).collect();
    assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{states:?}");
    let last = events.last().unwrap();
    assert_eq!(last["jobId"], job.to_string());
    assert_eq!(last["organizer"], "gemini");
    assert_eq!(last["attempts"], 1);
    assert_eq!(
        last["resultUrl"],
        format!("/api/galleries/{}", last["galleryId"].as_str().unwrap())
    );
    // The status endpoint answers the same body.
    let status: Value = app
        .get(&format!("/api/jobs/{job}/status"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(&status, last);
}

#[tokio::test]
async fn a_finished_job_answers_once_and_the_stream_ends() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let job = pending_job(&app, &token).await;
    app.run_job_now(job).await.unwrap();

    let events = read_events(app.get(&format!("/api/jobs/{job}/events"), &token).await).await;

    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(state(&events[0]), ("completed".into(), "-".into()));
    assert_eq!(events[0]["organizer"], "offline");
}

#[tokio::test]
async fn where_responses_cannot_stay_open_the_state_is_sent_once_with_retry() {
    // As behind API Gateway: the app without live events.
    let app = TestApp::spawn_with(|mut app| {
        app.live_events = false;
        app
    })
    .await;
    let token = app.token("alice");
    let job = pending_job(&app, &token).await;

    let response = app.get(&format!("/api/jobs/{job}/events"), &token).await;
    assert_eq!(response.status(), 200);
    let text = tokio::time::timeout(Duration::from_secs(5), response.text())
        .await
        .expect("the one-shot stream ends at once")
        .unwrap();

    assert!(text.contains("retry: 2500\n"), "{text}");
    let events = parse(&text);
    assert_eq!(events.len(), 1, "{text}");
    assert_eq!(state(&events[0]), ("pending".into(), "-".into()));
}

#[tokio::test]
async fn another_users_job_is_not_found_before_any_stream_starts() {
    let app = TestApp::spawn().await;
    let job = pending_job(&app, &app.token("alice")).await;

    let response = app
        .get(&format!("/api/jobs/{job}/events"), &app.token("mallory"))
        .await;

    assert_error(response, 404, "not_found").await;
}

#[tokio::test]
async fn the_callers_jobs_are_listed_newest_first_in_pages_and_nobody_elses() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let mut made = Vec::new();
    for _ in 0..3 {
        made.push(pending_job(&app, &token).await.to_string());
    }
    pending_job(&app, &app.token("bob")).await;

    let mut seen = Vec::new();
    let mut path = "/api/jobs?limit=2".to_string();
    loop {
        let response = app.get(&path, &token).await;
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.unwrap();
        for job in page["jobs"].as_array().unwrap() {
            assert_eq!(job["status"], "pending");
            assert_eq!(job["imageIds"].as_array().unwrap().len(), 2);
            seen.push(job["jobId"].as_str().unwrap().to_string());
        }
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/api/jobs?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    made.reverse();
    assert_eq!(seen, made, "alice's three, newest first, and not bob's");
}
