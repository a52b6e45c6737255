//! The processor against the Gemini-protocol server on loopback: every answer shape and
//! failure ends with each photo in exactly one album, or a failed job with a reason;
//! never a panic, never a job stuck in `processing`.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use momentarium_shared::usecase::run_job::{Delivery, ProcessOutcome, run_job};
use momentarium_tests::gemini::{GeminiServer, Reply};
use momentarium_tests::photos::{self, Exif};
use momentarium_tests::{CapturedLogs, TestApp};
use serde_json::{Value, json};
use uuid::Uuid;

fn exif(i: usize) -> Exif {
    if i.is_multiple_of(2) {
        Exif {
            taken: Some(
                [
                    "2025:05:10 09:40:00",
                    "2025:05:10 09:52:00",
                    "2025:05:10 10:05:00",
                ][i / 2 % 3],
            ),
            offset: Some("+02:00"),
            gps: Some((52.4559, 13.3063)),
            ..Exif::default()
        }
    } else {
        Exif {
            taken: Some(
                [
                    "2025:08:02 18:05:00",
                    "2025:08:02 18:20:00",
                    "2025:08:02 18:41:00",
                ][i / 2 % 3],
            ),
            offset: Some("+02:00"),
            gps: Some((54.9079, 8.3089)),
            ..Exif::default()
        }
    }
}

/// Uploads `n` small photos and asks for processing (no queue: the job stays pending).
async fn pending_job(app: &TestApp, n: usize) -> (Uuid, Vec<Uuid>) {
    pending_job_of_size(app, n, (96, 64)).await
}

/// Uploads `n` photos of `width × height` and asks for processing.
async fn pending_job_of_size(
    app: &TestApp,
    n: usize,
    (width, height): (u32, u32),
) -> (Uuid, Vec<Uuid>) {
    let token = app.token("alice");
    let files: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| {
            (
                format!("p{i}.jpg"),
                photos::jpeg(
                    width,
                    height,
                    [(i * 40) as u8, 90, 200 - (i * 30) as u8],
                    &exif(i),
                ),
            )
        })
        .collect();
    let specs: Vec<(&str, &str, Vec<u8>)> = files
        .iter()
        .map(|(n, b)| (n.as_str(), "image/jpeg", b.clone()))
        .collect();
    let ids = app.upload_photos(&token, &specs).await;
    let job = app.process_job_id(&token, &ids).await;
    (
        job,
        ids.iter().map(|i| Uuid::parse_str(i).unwrap()).collect(),
    )
}

async fn deliver(app: &TestApp, job: Uuid) -> ProcessOutcome {
    app.run_job_now(job).await.expect("no retry expected")
}

