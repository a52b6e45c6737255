//! Helpers for running the `momentarium` binary in tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use momentarium_tests::photos::{self, Exif};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_momentarium"))
}

/// Runs the binary with a database URL and a data directory, returning its output.
pub fn run(database_url: &str, data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
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
    cmd.output().unwrap()
}

/// Writes a folder like the fixtures: a garden outing (Berlin, May), a coast outing
/// (Sylt, August), a photo without EXIF, and a file that is not a photo.
pub fn outing_folder(dir: &Path) {
    let garden = ["09:40:00", "09:51:30", "10:05:10", "10:22:45"];
    for (i, t) in garden.iter().enumerate() {
        let exif = Exif {
            taken: Some(Box::leak(format!("2025:05:10 {t}").into_boxed_str())),
            offset: Some("+02:00"),
            gps: Some((52.4559, 13.3063)),
            make: Some("Google"),
            model: Some("Pixel 8"),
            ..Exif::default()
        };
        std::fs::write(
            dir.join(format!("garden-{i}.jpg")),
            photos::jpeg(640, 480, [40, 150 + i as u8 * 20, 50], &exif),
        )
        .unwrap();
    }
    let coast = ["18:05:00", "18:20:00", "18:41:00"];
    for (i, t) in coast.iter().enumerate() {
        let exif = Exif {
            taken: Some(Box::leak(format!("2025:08:02 {t}").into_boxed_str())),
            offset: Some("+02:00"),
            gps: Some((54.9079, 8.3089)),
            make: Some("Apple"),
            model: Some("iPhone 15"),
            orientation: Some(if i == 0 { 6 } else { 1 }),
        };
        std::fs::write(
            dir.join(format!("coast-{i}.jpg")),
            photos::jpeg(800, 600, [30, 80, 170 + i as u8 * 20], &exif),
        )
        .unwrap();
    }
    std::fs::write(dir.join("scan.png"), photos::png(300, 200)).unwrap();
    std::fs::write(dir.join("notes.txt"), b"shopping list: film, batteries").unwrap();
}
