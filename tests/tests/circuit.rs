//! A model that hangs keeps no job hostage: a job's deadline hands it to the offline
//! organiser, and after repeated failures a circuit breaker (a row every instance
//! shares) stops asking the model for a cooldown, then lets one trial call decide.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use momentarium_shared::usecase::run_job::{ProcessOutcome, circuit_name};
use momentarium_tests::TestApp;
use momentarium_tests::gemini::{self, GeminiServer, Reply};
use momentarium_tests::photos::{self, Exif};
use serde_json::{Value, json};
use uuid::Uuid;

async fn job(app: &TestApp, token: &str) -> Uuid {
    let files: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "a.jpg",
            "image/jpeg",
            photos::jpeg(40, 30, [200, 90, 40], &Exif::default()),
        ),
        (
            "b.jpg",
            "image/jpeg",
            photos::jpeg(40, 30, [40, 90, 200], &Exif::default()),
        ),
    ];
    let ids = app.upload_photos(token, &files).await;
    app.process_job_id(token, &ids).await
}

fn answer() -> Reply {
    Reply::answer(json!({
        "albums": [{"title": "Two", "description": "Both.", "cover": 1, "photos": [1, 2]}],
        "photos": [
            {"photo": 1, "caption": "One.", "tags": []},
            {"photo": 2, "caption": "Two.", "tags": []}
        ]
    }))
}

async fn job_row(app: &TestApp, job: Uuid) -> (String, Option<String>, Option<String>) {
    let row = app
        .db
        .client()
        .await
        .query_one(
            "SELECT status, organizer, fallback_reason FROM processing_jobs WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

async fn circuit(app: &TestApp) -> String {
    app.db
        .client()
        .await
        .query_opt(
            "SELECT state FROM circuits WHERE name = $1",
            &[&circuit_name(gemini::MODEL)],
        )
        .await
        .unwrap()
        .map_or_else(|| "closed".into(), |r| r.get(0))
}

async fn health(app: &TestApp) -> Value {
    app.http
        .get(app.url("/api/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_hanging_model_opens_the_circuit_then_jobs_fall_back_at_once_until_a_trial_succeeds() {
    let hang = || Reply::Hang(Duration::from_secs(30));
    // Two jobs meet a hanging model; the fourth job's call (the trial) gets an answer.
    let gemini = GeminiServer::start(vec![hang(), hang(), answer()]).await;
    let app = TestApp::spawn_with_gemini(
        &gemini,
        &[
            ("GEMINI_TIMEOUT_SECS", "1"),
            ("GEMINI_MAX_ATTEMPTS", "1"),
            ("JOB_MAX_ATTEMPTS", "1"),
            ("MODEL_CIRCUIT_FAILURES", "2"),
            ("MODEL_CIRCUIT_COOLDOWN_SECS", "2"),
        ],
    )
    .await;
    let alice = app.token("alice");

    for round in 1..=2 {
        let id = job(&app, &alice).await;
        let outcome = app.run_job_now(id).await.unwrap();
        assert!(
            matches!(outcome, ProcessOutcome::Completed { .. }),
            "{outcome:?}"
        );
        let (status, organizer, _) = job_row(&app, id).await;
        assert_eq!(
            (status.as_str(), organizer.as_deref()),
            ("completed", Some("offline"))
        );
        assert_eq!(gemini.seen().len(), round, "each job asked the model once");
    }
    assert_eq!(circuit(&app).await, "open", "two failures in a row open it");
    let h = health(&app).await;
    assert_eq!(
        (h["status"].as_str(), h["model"].as_str()),
        (Some("degraded"), Some("circuit_open"))
    );

    // Open: the next job is organised offline without asking the model.
    let id = job(&app, &alice).await;
    app.run_job_now(id).await.unwrap();
    let (_, organizer, reason) = job_row(&app, id).await;
    assert_eq!(organizer.as_deref(), Some("offline"));
    assert!(reason.unwrap().contains("given a rest"));
    assert_eq!(gemini.seen().len(), 2, "the model was not asked");

    // After the cooldown one trial call is let through; it succeeds and closes it.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let id = job(&app, &alice).await;
    app.run_job_now(id).await.unwrap();
    let (_, organizer, _) = job_row(&app, id).await;
    assert_eq!(organizer.as_deref(), Some("gemini"));
    assert_eq!(circuit(&app).await, "closed");
    assert_eq!(health(&app).await["model"], "ok");
}

#[tokio::test]
async fn a_failed_trial_opens_the_circuit_again() {
    let hang = || Reply::Hang(Duration::from_secs(30));
    let gemini = GeminiServer::start(vec![hang(), hang()]).await;
    let app = TestApp::spawn_with_gemini(
        &gemini,
        &[
            ("GEMINI_TIMEOUT_SECS", "1"),
            ("GEMINI_MAX_ATTEMPTS", "1"),
            ("JOB_MAX_ATTEMPTS", "1"),
            ("MODEL_CIRCUIT_FAILURES", "1"),
            ("MODEL_CIRCUIT_COOLDOWN_SECS", "1"),
        ],
    )
    .await;
    let alice = app.token("alice");
    let id = job(&app, &alice).await;
    app.run_job_now(id).await.unwrap();
    assert_eq!(circuit(&app).await, "open");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The trial: the model hangs again.
    let id = job(&app, &alice).await;
    app.run_job_now(id).await.unwrap();
    assert_eq!(gemini.seen().len(), 2, "the trial asked the model");
    assert_eq!(circuit(&app).await, "open", "a failed trial opens it again");
    // And it stays open for another cooldown.
    let id = job(&app, &alice).await;
    app.run_job_now(id).await.unwrap();
    assert_eq!(gemini.seen().len(), 2);
}

#[tokio::test]
async fn past_its_deadline_a_job_gets_the_offline_albums_with_the_reason() {
    // The model hangs for longer than the job's whole deadline.
    let gemini = GeminiServer::start(vec![Reply::Hang(Duration::from_secs(60))]).await;
    let app = TestApp::spawn_with_gemini(
        &gemini,
        &[("GEMINI_TIMEOUT_SECS", "60"), ("JOB_DEADLINE_SECS", "3")],
    )
    .await;
    let alice = app.token("alice");
    let id = job(&app, &alice).await;
    // Without the deadline this first of five deliveries would wait out the 60 s call and
    // give the job back (an error here), not complete it.
    let outcome = app.run_job_now(id).await.unwrap();
    assert!(
        matches!(outcome, ProcessOutcome::Completed { .. }),
        "{outcome:?}"
    );
    let (status, organizer, reason) = job_row(&app, id).await;
    assert_eq!(
        (status.as_str(), organizer.as_deref()),
        ("completed", Some("offline"))
    );
    assert!(reason.is_some());

    // A job older than its deadline when it is delivered does not ask the model at all.
    let late = job(&app, &alice).await;
    app.db
        .client()
        .await
        .execute(
            "UPDATE processing_jobs SET created_at = now() - interval '1 hour' WHERE id = $1",
            &[&late],
        )
        .await
        .unwrap();
    let asked = gemini.seen().len();
    app.run_job_now(late).await.unwrap();
    let (_, organizer, reason) = job_row(&app, late).await;
    assert_eq!(organizer.as_deref(), Some("offline"));
    assert!(reason.unwrap().contains("within 3 s"));
    assert_eq!(gemini.seen().len(), asked);
}