async fn job_row(app: &TestApp, job: Uuid) -> Value {
    app.db
        .client()
        .await
        .query_one(
            "SELECT to_jsonb(j) FROM processing_jobs j WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap()
        .get(0)
}

/// (title, members in order) per album, in album order.
async fn albums(app: &TestApp, job: Uuid) -> Vec<(String, Vec<Uuid>)> {
    let rows = app
        .db
        .client()
        .await
        .query(
            "SELECT a.title, array_agg(ai.image_id ORDER BY ai.position) \
             FROM processing_jobs j JOIN albums a ON a.gallery_id = j.gallery_id \
             JOIN album_images ai ON ai.album_id = a.id \
             WHERE j.id = $1 GROUP BY a.id, a.title, a.position ORDER BY a.position",
            &[&job],
        )
        .await
        .unwrap();
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

async fn assert_each_photo_once(
    app: &TestApp,
    job: Uuid,
    ids: &[Uuid],
) -> Vec<(String, Vec<Uuid>)> {
    let albums = albums(app, job).await;
    let mut all: Vec<Uuid> = albums.iter().flat_map(|(_, m)| m.clone()).collect();
    all.sort();
    let mut expected = ids.to_vec();
    expected.sort();
    assert_eq!(
        all, expected,
        "every photo in exactly one album: {albums:?}"
    );
    assert!(albums.iter().all(|(_, m)| !m.is_empty()));
    albums
}

fn plan(albums: Value) -> Reply {
    Reply::answer(json!({
        "albums": albums,
        "photos": [
            {"photo": 1, "caption": "A ladybird on a leaf.", "tags": ["Insect", "garden"]},
            {"photo": 2, "caption": "Dunes at dusk.", "tags": ["beach"]}
        ]
    }))
}

fn two_outings() -> Reply {
    plan(json!([
        {"title": "Morning in the Garden", "description": "Flowers and bugs.", "cover": 3, "photos": [1, 3]},
        {"title": "Evening on the Dunes", "description": "The North Sea.", "cover": 2, "photos": [2, 4]}
    ]))
}

#[tokio::test]
async fn a_good_answer_becomes_albums_captions_and_recorded_tokens() {
    let gemini = GeminiServer::start(vec![two_outings()]).await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    // Larger than the model's 768 px tile, so the downscale shows.
    let (job, ids) = pending_job_of_size(&app, 4, (1200, 900)).await;

    let outcome = deliver(&app, job).await;

    assert_eq!(
        outcome,
        ProcessOutcome::Completed {
            albums: 2,
            organizer: "gemini"
        }
    );
    assert!(gemini.violations().is_empty(), "{:?}", gemini.violations());
    let seen = gemini.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].images, 4);
    assert_eq!(seen[0].max_edge, 768, "1200×900 photos are sent at 768×576");
    assert!(
        seen[0]
            .texts
            .iter()
            .any(|t| t == "Photo 1: taken 2025-05-10 09:40 (UTC+02:00), in Dahlem, Germany (Berlin) at 52.4559, 13.3063"),
        "{:?}",
        seen[0].texts
    );
    let albums = assert_each_photo_once(&app, job, &ids).await;
    assert_eq!(
        albums[0],
        ("Morning in the Garden".to_string(), vec![ids[0], ids[2]])
    );
    assert_eq!(
        albums[1],
        ("Evening on the Dunes".to_string(), vec![ids[1], ids[3]])
    );
    let row = job_row(&app, job).await;
    assert_eq!(row["status"], "completed");
    assert_eq!(row["organizer"], "gemini");
    assert_eq!(row["model"], "gemini-test");
    assert_eq!(row["prompt_tokens"], 1290);
    assert_eq!(row["output_tokens"], 310);
    assert_eq!(row["thoughts_tokens"], 40);
    assert_eq!(row["total_tokens"], 1640);
    assert_eq!(row["lease_owner"], Value::Null);
    let caption = app
        .db
        .client()
        .await
        .query_one("SELECT caption, tags FROM images WHERE id = $1", &[&ids[0]])
        .await
        .unwrap();
    assert_eq!(caption.get::<_, String>(0), "A ladybird on a leaf.");
    assert_eq!(caption.get::<_, Vec<String>>(1), vec!["insect", "garden"]);
}

#[tokio::test]
async fn json_in_a_code_fence_or_prose_is_read() {
    let body = json!({"albums": [{"title": "All", "description": "", "cover": 1, "photos": [1, 2]}], "photos": []});
    for text in [
        format!("```json\n{body}\n```"),
        format!("Sure! Here is the gallery: {body} Hope you like it."),
    ] {
        let gemini = GeminiServer::start(vec![Reply::Text(text)]).await;
        let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
        let (job, ids) = pending_job(&app, 2).await;

        assert_eq!(
            deliver(&app, job).await,
            ProcessOutcome::Completed {
                albums: 1,
                organizer: "gemini"
            }
        );
        assert_each_photo_once(&app, job, &ids).await;
    }
}

#[tokio::test]
async fn out_of_range_duplicate_and_missing_indices_are_repaired() {
    let gemini = GeminiServer::start(vec![plan(json!([
        {"title": "A", "description": "", "cover": 7, "photos": [1, 1, 0, 9, -2]},
        {"title": "B", "description": "", "cover": 1, "photos": [1, 2]},
        {"title": "Nothing", "description": "", "cover": 6, "photos": [6, 7]}
    ]))])
    .await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let (job, ids) = pending_job(&app, 5).await;

    assert!(matches!(
        deliver(&app, job).await,
        ProcessOutcome::Completed {
            organizer: "gemini",
            ..
        }
    ));

    let albums = assert_each_photo_once(&app, job, &ids).await;
    assert_eq!(albums[0], ("A".to_string(), vec![ids[0]]));
    assert_eq!(albums[1], ("B".to_string(), vec![ids[1]]));
    assert_eq!(
        albums[2],
        ("More Moments".to_string(), vec![ids[2], ids[3], ids[4]])
    );
}

#[tokio::test]
async fn an_empty_album_list_still_gives_every_photo_an_album() {
    let gemini =
        GeminiServer::start(vec![Reply::answer(json!({"albums": [], "photos": []}))]).await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let (job, ids) = pending_job(&app, 3).await;

    assert_eq!(
        deliver(&app, job).await,
        ProcessOutcome::Completed {
            albums: 1,
            organizer: "gemini"
        }
    );
    assert_each_photo_once(&app, job, &ids).await;
}

