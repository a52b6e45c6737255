//! Time to albums: from the moment the last photo's upload is acknowledged to the job
//! being `completed`, for 50 phone photos, with the Gemini-protocol test server answering
//! after a fixed delay D. Photos 1–49 are uploaded first, each with its S3 event (their
//! renditions made as they arrive, as on AWS); then photo 50's PUT is acknowledged and the
//! clock starts: its on-upload, the process request, the job (claim, fetch 50 model
//! renditions, the model's D, one transaction).
//!
//! `cargo bench -p momentarium-tests --bench time_to_albums -- [FOLDER] [D_MS]`
//! (default `../shared/fixtures/photos/phone`, 2000 ms; needs the tests' PostgreSQL).
//! A second job over the same photos with their renditions removed shows the path of a
//! photo recorded before renditions existed: the processor fetches each original.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use momentarium_shared::usecase::run_job::{Delivery, ProcessOutcome, run_job};
use momentarium_tests::TestApp;
use momentarium_tests::gemini::{GeminiServer, Reply};
use serde_json::json;
use uuid::Uuid;

const PHOTOS: usize = 50;

fn plan() -> Reply {
    Reply::answer(json!({
        "albums": [{"title": "All of them", "description": "Fifty photos.",
                    "photos": (1..=PHOTOS).collect::<Vec<_>>()}],
        "photos": (1..=PHOTOS).map(|i| json!({"photo": i, "caption": "A photo.", "tags": ["x"]})).collect::<Vec<_>>()
    }))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn job(app: &TestApp, token: &str, ids: &[String]) -> (Duration, Duration) {
    let t = Instant::now();
    let job = app.process_job_id(token, ids).await;
    let requested = t.elapsed();
    let t = Instant::now();
    let outcome = run_job(
        &app.app,
        job,
        Delivery {
            deadline: Instant::now() + Duration::from_secs(240),
        },
    )
    .await
    .unwrap();
    assert!(
        matches!(outcome, ProcessOutcome::Completed { .. }),
        "{outcome:?}"
    );
    (requested, t.elapsed())
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let dir = args.first().map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/photos/phone")
    });
    let delay = Duration::from_millis(args.get(1).and_then(|d| d.parse().ok()).unwrap_or(2000));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("jpg")))
        .collect();
    files.sort();
    let photos: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let gemini = GeminiServer::start(vec![
            Reply::Delayed(delay, Box::new(plan())),
            Reply::Delayed(delay, Box::new(plan())),
        ])
        .await;
        let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
        let token = app.token("bench");
        let names: Vec<String> = (0..PHOTOS).map(|i| format!("p{i}.jpg")).collect();
        let specs: Vec<(&str, &str, usize)> = (0..PHOTOS)
            .map(|i| (names[i].as_str(), "image/jpeg", photos[i % photos.len()].len()))
            .collect();
        let tickets = app.upload_urls(&token, &specs).await;
        let mut on_upload = Vec::new();
        for (i, ticket) in tickets.iter().enumerate().take(PHOTOS - 1) {
            assert_eq!(app.put(ticket, photos[i % photos.len()].clone()).await.status(), 200);
            let t = Instant::now();
            app.s3_event(&[ticket["key"].as_str().unwrap()]).await.unwrap();
            on_upload.push(ms(t.elapsed()));
        }
        let last = &tickets[PHOTOS - 1];
        assert_eq!(
            app.put(last, photos[(PHOTOS - 1) % photos.len()].clone()).await.status(),
            200
        );
        let start = Instant::now();
        app.s3_event(&[last["key"].as_str().unwrap()]).await.unwrap();
        let last_upload = start.elapsed();
        let ids: Vec<String> = tickets
            .iter()
            .map(|t| t["imageId"].as_str().unwrap().to_string())
            .collect();
        let (requested, ran) = job(&app, &token, &ids).await;
        let total = start.elapsed();
        on_upload.sort_by(f64::total_cmp);
        println!(
            "{PHOTOS} photos of {} ({} MB in all), model delay D = {} ms\n",
            dir.display(),
            (0..PHOTOS).map(|i| photos[i % photos.len()].len()).sum::<usize>() / 1_000_000,
            delay.as_millis()
        );
        println!("| step | ms |");
        println!("| --- | --- |");
        println!(
            "| on-upload of photos 1–49, each as it arrives (inspect + 3 renditions; min / median / max) | {:.0} / {:.0} / {:.0} |",
            on_upload[0],
            on_upload[on_upload.len() / 2],
            on_upload[on_upload.len() - 1]
        );
        println!("| **from the last PUT's 200:** on-upload of photo 50 | {:.0} |", ms(last_upload));
        println!("| POST /api/galleries/process | {:.0} |", ms(requested));
        println!(
            "| the job: claim, 50 model renditions, the model (D), one transaction | {:.0} (D + {:.0}) |",
            ms(ran),
            ms(ran) - ms(delay)
        );
        println!(
            "| **time to albums** | **{:.0} (D + {:.0})** |",
            ms(total),
            ms(total) - ms(delay)
        );
        let seen = gemini.seen();
        assert!(gemini.violations().is_empty(), "{:?}", gemini.violations());
        let row = app
            .db
            .client()
            .await
            .query_one(
                "SELECT organizer, coalesce(fallback_reason, '') FROM processing_jobs ORDER BY created_at DESC LIMIT 1",
                &[],
            )
            .await
            .unwrap();
        let (organizer, fallback): (String, String) = (row.get(0), row.get(1));
        assert_eq!(organizer, "gemini", "the model did not make the albums: {fallback}");
        println!(
            "\nThe model request: {} images, {:.0} KB in all (base64 included), largest edge {} px.",
            seen[0].images,
            seen[0].body_bytes as f64 / 1024.0,
            seen[0].max_edge
        );

        // The same photos as if recorded before renditions existed.
        {
            let client = app.db.client().await;
            let uuids: Vec<Uuid> = ids.iter().map(|i| Uuid::parse_str(i).unwrap()).collect();
            client
                .execute("UPDATE images SET renditions = false WHERE id = ANY($1)", &[&uuids])
                .await
                .unwrap();
        }
        let t = Instant::now();
        let (requested, ran) = job(&app, &token, &ids).await;
        println!(
            "\nWithout renditions (the processor fetches 50 originals and makes them): process {:.0} ms, job {:.0} ms (D + {:.0}), in all {:.0} ms.",
            ms(requested),
            ms(ran),
            ms(ran) - ms(delay),
            ms(t.elapsed())
        );
    });
}
