//! `momentarium organize <folder>`: through the public API, like any client — upload URLs,
//! presigned PUTs in parallel, process, poll, fetch the gallery — then a summary in the
//! terminal and a self-contained HTML page.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use momentarium_shared::domain::ContentType;
use momentarium_shared::inspect::{read_exif, sniff};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::client::{ApiClient, ApiFailure};
use crate::html;
use crate::state::hex;

pub const MAX_BYTES: u64 = 25 * 1024 * 1024;
const UPLOAD_CONCURRENCY: usize = 4;

/// A photo found in the folder.
#[derive(Debug, Clone)]
pub struct LocalPhoto {
    pub path: PathBuf,
    pub name: String,
    pub content_type: ContentType,
    pub size: u64,
    pub sha256: String,
    pub taken: Option<chrono::DateTime<chrono::Utc>>,
    /// The photographer's UTC offset, when the camera recorded it.
    pub offset_minutes: Option<i16>,
}

/// A file left out, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub name: String,
    pub reason: &'static str,
}

pub struct Options {
    pub folder: PathBuf,
    pub out: Option<PathBuf>,
    pub batch_size: usize,
    pub force_upload: bool,
    pub quiet: bool,
}

/// Which content hashes this API already holds for this user, kept between runs.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct UploadLedger {
    #[serde(default)]
    pub instances: HashMap<String, HashMap<String, String>>,
}

impl UploadLedger {
    pub fn load(path: &Path) -> Self {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(self)?)?;
        Ok(())
    }
}

/// Lists the folder's photos (by their bytes, not their names) and what was skipped.
pub fn scan(folder: &Path) -> anyhow::Result<(Vec<LocalPhoto>, Vec<Skipped>)> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)
        .with_context(|| format!("reading {}", folder.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    let mut photos = Vec::new();
    let mut skipped = Vec::new();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || name == html::PAGE_NAME {
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(_) => {
                skipped.push(Skipped {
                    name,
                    reason: "could not be read",
                });
                continue;
            }
        };
        let Some(content_type) = sniff(&bytes[..bytes.len().min(64)]) else {
            skipped.push(Skipped {
                name,
                reason: "not a JPEG, PNG, WebP or HEIC photo",
            });
            continue;
        };
        if bytes.len() as u64 > MAX_BYTES {
            skipped.push(Skipped {
                name,
                reason: "larger than 25 MiB",
            });
            continue;
        }
        let exif = read_exif(&bytes[..bytes.len().min(256 * 1024)]);
        let taken = exif.as_ref().and_then(|e| e.taken_at);
        let offset_minutes = exif.as_ref().and_then(|e| e.offset_minutes);
        photos.push(LocalPhoto {
            name,
            content_type,
            size: bytes.len() as u64,
            sha256: hex(&Sha256::digest(&bytes)),
            taken,
            offset_minutes,
            path,
        });
    }
    // Time order keeps outings together when a folder is split into batches.
    photos.sort_by(|a, b| a.taken.cmp(&b.taken).then_with(|| a.name.cmp(&b.name)));
    Ok((photos, skipped))
}