#[tokio::test]
async fn unusable_or_refused_answers_fall_back_to_the_offline_organiser_without_looping() {
    let cases: Vec<(Reply, &str)> = vec![
        (Reply::Finish("MAX_TOKENS"), "MAX_TOKENS"),
        (Reply::Finish("SAFETY"), "SAFETY"),
        (Reply::Blocked("PROHIBITED_CONTENT"), "PROHIBITED_CONTENT"),
        (Reply::Error(400, "INVALID_ARGUMENT", vec![]), "HTTP 400"),
        (Reply::Error(403, "PERMISSION_DENIED", vec![]), "HTTP 403"),
        (Reply::Error(404, "NOT_FOUND", vec![]), "HTTP 404"),
    ];
    for (reply, reason) in cases {
        let gemini = GeminiServer::start(vec![reply]).await;
        let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
        let (job, ids) = pending_job(&app, 4).await;

        let outcome = deliver(&app, job).await;

        assert_eq!(
            outcome,
            ProcessOutcome::Completed {
                albums: 2,
                organizer: "offline"
            },
            "{reason}"
        );
        assert_eq!(
            gemini.seen().len(),
            1,
            "{reason}: a permanent failure is not retried"
        );
        let albums = assert_each_photo_once(&app, job, &ids).await;
        // Offline: the garden and coast outings never share an album.
        assert_eq!(albums[0].1, vec![ids[0], ids[2]], "{reason}");
        assert_eq!(albums[1].1, vec![ids[1], ids[3]], "{reason}");
        let row = job_row(&app, job).await;
        assert_eq!(row["organizer"], "offline");
        assert!(
            row["fallback_reason"].as_str().unwrap().contains(reason),
            "{reason}: {row}"
        );
    }
}

#[tokio::test]
async fn a_429_waits_for_its_retry_info_then_succeeds() {
    // A delay no backoff would pick by chance.
    let gemini = GeminiServer::start(vec![
        Reply::Error(429, "RESOURCE_EXHAUSTED", vec![Reply::retry_info("1.234s")]),
        two_outings(),
    ])
    .await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let (job, ids) = pending_job(&app, 4).await;
    let (logs, _guard) = CapturedLogs::start();

    assert_eq!(
        deliver(&app, job).await,
        ProcessOutcome::Completed {
            albums: 2,
            organizer: "gemini"
        }
    );

    let waits: Vec<Value> = logs
        .events("model unavailable; retrying")
        .iter()
        .map(|e| e["fields"]["wait_ms"].clone())
        .collect();
    assert_eq!(waits, vec![json!(1234)], "the wait is the RetryInfo delay");
    assert_eq!(gemini.seen().len(), 2);
    assert_each_photo_once(&app, job, &ids).await;
}

#[tokio::test]
async fn a_500_503_or_504_then_success_completes_with_the_model() {
    for (status, name) in [
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
        (504, "DEADLINE_EXCEEDED"),
    ] {
        let gemini =
            GeminiServer::start(vec![Reply::Error(status, name, vec![]), two_outings()]).await;
        let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
        let (job, ids) = pending_job(&app, 4).await;

        assert_eq!(
            deliver(&app, job).await,
            ProcessOutcome::Completed {
                albums: 2,
                organizer: "gemini"
            },
            "after a {status}"
        );
        assert_eq!(gemini.seen().len(), 2, "a {status} is asked again");
        assert_each_photo_once(&app, job, &ids).await;
    }
}

#[tokio::test]
async fn a_hang_past_the_timeout_gives_the_job_back_then_the_last_delivery_falls_back() {
    let hang = || Reply::Hang(Duration::from_secs(5));
    let gemini = GeminiServer::start(vec![hang(), hang(), hang(), hang()]).await;
    let app = TestApp::spawn_with_gemini(
        &gemini,
        &[
            ("GEMINI_TIMEOUT_SECS", "1"),
            ("GEMINI_MAX_ATTEMPTS", "2"),
            ("JOB_MAX_ATTEMPTS", "2"),
        ],
    )
    .await;
    let (job, ids) = pending_job(&app, 2).await;
    let delivery = || Delivery {
        deadline: Instant::now() + Duration::from_secs(30),
    };

    let first = run_job(&app.app, job, delivery()).await;

    let retry = first.expect_err("the first delivery asks to be redelivered");
    assert!(
        retry.reason.contains("no answer within 1s"),
        "{}",
        retry.reason
    );
    let row = job_row(&app, job).await;
    assert_eq!(row["status"], "pending", "not stuck in processing: {row}");
    assert!(row["error"].as_str().unwrap().contains("will be retried"));

    let second = run_job(&app.app, job, delivery()).await.unwrap();

    assert_eq!(
        second,
        ProcessOutcome::Completed {
            albums: 2,
            organizer: "offline"
        }
    );
    assert!(
        job_row(&app, job).await["fallback_reason"]
            .as_str()
            .unwrap()
            .contains("after 2 deliveries")
    );
    assert_eq!(gemini.seen().len(), 4);
    assert_each_photo_once(&app, job, &ids).await;
}

