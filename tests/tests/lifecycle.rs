//! Stopping what was started and trying it again: cancel a pending or a running job
//! (it writes nothing), a cancel racing a worker's claim (one outcome), retry a failed or
//! cancelled job as a new one.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use momentarium_shared::domain::JobStatus;
use momentarium_shared::usecase::run_job::ProcessOutcome;
use momentarium_tests::gemini::{GeminiServer, Reply};
use momentarium_tests::{TestApp, assert_error};
use serde_json::{Value, json};
use uuid::Uuid;

async fn albums_of_job(app: &TestApp, job: Uuid) -> i64 {
    app.db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM albums a JOIN processing_jobs j ON j.gallery_id = a.gallery_id \
             WHERE j.id = $1",
            &[&job],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_pending_job_cancelled_never_runs_and_an_ended_one_cannot_be_cancelled() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let ids = app.upload_samples(&alice, 2).await;
    let job = app.process_job_id(&alice, &ids).await;
    let cancel = format!("/api/jobs/{job}/cancel");

    // Someone else's job is as absent as an unknown one.
    assert_error(app.post(&cancel, &app.token("bob")).await, 404, "not_found").await;

    let response = app.post(&cancel, &alice).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "cancelled");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("nothing was written")
    );

    // Its delivery arrives later: nothing runs.
    let outcome = app.run_job_now(job).await.unwrap();
    assert!(
        matches!(
            outcome,
            ProcessOutcome::AlreadyFinished(JobStatus::Cancelled)
        ),
        "{outcome:?}"
    );
    assert_eq!(albums_of_job(&app, job).await, 0);
    assert_error(app.post(&cancel, &alice).await, 409, "job_finished").await;

    // A completed job cannot be cancelled either.
    let done = app.process_job_id(&alice, &ids).await;
    app.run_job_now(done).await.unwrap();
    assert_error(
        app.post(&format!("/api/jobs/{done}/cancel"), &alice).await,
        409,
        "job_finished",
    )
    .await;
}

#[tokio::test]
async fn a_running_job_cancelled_stops_and_writes_nothing() {
    // The model takes 1.5 s; the job is cancelled while it waits.
    let gemini = GeminiServer::start(vec![Reply::Delayed(
        Duration::from_millis(1500),
        Box::new(Reply::answer(json!({
            "albums": [{"title": "Garden", "description": "Flowers.", "cover": 1, "photos": [1, 2]}],
            "photos": [
                {"photo": 1, "caption": "A ladybird.", "tags": ["insect"]},
                {"photo": 2, "caption": "A rose.", "tags": ["flower"]}
            ]
        }))),
    )])
    .await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let alice = app.token("alice");
    let ids = app.upload_samples(&alice, 2).await;
    let job = app.process_job_id(&alice, &ids).await;
    let worker = app.run_job_in_background(job);
    app.wait_for_stage(job, "asking_model").await;
    let client = app.db.client().await;
    let response = app.post(&format!("/api/jobs/{job}/cancel"), &alice).await;
    assert_eq!(response.status(), 200);

    let outcome = worker.await.unwrap().unwrap();
    assert!(
        matches!(outcome, ProcessOutcome::HeldElsewhere),
        "{outcome:?}"
    );
    let row = client
        .query_one(
            "SELECT status, (SELECT count(*) FROM images WHERE caption IS NOT NULL) \
             FROM processing_jobs WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "cancelled");
    assert_eq!(row.get::<_, i64>(1), 0, "no caption was written");
    assert_eq!(albums_of_job(&app, job).await, 0);
}

#[tokio::test]
async fn a_cancel_racing_a_workers_claim_has_exactly_one_outcome() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let ids = app.upload_samples(&alice, 3).await;
    let (mut cancelled, mut completed) = (0, 0);
    // The cancel is sent after the worker starts, a little later each time: at first it
    // meets the job pending or mid-run, at the end (1.5 s on) the job is long done.
    for delay_ms in [0, 0, 0, 5, 10, 20, 40, 80, 160, 320, 640, 1500] {
        let job = app.process_job_id(&alice, &ids).await;
        let worker = app.run_job_in_background(job);
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        let response = app.post(&format!("/api/jobs/{job}/cancel"), &alice).await;
        let status = response.status().as_u16();
        worker.await.unwrap().unwrap();
        let state: String = app
            .db
            .client()
            .await
            .query_one("SELECT status FROM processing_jobs WHERE id = $1", &[&job])
            .await
            .unwrap()
            .get(0);
        let albums = albums_of_job(&app, job).await;
        match status {
            200 => {
                assert_eq!((state.as_str(), albums), ("cancelled", 0));
                cancelled += 1;
            }
            409 => {
                assert_eq!(state, "completed");
                assert!(albums > 0);
                completed += 1;
            }
            other => panic!("cancel answered {other}"),
        }
    }
    assert_eq!(cancelled + completed, 12);
    // Both sides of the race were run (the first cancels come before the worker can
    // finish; the last one long after).
    assert!(
        cancelled > 0 && completed > 0,
        "{cancelled} cancelled, {completed} completed"
    );
}