fn bar(progress: &MultiProgress, len: u64, template: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = progress.add(ProgressBar::new(len));
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("█▉▊▋▌▍▎▏ "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Uploads the photos the server does not hold yet; returns the image id of every photo.
async fn upload(
    client: &ApiClient,
    photos: &[LocalPhoto],
    known: &mut HashMap<String, String>,
    force: bool,
    progress: &MultiProgress,
    quiet: bool,
) -> anyhow::Result<usize> {
    let todo: Vec<&LocalPhoto> = photos
        .iter()
        .filter(|p| force || !known.contains_key(&p.sha256))
        .collect();
    if todo.is_empty() {
        return Ok(0);
    }
    let total: u64 = todo.iter().map(|p| p.size).sum();
    let bar = bar(
        progress,
        total,
        "  uploading  [{bar:30.cyan/blue}] {bytes}/{total_bytes} {binary_bytes_per_sec} {msg}",
        quiet,
    );
    for chunk in todo.chunks(50) {
        let specs: Vec<(String, &'static str, u64)> = chunk
            .iter()
            .map(|p| (p.name.clone(), p.content_type.as_str(), p.size))
            .collect();
        let tickets = client.generate_urls(&specs).await?;
        anyhow::ensure!(
            tickets.len() == chunk.len(),
            "the server returned {} upload URLs for {} files",
            tickets.len(),
            chunk.len()
        );
        let results: Vec<anyhow::Result<(String, String)>> =
            futures::stream::iter(chunk.iter().zip(tickets))
                .map(|(photo, ticket)| {
                    let bar = bar.clone();
                    async move {
                        let bytes = tokio::fs::read(&photo.path).await?;
                        client.put(&ticket, bytes).await?;
                        bar.inc(photo.size);
                        Ok((
                            photo.sha256.clone(),
                            ticket["imageId"].as_str().unwrap_or_default().to_string(),
                        ))
                    }
                })
                .buffer_unordered(UPLOAD_CONCURRENCY)
                .collect()
                .await;
        for r in results {
            let (sha, id) = r?;
            known.insert(sha, id);
        }
    }
    bar.finish_and_clear();
    Ok(todo.len())
}

/// The result of one batch.
pub struct BatchResult {
    pub gallery: Value,
    pub status: Value,
    /// Image id → the local photo it came from.
    pub photos: HashMap<String, LocalPhoto>,
    /// Image id → file name.
    pub names: HashMap<String, String>,
}

async fn process(
    client: &ApiClient,
    batch: &[LocalPhoto],
    known: &HashMap<String, String>,
    progress: &MultiProgress,
    quiet: bool,
    label: &str,
) -> anyhow::Result<BatchResult> {
    let ids: Vec<&str> = batch.iter().map(|p| known[&p.sha256].as_str()).collect();
    // The same uploaded photos again return the same gallery instead of a new one. The key
    // names the server's image ids: the same files uploaded afresh are a new request.
    let mut sorted = ids.clone();
    sorted.sort();
    let key = format!(
        "organize-{}",
        &hex(&Sha256::digest(sorted.join(",").as_bytes()))[..40]
    );
    let accepted = client
        .post(
            "/api/galleries/process",
            &json!({"imageIds": ids}),
            Some(&key),
        )
        .await?;
    let job = accepted["jobId"].as_str().context("no jobId")?.to_string();
    let spinner = bar(progress, 0, "  {spinner} organising {msg} {elapsed}", quiet);
    spinner.set_message(label.to_string());
    let status = loop {
        let status = client.get(&format!("/api/jobs/{job}/status")).await?;
        match status["status"].as_str() {
            Some("completed") => break status,
            Some("failed") => bail!(
                "organising failed: {}",
                status["error"].as_str().unwrap_or("no reason given")
            ),
            Some("cancelled") => bail!("the job was cancelled"),
            Some(s) => spinner.set_message(format!("{label} ({s})")),
            None => bail!("the status answer had no status"),
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    };
    spinner.finish_and_clear();
    let gallery = client
        .get(
            status["resultUrl"]
                .as_str()
                .context("a completed job without resultUrl")?,
        )
        .await?;
    let photos: HashMap<String, LocalPhoto> = batch
        .iter()
        .map(|p| (known[&p.sha256].clone(), p.clone()))
        .collect();
    let names = photos
        .iter()
        .map(|(id, p)| (id.clone(), p.name.clone()))
        .collect();
    Ok(BatchResult {
        gallery,
        status,
        photos,
        names,
    })
}

/// Scans the folder, refusing one with no photos before anything is started.
pub fn scan_for_photos(folder: &Path) -> anyhow::Result<(Vec<LocalPhoto>, Vec<Skipped>)> {
    let (photos, skipped) = scan(folder)?;
    if photos.is_empty() {
        bail!(
            "{} holds no photos (JPEG, PNG, WebP or HEIC){}",
            folder.display(),
            if skipped.is_empty() {
                String::new()
            } else {
                format!("; skipped {} other file(s)", skipped.len())
            }
        );
    }
    Ok((photos, skipped))
}

/// Runs the whole flow for scanned photos against `client`; `instance` keys the ledger.
pub async fn organize(
    client: &ApiClient,
    instance: &str,
    ledger_path: &Path,
    options: &Options,
    (photos, skipped): (Vec<LocalPhoto>, Vec<Skipped>),
) -> anyhow::Result<PathBuf> {
    let mut ledger = UploadLedger::load(ledger_path);
    let mut known = ledger.instances.remove(instance).unwrap_or_default();
    let progress = if options.quiet {
        MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
    } else {
        MultiProgress::new()
    };
    let uploaded = upload(
        client,
        &photos,
        &mut known,
        options.force_upload,
        &progress,
        options.quiet,
    )
    .await?;
    ledger.instances.insert(instance.to_string(), known.clone());
    ledger.save(ledger_path)?;

    let batches: Vec<&[LocalPhoto]> = photos.chunks(options.batch_size.clamp(1, 50)).collect();
    let mut results = Vec::new();
    for (i, batch) in batches.iter().enumerate() {
        let label = if batches.len() > 1 {
            format!(
                "batch {} of {} ({} photos)",
                i + 1,
                batches.len(),
                batch.len()
            )
        } else {
            format!("{} photos", batch.len())
        };
        let result = match process(client, batch, &known, &progress, options.quiet, &label).await {
            Ok(r) => r,
            Err(e) => match e.downcast_ref::<ApiFailure>() {
                // Photos the server no longer has: upload them again, once.
                Some(f) if f.status == 404 => {
                    let gone: Vec<String> = f.details["ids"]
                        .as_array()
                        .map(|ids| {
                            ids.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    known.retain(|_, id| !gone.contains(id));
                    upload(client, batch, &mut known, false, &progress, options.quiet).await?;
                    ledger.instances.insert(instance.to_string(), known.clone());
                    ledger.save(ledger_path)?;
                    process(client, batch, &known, &progress, options.quiet, &label).await?
                }
                _ => return Err(e),
            },
        };
        results.push(result);
    }

    let out = options
        .out
        .clone()
        .unwrap_or_else(|| options.folder.join(html::PAGE_NAME));
    let page = html::render(&options.folder, &out, &results, &skipped)?;
    std::fs::write(&out, page).with_context(|| format!("writing {}", out.display()))?;
    if !options.quiet {
        print_summary(&results, &skipped, uploaded, photos.len(), &out);
    }
    Ok(out)
}

#[allow(clippy::print_stdout)]
fn print_summary(
    results: &[BatchResult],
    skipped: &[Skipped],
    uploaded: usize,
    total: usize,
    out: &Path,
) {
    use std::io::IsTerminal;
    let tty = std::io::stdout().is_terminal();
    let (bold, dim, reset) = if tty {
        ("\u{1b}[1m", "\u{1b}[2m", "\u{1b}[0m")
    } else {
        ("", "", "")
    };
    let albums: usize = results
        .iter()
        .map(|r| r.gallery["albums"].as_array().map_or(0, Vec::len))
        .sum();
    println!();
    println!(
        "Organised {total} photo{} into {albums} album{} ({} uploaded now, {} already there).",
        if total == 1 { "" } else { "s" },
        if albums == 1 { "" } else { "s" },
        uploaded,
        total - uploaded
    );
    for r in results {
        match (
            r.status["organizer"].as_str(),
            r.status["fallbackReason"].as_str(),
        ) {
            (Some("gemini"), _) => println!("Albums by Gemini."),
            (_, Some(why)) => println!("Albums by the offline organiser, because {why}."),
            _ => println!(
                "Albums by the offline organiser (set GEMINI_API_KEY to have Gemini make them)."
            ),
        }
        for album in r.gallery["albums"].as_array().into_iter().flatten() {
            let n = album["images"].as_array().map_or(0, Vec::len);
            println!();
            println!(
                "  {bold}{}{reset} — {n} photo{}",
                album["title"].as_str().unwrap_or(""),
                if n == 1 { "" } else { "s" }
            );
            if let Some(d) = album["description"].as_str().filter(|d| !d.is_empty()) {
                println!("    {d}");
            }
            let files: Vec<&str> = album["images"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["imageId"].as_str())
                .filter_map(|id| r.names.get(id).map(String::as_str))
                .collect();
            println!("    {dim}{}{reset}", files.join(", "));
        }
    }
    if !skipped.is_empty() {
        println!();
        println!(
            "Skipped {} file{}:",
            skipped.len(),
            if skipped.len() == 1 { "" } else { "s" }
        );
        for s in skipped {
            println!("  {} — {}", s.name, s.reason);
        }
    }
    println!();
    println!("Gallery page: {}", out.display());
}