#[tokio::test]
async fn malformed_output_is_asked_for_again_once() {
    let gemini = GeminiServer::start(vec![
        Reply::Text("{\"albums\": [{\"title\": ".into()),
        two_outings(),
    ])
    .await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let (job, ids) = pending_job(&app, 4).await;
    assert_eq!(
        deliver(&app, job).await,
        ProcessOutcome::Completed {
            albums: 2,
            organizer: "gemini"
        }
    );
    assert_each_photo_once(&app, job, &ids).await;

    let gemini = GeminiServer::start(vec![
        Reply::Text("not json".into()),
        Reply::Text("still not json".into()),
    ])
    .await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let (job, ids) = pending_job(&app, 4).await;
    assert_eq!(
        deliver(&app, job).await,
        ProcessOutcome::Completed {
            albums: 2,
            organizer: "offline"
        }
    );
    assert_eq!(gemini.seen().len(), 2, "asked twice, then fell back");
    assert!(
        job_row(&app, job).await["fallback_reason"]
            .as_str()
            .unwrap()
            .contains("could not be read twice")
    );
    assert_each_photo_once(&app, job, &ids).await;
}

#[tokio::test]
async fn the_same_message_three_times_makes_one_set_of_albums() {
    let gemini = GeminiServer::start(vec![two_outings()]).await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let (job, ids) = pending_job(&app, 4).await;

    let outcomes = [
        deliver(&app, job).await,
        deliver(&app, job).await,
        deliver(&app, job).await,
    ];

    assert_eq!(
        outcomes[0],
        ProcessOutcome::Completed {
            albums: 2,
            organizer: "gemini"
        }
    );
    assert_eq!(
        outcomes[1],
        ProcessOutcome::AlreadyFinished(momentarium_shared::domain::JobStatus::Completed)
    );
    assert_eq!(outcomes[2], outcomes[1]);
    assert_eq!(gemini.seen().len(), 1);
    assert_eq!(assert_each_photo_once(&app, job, &ids).await.len(), 2);
}

#[tokio::test]
async fn two_deliveries_at_once_make_one_set_of_albums() {
    let gemini = GeminiServer::start(vec![Reply::Delayed(
        Duration::from_millis(500),
        Box::new(two_outings()),
    )])
    .await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let (job, ids) = pending_job(&app, 4).await;

    let (a, b) = tokio::join!(deliver(&app, job), deliver(&app, job));

    let mut outcomes = [a, b];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(
        outcomes[0],
        ProcessOutcome::Completed {
            albums: 2,
            organizer: "gemini"
        }
    );
    assert_eq!(outcomes[1], ProcessOutcome::HeldElsewhere);
    assert_eq!(gemini.seen().len(), 1);
    assert_eq!(assert_each_photo_once(&app, job, &ids).await.len(), 2);
}

/// The result transaction's writes, in order, and a trigger that kills the writing
/// connection at each: the albums, the memberships, the captions, the job's completion,
/// and the commit itself (a deferred trigger fires at COMMIT).
const CRASH_POINTS: [(&str, &str); 5] = [
    (
        "inserting the albums",
        "CREATE TRIGGER crash BEFORE INSERT ON albums FOR EACH ROW EXECUTE FUNCTION crash()",
    ),
    (
        "inserting the memberships",
        "CREATE TRIGGER crash BEFORE INSERT ON album_images FOR EACH ROW EXECUTE FUNCTION crash()",
    ),
    (
        "writing the captions",
        "CREATE TRIGGER crash BEFORE UPDATE ON images FOR EACH ROW \
         WHEN (NEW.caption IS DISTINCT FROM OLD.caption) EXECUTE FUNCTION crash()",
    ),
    (
        "completing the job",
        "CREATE TRIGGER crash BEFORE UPDATE ON processing_jobs FOR EACH ROW \
         WHEN (NEW.status = 'completed') EXECUTE FUNCTION crash()",
    ),
    (
        "committing",
        "CREATE CONSTRAINT TRIGGER crash AFTER UPDATE ON processing_jobs \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW \
         WHEN (NEW.status = 'completed') EXECUTE FUNCTION crash()",
    ),
];

