//! Image preparation on real phone photos: decode, orient, downscale to ≤ 768 px, JPEG.
//!
//! `cargo bench -p momentarium-tests --bench prepare -- [FOLDER]` (default
//! `../shared/fixtures/photos/phone`, or `MOMENTARIUM_BENCH_PHOTOS`).
//!
//! Prints, per variant, ms per photo (min / median / max over 5 rounds of every photo) on
//! one core and photos per second on all cores; then bytes sent to Gemini per photo; then
//! the peak memory of a 50-photo batch prepared the way the processor does it (4 at a
//! time), measured in a child process so nothing else counts.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Instant;

use image::ImageFormat;
use momentarium_shared::domain::ContentType;
use momentarium_shared::domain::inspect::read_exif;
use momentarium_shared::domain::prepare::{
    DecodeLimits, JpegDecode, MAX_EDGE, QUALITY, prepare, prepare_with, render,
};

const ROUNDS: usize = 5;

/// One way of preparing a photo: bytes and EXIF orientation in, JPEG out.
type Variant = dyn Fn(&[u8], Option<u8>) -> Vec<u8> + Sync;

fn photos(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no JPEGs in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// The naive path a user would write first: `image` decodes at full size, resizes with
/// its own Lanczos3, encodes with its own JPEG encoder.
fn naive(bytes: &[u8], orientation: Option<u8>) -> Vec<u8> {
    let mut img = image::load_from_memory_with_format(bytes, ImageFormat::Jpeg).unwrap();
    if let Some(o) = orientation.and_then(image::metadata::Orientation::from_exif) {
        img.apply_orientation(o);
    }
    let small = img.resize(MAX_EDGE, MAX_EDGE, image::imageops::FilterType::Lanczos3);
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&small.to_rgb8())
        .unwrap();
    out.into_inner()
}

fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

