//! What places cost: the first lookup of a process (building the GeoNames tree and
//! reading the country borders: what on-upload's first photo with GPS pays once per
//! cold start), the memory it keeps, and a lookup after that.
//!   cargo bench -p momentarium-tests --bench places

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use momentarium_shared::domain::places;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

fn main() {
    let before = rss_kib();
    let started = Instant::now();
    let first = places::locate(54.9079, 8.3089);
    let load = started.elapsed();
    let after = rss_kib();
    assert_eq!(first.unwrap().name.as_deref(), Some("Westerland"));

    // Points over land and sea, spread over the globe, the same every run.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let points: Vec<(f64, f64)> = (0..100_000)
        .map(|_| (next() * 140.0 - 60.0, next() * 360.0 - 180.0))
        .collect();
    let started = Instant::now();
    let mut towns = 0;
    let mut countries = 0;
    for (lat, lon) in &points {
        match places::locate(*lat, *lon) {
            Some(p) if p.name.is_some() => towns += 1,
            Some(_) => countries += 1,
            None => {}
        }
    }
    let per = started.elapsed() / points.len() as u32;
    println!("| measure | value |");
    println!("| --- | --- |");
    println!(
        "| first lookup (tables built) | {:.0} ms |",
        load.as_secs_f64() * 1e3
    );
    println!(
        "| resident memory added | {:.1} MiB ({:.1} → {:.1} MiB) |",
        (after - before) as f64 / 1024.0,
        before as f64 / 1024.0,
        after as f64 / 1024.0
    );
    println!(
        "| a lookup afterwards | {:.1} µs |",
        per.as_secs_f64() * 1e6
    );
    println!(
        "| 100,000 random points from 60° S to 80° N | {towns} near a town, {countries} in a country only, {} nowhere (sea) |",
        points.len() - towns - countries
    );
}
