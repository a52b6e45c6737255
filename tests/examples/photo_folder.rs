//! Writes a folder of generated phone photos for benchmarks: `count` JPEGs of `width`×
//! `height` with EXIF times, UTC offsets and GPS, in outings of 5–60 photos spread over a
//! year and a dozen places, in subfolders, a few without EXIF. The pixels carry sensor-like
//! noise, so the files weigh what phone photos of that size weigh, not a smooth
//! gradient's few kilobytes.
//!
//! cargo run --release -p momentarium-tests --example photo_folder -- DIR COUNT [WIDTH HEIGHT]

use momentarium_tests::photos::{self, Exif};

const PLACES: [(f64, f64); 12] = [
    (52.52, 13.40),
    (54.91, 8.31),
    (48.14, 11.58),
    (38.72, -9.14),
    (41.39, 2.17),
    (45.44, 12.33),
    (47.37, 8.54),
    (51.51, -0.13),
    (40.42, -3.70),
    (43.30, 5.37),
    (59.33, 18.07),
    (37.98, 23.73),
];

#[allow(clippy::print_stdout)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = std::path::PathBuf::from(args.first().ok_or("usage: DIR COUNT [WIDTH HEIGHT]")?);
    let count: usize = args.get(1).ok_or("usage: DIR COUNT")?.parse()?;
    let width: u32 = args.get(2).map_or(Ok(1600), |s| s.parse())?;
    let height: u32 = args.get(3).map_or(Ok(1200), |s| s.parse())?;
    std::fs::create_dir_all(&dir)?;
    // A simple deterministic generator, so the folder is the same on every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let mut day = 0u64;
    let mut written = 0usize;
    let mut outing = 0usize;
    while written < count {
        day += 1 + next(9);
        let size = (5 + next(56)) as usize;
        let place = PLACES[next(PLACES.len() as u64) as usize];
        let start_minute = 8 * 60 + next(10 * 60);
        let sub = dir
            .join(format!("{}", 2024 + day / 365))
            .join(format!("outing-{outing:03}"));
        std::fs::create_dir_all(&sub)?;
        for i in 0..size.min(count - written) {
            let minute = start_minute + (i as u64) * (1 + next(4));
            let (month, mday) = (1 + (day % 365) / 31, 1 + (day % 365) % 28);
            let taken = format!(
                "{}:{:02}:{:02} {:02}:{:02}:{:02}",
                2024 + day / 365,
                month.min(12),
                mday,
                (minute / 60).min(23),
                minute % 60,
                next(60)
            );
            let exif = if next(20) == 0 {
                Exif::default()
            } else {
                Exif {
                    taken: Some(Box::leak(taken.into_boxed_str())),
                    offset: Some("+02:00"),
                    gps: Some((
                        place.0 + next(100) as f64 / 10_000.0,
                        place.1 + next(100) as f64 / 10_000.0,
                    )),
                    make: Some("Google"),
                    model: Some("Pixel 8"),
                    orientation: Some(if next(5) == 0 { 6 } else { 1 }),
                }
            };
            let tint = [next(256) as u8, next(256) as u8, next(256) as u8];
            let mut image = photos::picture(width, height, tint);
            for pixel in image.pixels_mut() {
                let n = next(48) as u8;
                for c in &mut pixel.0 {
                    *c = c.saturating_add(n).saturating_sub(24);
                }
            }
            let bytes = photos::jpeg_of(&image, &exif);
            std::fs::write(sub.join(format!("IMG_{written:05}.JPG")), bytes)?;
            written += 1;
        }
        outing += 1;
    }
    println!(
        "wrote {written} photos in {outing} outings to {}",
        dir.display()
    );
    Ok(())
}
