//! Helpers for running the `momentarium` binary in tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

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
