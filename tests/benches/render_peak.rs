//! Peak memory of what on-upload does with one large photo: read it whole, inspect it,
//! make its three renditions. Each photo runs in a child process of its own, so the peak
//! resident set (VmHWM) is that photo's alone; the photos are written to a temporary
//! folder first, by the parent.
//!
//! `cargo bench -p momentarium-tests --bench render_peak`

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::path::Path;
use std::time::Instant;

use image::{ImageBuffer, Rgb};
use momentarium_shared::domain::inspect::{check_whole, inspect_head};
use momentarium_shared::domain::prepare::{DecodeLimits, render};

fn peak_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A photo-like picture: gradients with pseudo-random sensor noise, so it compresses
/// like a camera's file rather than like a flat test card.
fn noisy(w: u32, h: u32, noise: u32) -> ImageBuffer<Rgb<u8>, Vec<u8>> {
    let mut state = 0x2545_f491_u32;
    ImageBuffer::from_fn(w, h, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (state % (2 * noise + 1)) as i32 - noise as i32;
        let c = |v: u32| (v as i32 + n).clamp(0, 255) as u8;
        Rgb([c(x * 255 / w), c(y * 255 / h), c((x + y) * 127 / (w + h))])
    })
}

fn child(path: &Path, content_type: &str) {
    let base = peak_kib("VmRSS:");
    let t = Instant::now();
    let bytes = std::fs::read(path).unwrap();
    let declared = momentarium_shared::domain::ContentType::parse(content_type).unwrap();
    let inspection = inspect_head(
        &bytes,
        bytes.len() as u64,
        declared,
        bytes.len() as u64,
        150_000_000,
    )
    .unwrap();
    check_whole(&inspection, &bytes).unwrap();
    let outcome = match render(
        &bytes,
        inspection.content_type,
        inspection.exif.orientation,
        DecodeLimits::DEFAULT,
    ) {
        Ok(r) => format!("{} renditions", r.len()),
        Err(e) => format!("kept without renditions: {e}"),
    };
    println!(
        "{} {} {} {}",
        base,
        peak_kib("VmHWM:"),
        t.elapsed().as_millis(),
        outcome
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let [path, content_type] = &args[..] {
        child(Path::new(path), content_type);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, &str, u32, u32, u32)> = vec![
        (
            "48 MP camera JPEG, q95, heavy noise",
            "image/jpeg",
            8000,
            6000,
            40,
        ),
        (
            "100 MP panorama JPEG (20000×5000), q92",
            "image/jpeg",
            20000,
            5000,
            12,
        ),
        (
            "100 MP panorama PNG (20000×5000, RGB)",
            "image/png",
            20000,
            5000,
            0,
        ),
    ];
    println!("| photo | file | peak RSS (process baseline) | wall ms | outcome |");
    println!("| --- | --- | --- | --- | --- |");
    for (i, (name, content_type, w, h, noise)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("photo-{i}"));
        let picture = noisy(w, h, noise);
        let mut out = Vec::new();
        if content_type == "image/jpeg" {
            let quality = if noise > 20 { 95 } else { 92 };
            jpeg_encoder::Encoder::new(&mut out, quality)
                .encode(
                    picture.as_raw(),
                    w as u16,
                    h as u16,
                    jpeg_encoder::ColorType::Rgb,
                )
                .unwrap();
        } else {
            picture
                .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
                .unwrap();
        }
        drop(picture);
        std::fs::write(&path, &out).unwrap();
        let size = out.len();
        let result = std::process::Command::new(std::env::current_exe().unwrap())
            .arg(&path)
            .arg(content_type)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&result.stdout).to_string();
        let mut parts = text.splitn(4, ' ');
        let (base, peak, wall, outcome) = (
            parts.next().unwrap_or("0").parse::<u64>().unwrap_or(0),
            parts.next().unwrap_or("0").parse::<u64>().unwrap_or(0),
            parts.next().unwrap_or("?").to_string(),
            parts.next().unwrap_or("").trim().to_string(),
        );
        println!(
            "| {name} | {:.1} MiB | {:.0} MiB ({:.0} MiB) | {wall} | {outcome} {} |",
            size as f64 / 1048576.0,
            peak as f64 / 1024.0,
            base as f64 / 1024.0,
            String::from_utf8_lossy(&result.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
    }
}
