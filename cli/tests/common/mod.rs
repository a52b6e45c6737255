//! Helpers for running the `momentarium` binary in tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_momentarium"))
}

/// Runs the binary with a database URL and a data directory, returning its output.
pub fn run(database_url: &str, data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(database_url, data_dir, args, env).output().unwrap()
}

/// The command [`run`] runs, to spawn it instead.
pub fn command(
    database_url: &str,
    data_dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Command {
    let mut cmd = bin();
    cmd.args(args)
        .env("DATABASE_URL", database_url)
        .env("MOMENTARIUM_DATA_DIR", data_dir)
        .env_remove("GEMINI_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("PHOTO_BUCKET")
        .env_remove("JOB_QUEUE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Writes a folder like the fixtures: a garden outing (Berlin, May), a coast outing
/// (Sylt, August), a photo without EXIF, and a file that is not a photo.
pub fn outing_folder(dir: &Path) {
    momentarium_local::sample::demo_folder(dir).unwrap();
}

/// A `momentarium serve` process, stopped when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `momentarium serve` on free ports with `env`, and waits until its health
/// answers. Returns the server, its base URL and the embedded S3 server's port.
pub async fn serve(
    database_url: &str,
    data_dir: &Path,
    env: &[(&str, &str)],
) -> (Server, String, u16) {
    let (api_port, s3_port) = (free_port(), free_port());
    let child = command(
        database_url,
        data_dir,
        &[
            "serve",
            "--listen",
            &format!("127.0.0.1:{api_port}"),
            "--s3-listen",
            &format!("127.0.0.1:{s3_port}"),
        ],
        env,
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let server = Server(child);
    let base = format!("http://127.0.0.1:{api_port}");
    let started = Instant::now();
    while reqwest::get(format!("{base}/api/health")).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not come up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    (server, base, s3_port)
}
