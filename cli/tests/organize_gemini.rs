//! `organize` on the model path: GEMINI_BASE_URL points at the Gemini-protocol server on
//! loopback, which checks the request and answers with a plan.

#![allow(clippy::unwrap_used)]

mod common;

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
