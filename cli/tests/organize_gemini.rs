//! `organize` on the model path: GEMINI_BASE_URL points at the Gemini-protocol server on
//! loopback, which checks the request and answers with a plan.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use momentarium_tests::TestDb;
use momentarium_tests::gemini::{API_KEY, GeminiServer, MODEL, Reply};
use serde_json::json;

// Multi-threaded: the Gemini server must keep answering while this thread waits on the
// CLI process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organize_uses_gemini_when_a_key_is_set() {
    // Photos are sent in time order: the four garden ones, then the three coast ones,
    // then the PNG without EXIF.
    let gemini = GeminiServer::start(vec![Reply::answer(json!({
        "albums": [
            {"title": "Bees, Blooms and Morning Light", "description": "A slow May morning among the flowers.", "cover": 2, "photos": [1, 2, 3, 4]},
            {"title": "Where the Dunes Meet the Sea", "description": "Evening wind on Sylt.", "cover": 5, "photos": [5, 6, 7, 8]}
        ],
        "photos": [{"photo": 1, "caption": "Dew on a green leaf.", "tags": ["leaf", "morning"]}]
    }))])
    .await;
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    common::outing_folder(folder.path());
    let base = gemini.base_url();

    let out = common::run(
        &db.url,
        data.path(),
        &["organize", folder.path().to_str().unwrap()],
        &[
            ("GEMINI_API_KEY", API_KEY),
            ("GEMINI_BASE_URL", &base),
            ("GEMINI_MODEL", MODEL),
        ],
    );

    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(gemini.violations().is_empty(), "{:?}", gemini.violations());
    let seen = gemini.seen();
    assert_eq!(seen.len(), 1, "one request for the whole batch");
    assert_eq!(seen[0].images, 8);
    assert!(seen[0].max_edge <= 768);
    assert!(stdout.contains("Albums by Gemini."), "{stdout}");
    assert!(
        stdout.contains("Bees, Blooms and Morning Light — 4 photos"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Where the Dunes Meet the Sea — 4 photos"),
        "{stdout}"
    );
    let page = std::fs::read_to_string(folder.path().join("momentarium.html")).unwrap();
    assert!(page.contains("Dew on a green leaf."));
    assert!(page.contains("albums by Gemini"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_hands_the_job_back_and_the_next_run_finishes_it_at_once() {
    let plan = Reply::answer(json!({
        "albums": [{"title": "One Saturday", "description": "", "cover": 1, "photos": [1, 2, 3, 4, 5, 6, 7, 8]}],
        "photos": []
    }));
    // The first run's model request never gets an answer before Ctrl-C.
    let gemini = GeminiServer::start(vec![Reply::Hang(Duration::from_secs(300)), plan]).await;
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    common::outing_folder(folder.path());
    let base = gemini.base_url();
    let env = [
        ("GEMINI_API_KEY", API_KEY),
        ("GEMINI_BASE_URL", base.as_str()),
        ("GEMINI_MODEL", MODEL),
    ];
    let args = ["organize", folder.path().to_str().unwrap()];
    let child = common::command(&db.url, data.path(), &args, &env)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the photos are uploaded and the job is with the model (bounded, so a run
    // that never gets there fails instead of hanging).
    for _ in 0..1200 {
        if !gemini.seen().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        gemini.seen().len(),
        1,
        "the first run never reached the model"
    );

    let interrupt = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupt.success());
    let stopped = child.wait_with_output().unwrap();

    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert_eq!(stopped.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("Stopped. Nothing is lost"), "{stderr}");
    // The interrupted run handed its job back, unsent, instead of holding it until its
    // lease lapses (15 minutes by default).
    let given_back: (String, Option<String>, bool, i32) = {
        let r = db
            .client()
            .await
            .query_one(
                "SELECT status, lease_owner, enqueued_at IS NULL, attempts FROM processing_jobs",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2), r.get(3))
    };
    assert_eq!(
        given_back,
        ("pending".to_string(), None, true, 0),
        "the interrupted job is pending again, unclaimed, unsent, its attempt not counted"
    );

    let again = common::run(&db.url, data.path(), &args, &env);

    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        again.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(
        stdout.contains("(0 uploaded now, 8 already there)"),
        "nothing uploaded twice: {stdout}"
    );
    assert!(stdout.contains("One Saturday — 8 photos"), "{stdout}");
    let (images, jobs): (i64, i64) = {
        let r = db
            .client()
            .await
            .query_one(
                "SELECT (SELECT count(*) FROM images), \
                        (SELECT count(*) FROM processing_jobs WHERE status = 'completed')",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(
        (images, jobs),
        (8, 1),
        "the same job finished, no second one"
    );
    assert_eq!(gemini.seen().len(), 2);
}