#[tokio::test]
async fn a_cancelled_or_failed_job_is_tried_again_as_a_new_job_with_the_same_photos() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let ids = app.upload_samples(&alice, 3).await;
    let job = app.process_job_id(&alice, &ids).await;
    assert_eq!(
        app.post(&format!("/api/jobs/{job}/cancel"), &alice)
            .await
            .status(),
        200
    );
    let retry = format!("/api/jobs/{job}/retry");
    assert_error(app.post(&retry, &app.token("bob")).await, 404, "not_found").await;
    let response = app.post(&retry, &alice).await;
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    let new_job = Uuid::parse_str(accepted["jobId"].as_str().unwrap()).unwrap();
    assert_ne!(new_job, job);
    // Asked twice: the same new job.
    let again: Value = app.post(&retry, &alice).await.json().await.unwrap();
    assert_eq!(again["jobId"], accepted["jobId"]);

    app.run_job_now(new_job).await.unwrap();
    let client = app.db.client().await;
    let organised: Vec<Uuid> = client
        .query(
            "SELECT ai.image_id FROM album_images ai JOIN processing_jobs j \
             ON j.gallery_id = ai.gallery_id WHERE j.id = $1 ORDER BY ai.image_id",
            &[&new_job],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut wanted: Vec<Uuid> = ids.iter().map(|i| Uuid::parse_str(i).unwrap()).collect();
    wanted.sort();
    assert_eq!(organised, wanted);
    // The old job stays as it ended; a completed one is not retried.
    let old: String = client
        .query_one("SELECT status FROM processing_jobs WHERE id = $1", &[&job])
        .await
        .unwrap()
        .get(0);
    assert_eq!(old, "cancelled");
    assert_error(
        app.post(&format!("/api/jobs/{new_job}/retry"), &alice)
            .await,
        409,
        "not_retryable",
    )
    .await;

    // A failed job whose photos were partly deleted since: the rest are tried again.
    let failed = app.process_job_id(&alice, &ids).await;
    client
        .execute(
            "UPDATE processing_jobs SET status = 'failed', error = 'The model was unavailable.' \
             WHERE id = $1",
            &[&failed],
        )
        .await
        .unwrap();
    client
        .execute(
            "DELETE FROM images WHERE id = $1",
            &[&Uuid::parse_str(&ids[0]).unwrap()],
        )
        .await
        .unwrap();
    let response = app.post(&format!("/api/jobs/{failed}/retry"), &alice).await;
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    let retried = Uuid::parse_str(accepted["jobId"].as_str().unwrap()).unwrap();
    let photos: Vec<Uuid> = client
        .query_one(
            "SELECT image_ids FROM processing_jobs WHERE id = $1",
            &[&retried],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(photos.len(), 2);

    // Photos deleted since a retry do not change its answer: the same new job.
    let again: Value = app.post(&retry, &alice).await.json().await.unwrap();
    assert_eq!(again["jobId"], new_job.to_string());

    // A failed job none of whose photos are left: nothing to try.
    let orphan = app.process_job_id(&alice, &ids[1..]).await;
    client
        .execute(
            "UPDATE processing_jobs SET status = 'failed', error = 'The model was unavailable.' \
             WHERE id = $1",
            &[&orphan],
        )
        .await
        .unwrap();
    client
        .execute(
            "DELETE FROM images WHERE id = ANY($1)",
            &[&ids[1..]
                .iter()
                .map(|i| Uuid::parse_str(i).unwrap())
                .collect::<Vec<_>>()],
        )
        .await
        .unwrap();
    assert_error(
        app.post(&format!("/api/jobs/{orphan}/retry"), &alice).await,
        409,
        "no_photos_left",
    )
    .await;
}