#[tokio::test]
async fn a_crash_at_any_write_leaves_nothing_and_the_redelivery_completes() {
    for (point, trigger) in CRASH_POINTS {
        let gemini = GeminiServer::start(vec![two_outings(), two_outings()]).await;
        let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
        let (job, ids) = pending_job(&app, 4).await;
        let table = trigger
            .split(" ON ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        app.db
            .client()
            .await
            .batch_execute(&format!(
                "CREATE FUNCTION crash() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$; {trigger};"
            ))
            .await
            .unwrap();

        let first = run_job(
            &app.app,
            job,
            Delivery {
                deadline: Instant::now() + Duration::from_secs(60),
            },
        )
        .await;

        assert!(
            first.is_err(),
            "{point}: the delivery must ask to be retried: {first:?}"
        );
        let client = app.db.client().await;
        let written: (i64, i64, i64) = {
            let row = client
                .query_one(
                    "SELECT (SELECT count(*) FROM albums), (SELECT count(*) FROM album_images), \
                            (SELECT count(*) FROM images WHERE caption IS NOT NULL OR tags <> '{}')",
                    &[],
                )
                .await
                .unwrap();
            (row.get(0), row.get(1), row.get(2))
        };
        assert_eq!(
            written,
            (0, 0, 0),
            "{point}: no albums, memberships or captions half-written"
        );
        let row = job_row(&app, job).await;
        assert_eq!(
            row["status"], "pending",
            "{point}: given back, not completed: {row}"
        );
        assert_eq!(row["completed_at"], Value::Null, "{point}");

        client
            .batch_execute(&format!("DROP TRIGGER crash ON {table}"))
            .await
            .unwrap();
        drop(client);
        assert_eq!(
            deliver(&app, job).await,
            ProcessOutcome::Completed {
                albums: 2,
                organizer: "gemini"
            },
            "{point}: the redelivery completes"
        );
        assert_each_photo_once(&app, job, &ids).await;
        assert_eq!(job_row(&app, job).await["status"], "completed", "{point}");
    }
}

#[tokio::test]
async fn a_claim_whose_worker_died_is_taken_over_after_its_lease() {
    let gemini = GeminiServer::start(vec![two_outings()]).await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let (job, ids) = pending_job(&app, 4).await;
    let client = app.db.client().await;
    // A worker claimed it, then died.
    let claim = momentarium_shared::repo::jobs::claim(
        &client,
        job,
        "dead-worker",
        Duration::from_secs(600),
    )
    .await
    .unwrap();
    assert!(matches!(
        claim,
        momentarium_shared::repo::jobs::Claim::Claimed(_)
    ));

    assert_eq!(
        deliver(&app, job).await,
        ProcessOutcome::HeldElsewhere,
        "the lease is still live"
    );
    // Its lease runs out.
    client
        .execute(
            "UPDATE processing_jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap();
    assert_eq!(
        deliver(&app, job).await,
        ProcessOutcome::Completed {
            albums: 2,
            organizer: "gemini"
        }
    );

    assert_each_photo_once(&app, job, &ids).await;
    assert_eq!(job_row(&app, job).await["attempts"], 2);
    // The dead worker, waking up, can no longer write.
    assert!(
        !momentarium_shared::repo::jobs::still_held(&client, job, "dead-worker")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn without_a_key_the_offline_organiser_makes_the_albums() {
    let app = TestApp::spawn().await;
    let (job, ids) = pending_job(&app, 6).await;

    assert_eq!(
        deliver(&app, job).await,
        ProcessOutcome::Completed {
            albums: 2,
            organizer: "offline"
        }
    );

    let albums = assert_each_photo_once(&app, job, &ids).await;
    assert_eq!(albums[0].0, "Saturday Morning in Dahlem, 10 May 2025");
    assert_eq!(albums[0].1, vec![ids[0], ids[2], ids[4]]);
    assert_eq!(albums[1].0, "Saturday Evening in Westerland, 2 August 2025");
    let row = job_row(&app, job).await;
    assert_eq!(row["organizer"], "offline");
    assert_eq!(row["fallback_reason"], Value::Null);
}

#[tokio::test]
async fn a_job_whose_photos_are_all_gone_fails_with_a_sentence() {
    let app = TestApp::spawn().await;
    let (job, ids) = pending_job(&app, 2).await;
    app.db
        .client()
        .await
        .execute("DELETE FROM images WHERE id = ANY($1)", &[&ids])
        .await
        .unwrap();

    let outcome = deliver(&app, job).await;

    let ProcessOutcome::Failed(sentence) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(sentence.contains("upload them again"));
    let row = job_row(&app, job).await;
    assert_eq!(row["status"], "failed");
    assert_eq!(row["error"], sentence.as_str());
}