fn time_variant(name: &str, set: &[(String, Vec<u8>, Option<u8>)], f: &Variant) {
    let mut per_photo = Vec::new();
    for _ in 0..ROUNDS {
        for (_, bytes, o) in set {
            let t = Instant::now();
            std::hint::black_box(f(bytes, *o));
            per_photo.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let (min, med, max) = stats(per_photo);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let total = set.len() * ROUNDS;
    let t = Instant::now();
    std::thread::scope(|s| {
        for c in 0..cores {
            s.spawn(move || {
                let mut i = c;
                while i < total {
                    let (_, bytes, o) = &set[i % set.len()];
                    std::hint::black_box(f(bytes, *o));
                    i += cores;
                }
            });
        }
    });
    let all_cores = total as f64 / t.elapsed().as_secs_f64();
    println!(
        "| {name} | {min:.1} / {med:.1} / {max:.1} | {:.1} | {all_cores:.1} ({cores} cores) |",
        1000.0 / med
    );
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Child mode: prepare a 50-photo batch 4 at a time, holding every result, as the
/// processor does; print the peak resident memory.
fn batch_child(dir: &Path) {
    let set = photos(dir);
    let before = peak_rss_kib();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let results: Vec<usize> = rt.block_on(async {
        use futures::StreamExt;
        futures::stream::iter(0..50)
            .map(|i| {
                let path = dir.join(&set[i % set.len()].0);
                async move {
                    // Read from disk per photo, as each is fetched from S3 in turn.
                    let bytes = tokio::fs::read(path).await.unwrap();
                    tokio::task::spawn_blocking(move || {
                        let o = read_exif(&bytes[..bytes.len().min(256 * 1024)])
                            .and_then(|e| e.orientation);
                        prepare(&bytes, ContentType::Jpeg, o, MAX_EDGE)
                            .unwrap()
                            .bytes
                            .len()
                    })
                    .await
                    .unwrap()
                }
            })
            .buffered(4)
            .collect()
            .await
    });
    let sent: usize = results.iter().sum();
    println!("{} {} {}", before, peak_rss_kib(), sent);
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let dir = args
        .first()
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var("MOMENTARIUM_BENCH_PHOTOS")
                .ok()
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/photos/phone")
        });
    if std::env::var("MOMENTARIUM_BENCH_CHILD").is_ok() {
        batch_child(&dir);
        return;
    }
    let set: Vec<(String, Vec<u8>, Option<u8>)> = photos(&dir)
        .into_iter()
        .map(|(n, b)| {
            let o = read_exif(&b[..b.len().min(256 * 1024)]).and_then(|e| e.orientation);
            (n, b, o)
        })
        .collect();
    println!("{} photos from {}\n", set.len(), dir.display());
    println!(
        "| variant | ms per photo, one core (min / median / max) | photos/s, one core | photos/s, all cores |"
    );
    println!("| --- | --- | --- | --- |");
    time_variant(
        "momentarium: DCT-scaled decode + SIMD Lanczos3 + jpeg-encoder",
        &set,
        &|b, o| prepare(b, ContentType::Jpeg, o, MAX_EDGE).unwrap().bytes,
    );
    time_variant(
        "same, without DCT scaling (full-size decode)",
        &set,
        &|b, o| {
            prepare_with(b, ContentType::Jpeg, o, MAX_EDGE, JpegDecode::Full)
                .unwrap()
                .bytes
        },
    );
    time_variant(
        "same, zune-jpeg full-size decode (SIMD) instead",
        &set,
        &|b, o| {
            prepare_with(b, ContentType::Jpeg, o, MAX_EDGE, JpegDecode::Zune)
                .unwrap()
                .bytes
        },
    );
    time_variant("`image` crate alone: decode, resize, encode", &set, &naive);
    time_variant(
        "**renditions**: 1600 + 768 + 360 px from one DCT-scaled decode (what on-upload does)",
        &set,
        &|b, o| {
            render(b, ContentType::Jpeg, o, DecodeLimits::DEFAULT)
                .unwrap()
                .into_iter()
                .map(|r| r.jpeg.len())
                .sum::<usize>()
                .to_le_bytes()
                .to_vec()
        },
    );
    time_variant(
        "floor: the JPEG entropy decode alone, at 1/8 scale (jpeg-decoder)",
        &set,
        &|b, _| {
            let mut d = jpeg_decoder::Decoder::new(Cursor::new(b));
            d.read_info().unwrap();
            let info = d.info().unwrap();
            d.scale(info.width / 8, info.height / 8).unwrap();
            d.decode().unwrap()
        },
    );

    println!("\n| photo | original bytes | sent bytes (base64) | sent size |");
    println!("| --- | --- | --- | --- |");
    for (name, bytes, o) in &set {
        let p = prepare(bytes, ContentType::Jpeg, *o, MAX_EDGE).unwrap();
        println!(
            "| {name} | {} | {} ({}) | {}×{} |",
            bytes.len(),
            p.bytes.len(),
            p.bytes.len().div_ceil(3) * 4,
            p.width,
            p.height
        );
    }

    cost_table(&set);

    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg(&dir)
        .env("MOMENTARIUM_BENCH_CHILD", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let nums: Vec<u64> = text
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    if let [before, peak, sent] = nums[..] {
        println!(
            "\n50-photo batch, 4 at a time: peak RSS {:.1} MiB (process baseline {:.1} MiB); {:.2} MiB of JPEG sent, {:.2} MiB as base64",
            peak as f64 / 1024.0,
            before as f64 / 1024.0,
            sent as f64 / 1048576.0,
            (sent.div_ceil(3) * 4) as f64 / 1048576.0
        );
    } else {
        println!(
            "\nbatch child failed: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Gemini image tokens: 258 when both sides are at most 384 px, else 258 per 768×768 tile.
fn image_tokens(w: u32, h: u32) -> u64 {
    if w <= 384 && h <= 384 {
        258
    } else {
        u64::from(w.div_ceil(768)) * u64::from(h.div_ceil(768)) * 258
    }
}

/// Dollars per 1,000 photos (20 batches of 50; per batch 1,000 prompt-text tokens and
/// 5,000 output tokens), downscaled as sent versus the originals, at the published
/// paid-tier prices (ANCHORS.md: 2.5 Flash $0.30 / $2.50, Flash-Lite $0.10 / $0.40 per
/// million input / output tokens).
fn cost_table(set: &[(String, Vec<u8>, Option<u8>)]) {
    let (mut sent_tokens, mut original_tokens, mut sent_bytes, mut original_bytes) =
        (0u64, 0u64, 0u64, 0u64);
    for (_, bytes, o) in set {
        let dims = imagesize::blob_size(bytes).unwrap();
        original_tokens += image_tokens(dims.width as u32, dims.height as u32);
        original_bytes += bytes.len() as u64;
        let p = prepare(bytes, ContentType::Jpeg, *o, MAX_EDGE).unwrap();
        sent_tokens += image_tokens(p.width, p.height);
        sent_bytes += p.bytes.len() as u64;
    }
    let n = set.len() as u64;
    let per_photo = |t: u64| t as f64 / n as f64;
    println!("\n| per photo | bytes sent (base64) | image tokens |");
    println!("| --- | --- | --- |");
    println!(
        "| downscaled to ≤ 768 px (sent) | {:.0} | {:.0} |",
        (sent_bytes.div_ceil(3) * 4) as f64 / n as f64,
        per_photo(sent_tokens)
    );
    println!(
        "| originals | {:.0} | {:.0} |",
        (original_bytes.div_ceil(3) * 4) as f64 / n as f64,
        per_photo(original_tokens)
    );
    let batches = 1000.0 / 50.0;
    let dollars = |image_tokens_per_photo: f64, input_price: f64, output_price: f64| {
        let input = batches * (1000.0 + 50.0 * image_tokens_per_photo);
        let output = batches * 5000.0;
        (input * input_price + output * output_price) / 1e6
    };
    println!(
        "\n| $ per 1,000 photos | gemini-2.5-flash | gemini-2.5-flash-lite | Flash, Batch API (half) |"
    );
    println!("| --- | --- | --- | --- |");
    for (label, tokens) in [
        ("downscaled (sent)", per_photo(sent_tokens)),
        ("originals", per_photo(original_tokens)),
    ] {
        let flash = dollars(tokens, 0.30, 2.50);
        println!(
            "| {label} | ${flash:.3} | ${:.3} | ${:.3} |",
            dollars(tokens, 0.10, 0.40),
            flash / 2.0
        );
    }
}
