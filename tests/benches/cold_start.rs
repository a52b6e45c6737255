//! Cold start of each function binary against a local Lambda Runtime API: the time from
//! exec to the binary's first `GET /runtime/invocation/next` (Lambda's "init duration"),
//! its resident memory then, and for the HTTP functions the first invocation (an API
//! Gateway health event: the first database connection included).
//!
//! Build the binaries first, then run (`COLD_START_SETS="before=DIR after=DIR"` compares two
//! sets of binaries run by run, each DIR holding the function binaries by name):
//!   cargo build --release -p health -p generate-upload-urls -p on-upload -p process-gallery \
//!       -p job-status -p get-gallery -p process-job -p sweep-jobs -p migrate
//!   cargo bench -p momentarium-tests --bench cold_start

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};

const RUNS: usize = 10;

#[derive(Default)]
struct Seen {
    first_next: Option<Instant>,
    response: Option<Instant>,
    served_event: bool,
}

type Shared = Arc<Mutex<Seen>>;

async fn next(State(seen): State<Shared>) -> impl IntoResponse {
    let event = {
        let mut s = seen.lock().unwrap();
        if s.first_next.is_none() {
            s.first_next = Some(Instant::now());
        }
        let first = !s.served_event;
        s.served_event = true;
        first
    };
    if !event {
        // Hold later polls: the run is over.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let body = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/health.json"
    ))
    .unwrap();
    let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
    let mut headers = HeaderMap::new();
    headers.insert(
        "lambda-runtime-aws-request-id",
        "bench-request-1".parse().unwrap(),
    );
    headers.insert(
        "lambda-runtime-deadline-ms",
        deadline.to_string().parse().unwrap(),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-central-1:123456789012:function:bench"
            .parse()
            .unwrap(),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        "Root=1-5759e988-bd862e3fe1be46a994272793".parse().unwrap(),
    );
    (headers, body)
}

async fn response(State(seen): State<Shared>, Path(_id): Path<String>) -> &'static str {
    seen.lock()
        .unwrap()
        .response
        .get_or_insert_with(Instant::now);
    ""
}

async fn runtime_api() -> (String, Shared) {
    let seen: Shared = Arc::default();
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(response))
        .route("/2018-06-01/runtime/init/error", post(|| async { "" }))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

fn stats(mut v: Vec<f64>) -> String {
    if v.is_empty() {
        return "–".into();
    }
    v.sort_by(f64::total_cmp);
    format!(
        "{:.1} / {:.1} / {:.1}",
        v[0],
        v[v.len() / 2],
        v[v.len() - 1]
    )
}

/// One cold start: (init ms, RSS MiB at init) and, for an HTTP function, the first call's ms.
async fn measure_once(
    binary: &PathBuf,
    name: &str,
    database_url: &str,
    http: bool,
) -> (Option<(f64, f64)>, Option<f64>) {
    let (api, seen) = runtime_api().await;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_REGION", "eu-central-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDBENCHMARK")
        .env("AWS_SECRET_ACCESS_KEY", "benchmark-secret")
        .env("DATABASE_URL", database_url)
        .env("PHOTO_BUCKET", "momentarium-bench")
        .env("WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .env(
            "JOB_QUEUE_URL",
            "https://sqs.eu-central-1.amazonaws.com/123456789012/momentarium-jobs",
        )
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut init, mut first_call) = (None, None);
    loop {
        let (first, resp) = {
            let s = seen.lock().unwrap();
            (s.first_next, s.response)
        };
        if let Some(t) = first
            && init.is_none()
        {
            init = Some((
                (t - started).as_secs_f64() * 1000.0,
                rss_kib(pid) as f64 / 1024.0,
            ));
        }
        if let (Some(f), Some(r)) = (first, resp) {
            first_call = Some((r - f).as_secs_f64() * 1000.0);
            break;
        }
        if (first.is_some() && !http) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let _ = child.kill().await;
    (init, first_call)
}

/// The sets of binaries to compare: `COLD_START_SETS="before=/dir after=/dir"`, or the
/// release build alone.
fn sets(target: &std::path::Path) -> Vec<(String, PathBuf)> {
    match std::env::var("COLD_START_SETS") {
        Ok(list) => list
            .split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .map(|(label, dir)| (label.to_string(), PathBuf::from(dir)))
            .collect(),
        Err(_) => vec![("release".to_string(), target.join("release"))],
    }
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = momentarium_tests::TestDb::new().await;
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
        let functions_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../functions"));
        let mut names: Vec<String> = std::fs::read_dir(functions_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let sets = sets(&target);
        println!("| function | set | x86_64 binary | arm64 bootstrap | init ms (min / median / max) | RSS at init, MiB | first call ms |");
        println!("| --- | --- | --- | --- | --- | --- | --- |");
        let size = |p: &PathBuf| {
            std::fs::metadata(p)
                .map(|m| format!("{:.1} MiB", m.len() as f64 / 1048576.0))
                .unwrap_or_else(|_| "not built".into())
        };
        for name in names {
            let http = !matches!(name.as_str(), "on-upload" | "process-job" | "sweep-jobs" | "migrate");
            let present: Vec<&(String, PathBuf)> =
                sets.iter().filter(|(_, dir)| dir.join(&name).exists()).collect();
            // The sets take turns, run by run, so that the machine's noise falls on each alike.
            let mut seen = vec![(Vec::new(), Vec::new(), Vec::new()); present.len()];
            for _ in 0..RUNS {
                for (i, (_, dir)) in present.iter().enumerate() {
                    let (init, first) = measure_once(&dir.join(&name), &name, &db.url, http).await;
                    if let Some((ms, rss)) = init {
                        seen[i].0.push(ms);
                        seen[i].2.push(rss);
                    }
                    if let Some(ms) = first {
                        seen[i].1.push(ms);
                    }
                }
            }
            for ((label, dir), (init, first, rss)) in present.iter().zip(seen) {
                let arm = dir.join("lambda").join(&name).join("bootstrap");
                let arm = if label == "release" {
                    target.join("lambda").join(&name).join("bootstrap")
                } else {
                    arm
                };
                println!(
                    "| {name} | {label} | {} | {} | {} | {} | {} |",
                    size(&dir.join(&name)),
                    size(&arm),
                    stats(init),
                    stats(rss),
                    if http { stats(first) } else { "–".into() }
                );
            }
        }
    });
}
