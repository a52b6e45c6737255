//! `momentarium organize <folder>`: through the public API, like any client — upload URLs,
//! presigned PUTs in parallel, process, poll, fetch the gallery — then a summary in the
//! terminal and a self-contained HTML page.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use momentarium_shared::contract::{
    Album, Gallery, JobStatusBody, ProcessAccepted, ProcessRequest,
};
use momentarium_shared::domain::ContentType;
use momentarium_shared::domain::inspect::{read_exif, sniff};
use momentarium_shared::domain::plan::{PhotoFacts, outings};
use momentarium_shared::domain::{JobStage, JobStatus};
use serde::{Deserialize, Serialize};
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
    /// Its path inside the folder (`2024/DCIM/IMG_0001.JPG`), as shown to the person.
    pub name: String,
    pub content_type: ContentType,
    pub size: u64,
    pub sha256: String,
    pub taken: Option<chrono::DateTime<chrono::Utc>>,
    /// The photographer's UTC offset, when the camera recorded it.
    pub offset_minutes: Option<i16>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Which outing of the folder it belongs to, and whether that outing was larger than
    /// a batch (so cut across batches); set by [`batches`].
    pub outing: Option<(usize, bool)>,
}

impl LocalPhoto {
    /// The file's own name, which is what the API is told (it takes no paths).
    pub fn file_name(&self) -> String {
        self.name
            .rsplit('/')
            .next()
            .unwrap_or(&self.name)
            .to_string()
    }
}

/// A file left out, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

impl Skipped {
    fn new(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            reason: reason.into(),
        }
    }
}

pub struct Options {
    pub folder: PathBuf,
    pub out: Option<PathBuf>,
    pub batch_size: usize,
    pub force_upload: bool,
    pub quiet: bool,
    /// Print how long each phase took.
    pub timings: bool,
    /// How long reading the folder took (it happens before the stack starts).
    pub scanned_in: Duration,
}

/// Where the time of one run went.
#[derive(Debug, Default)]
struct Timings {
    scan: Duration,
    upload: Duration,
    /// Process requests (which inspect uploads the server has not seen yet), the model or
    /// the offline organiser, and fetching the galleries.
    organising: Duration,
    page: Duration,
}

impl Timings {
    #[allow(clippy::print_stdout)]
    fn print(&self) {
        let total = self.scan + self.upload + self.organising + self.page;
        println!(
            "Took {:.1} s: reading the folder {:.1} s, uploading {:.1} s, inspecting and organising {:.1} s, the page {:.1} s.",
            total.as_secs_f64(),
            self.scan.as_secs_f64(),
            self.upload.as_secs_f64(),
            self.organising.as_secs_f64(),
            self.page.as_secs_f64()
        );
    }
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

/// Folders that hold no photos of the person's own: hidden ones, and the thumbnail and
/// trash folders NAS boxes and archivers leave behind.
fn is_junk_dir(name: &str) -> bool {
    name.starts_with('.')
        || matches!(
            name,
            "@eaDir" | "#recycle" | "#snapshot" | "__MACOSX" | "$RECYCLE.BIN" | "@Recycle"
        )
}

/// Lists the folder's photos, in every subfolder (by their bytes, not their names), and
/// what was skipped. Symbolic links are followed; a link back up the tree is noticed and
/// not followed again. Hidden files (`.DS_Store`, macOS `._*` companions) are passed over.
pub fn scan(folder: &Path) -> anyhow::Result<(Vec<LocalPhoto>, Vec<Skipped>)> {
    anyhow::ensure!(folder.is_dir(), "{} is not a folder", folder.display());
    let walker = walkdir::WalkDir::new(folder)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !e.file_type().is_dir()
                || !is_junk_dir(&e.file_name().to_string_lossy())
        });
    let mut photos = Vec::new();
    let mut skipped = Vec::new();
    let mut first_of: HashMap<String, String> = HashMap::new();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) if e.loop_ancestor().is_some() => {
                tracing::debug!(error = %e, "a folder link loops back; not followed again");
                continue;
            }
            Err(e) => {
                let name = e
                    .path()
                    .and_then(|p| p.strip_prefix(folder).ok())
                    .map(relative_name)
                    .unwrap_or_else(|| "a folder entry".into());
                skipped.push(Skipped::new(name, "could not be read"));
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path().to_path_buf();
        let name = relative_name(path.strip_prefix(folder).unwrap_or(&path));
        let file_name = entry.file_name().to_string_lossy();
        if file_name.starts_with('.') || name == html::PAGE_NAME {
            continue;
        }
        match read_photo(&path, name.clone()) {
            Ok(photo) => match first_of.get(&photo.sha256) {
                // The same bytes twice (a copy in another folder, two links to one
                // folder): one photo, organised once.
                Some(first) => {
                    skipped.push(Skipped::new(name, format!("the same photo as {first}")))
                }
                None => {
                    first_of.insert(photo.sha256.clone(), photo.name.clone());
                    photos.push(photo);
                }
            },
            Err(reason) => skipped.push(Skipped::new(name, reason)),
        }
    }
    // Time order keeps outings together when a folder is split into batches.
    photos.sort_by(|a, b| a.taken.cmp(&b.taken).then_with(|| a.name.cmp(&b.name)));
    Ok((photos, skipped))
}

/// A path inside the folder, written with `/` whatever the platform.
fn relative_name(relative: &Path) -> String {
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn read_photo(path: &Path, name: String) -> Result<LocalPhoto, &'static str> {
    use std::io::Read;
    // What it is and how large, from its first bytes and its metadata, before reading a
    // possibly huge file (a phone's videos sit beside its photos).
    let mut file = std::fs::File::open(path).map_err(|_| "could not be read")?;
    let mut first = [0u8; 64];
    let n = file.read(&mut first).map_err(|_| "could not be read")?;
    let content_type = sniff(&first[..n]).ok_or("not a JPEG, PNG, WebP or HEIC photo")?;
    let len = file.metadata().map_err(|_| "could not be read")?.len();
    if len > MAX_BYTES {
        return Err("larger than 25 MiB");
    }
    let bytes = std::fs::read(path).map_err(|_| "could not be read")?;
    let exif = read_exif(&bytes).unwrap_or_default();
    Ok(LocalPhoto {
        path: path.to_path_buf(),
        name,
        content_type,
        size: bytes.len() as u64,
        sha256: hex(&Sha256::digest(&bytes)),
        taken: exif.taken_at,
        offset_minutes: exif.offset_minutes,
        latitude: exif.latitude,
        longitude: exif.longitude,
        outing: None,
    })
}

/// Cuts photos (in time order) into batches of at most `max`, between outings: whole
/// outings are packed together; an outing larger than a batch is cut within itself.
/// Photos without a time come last.
pub fn batches(photos: &[LocalPhoto], max: usize) -> Vec<Vec<LocalPhoto>> {
    let max = max.max(1);
    let facts: Vec<PhotoFacts> = photos
        .iter()
        .map(|p| PhotoFacts {
            taken_at: p.taken,
            offset_minutes: p.offset_minutes,
            latitude: p.latitude,
            longitude: p.longitude,
            place: None,
            colour: None,
        })
        .collect();
    let mut groups = outings(&facts);
    let untimed: Vec<usize> = (0..photos.len())
        .filter(|i| photos[*i].taken.is_none())
        .collect();
    if !untimed.is_empty() {
        groups.push(untimed);
    }
    let mut out: Vec<Vec<LocalPhoto>> = Vec::new();
    let mut current: Vec<LocalPhoto> = Vec::new();
    for (outing, group) in groups.iter().enumerate() {
        if current.len() + group.len() > max && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        let split = group.len() > max;
        for part in group.chunks(max) {
            if current.len() + part.len() > max {
                out.push(std::mem::take(&mut current));
            }
            current.extend(part.iter().map(|i| LocalPhoto {
                outing: Some((outing, split)),
                ..photos[*i].clone()
            }));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
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

/// Uploads the photos the server does not hold yet; returns how many it sent. What was
/// sent is handed to `checkpoint` after every 50 (the ledger is saved there), so a run
/// stopped or failing half-way does not send those again.
async fn upload(
    client: &ApiClient,
    photos: &[LocalPhoto],
    known: &mut HashMap<String, String>,
    force: bool,
    progress: &MultiProgress,
    quiet: bool,
    checkpoint: &dyn Fn(&HashMap<String, String>) -> anyhow::Result<()>,
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
            .map(|p| (p.file_name(), p.content_type.as_str(), p.size))
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
                        Ok((photo.sha256.clone(), ticket.image_id.to_string()))
                    }
                })
                .buffer_unordered(UPLOAD_CONCURRENCY)
                .collect()
                .await;
        let mut failed = None;
        for r in results {
            match r {
                Ok((sha, id)) => {
                    known.insert(sha, id);
                }
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        checkpoint(known)?;
        if let Some(e) = failed {
            return Err(e);
        }
    }
    bar.finish_and_clear();
    Ok(todo.len())
}

/// The result of one batch.
pub struct BatchResult {
    pub gallery: Gallery,
    pub status: JobStatusBody,
    /// Image id → the local photo it came from.
    pub photos: HashMap<String, LocalPhoto>,
    /// Image id → file name.
    pub names: HashMap<String, String>,
}

/// The thumbnails the server made at upload (a few KB each), fetched 8 at a time, so the
/// page decodes no original the server has already decoded. Any it cannot fetch are
/// made from the files instead.
async fn served_thumbnails(client: &ApiClient, results: &[BatchResult]) -> HashMap<String, String> {
    use futures::StreamExt;
    let wanted: Vec<(String, String)> = results
        .iter()
        .flat_map(|r| r.gallery.albums.iter().flat_map(|a| a.images.iter()))
        .filter_map(|i| Some((i.image_id.to_string(), i.thumb_url.clone()?)))
        .collect();
    futures::stream::iter(wanted)
        .map(|(id, url)| async move {
            match client.download(&url).await {
                Ok(jpeg) => Some((id, html::served_thumbnail(&jpeg))),
                Err(e) => {
                    tracing::debug!(%id, error = %e, "thumbnail not fetched; made from the file");
                    None
                }
            }
        })
        .buffer_unordered(8)
        .filter_map(|x| async move { x })
        .collect()
        .await
}

async fn process(
    client: &ApiClient,
    batch: &[LocalPhoto],
    known: &HashMap<String, String>,
    progress: &MultiProgress,
    quiet: bool,
    label: &str,
) -> anyhow::Result<BatchResult> {
    let ids: Vec<&str> = batch
        .iter()
        .filter_map(|p| known.get(&p.sha256).map(String::as_str))
        .collect();
    // The same uploaded photos again return the same gallery instead of a new one. The key
    // names the server's image ids: the same files uploaded afresh are a new request.
    let mut sorted = ids.clone();
    sorted.sort();
    let key = format!(
        "organize-{}",
        &hex(&Sha256::digest(sorted.join(",").as_bytes()))[..40]
    );
    let request = ProcessRequest {
        image_ids: ids
            .iter()
            .filter_map(|id| uuid::Uuid::parse_str(id).ok())
            .collect(),
    };
    let accepted: ProcessAccepted = client
        .post("/api/galleries/process", &request, Some(&key))
        .await?;
    poll(
        client,
        accepted.job_id,
        batch,
        known,
        progress,
        quiet,
        label,
    )
    .await
}

/// Photos the server rejected at upload, with the reasons it gave (a 422
/// `images_rejected` names them), so the rest of a batch can go ahead without them.
fn rejected_in(failure: &ApiFailure) -> Vec<(String, String)> {
    if failure.status != 422 || failure.code != "images_rejected" {
        return Vec::new();
    }
    let reasons = failure.details["rejected"].as_array();
    failure.details["imageIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .map(|id| {
            let reason = reasons
                .into_iter()
                .flatten()
                .find(|r| r["imageId"].as_str() == Some(id))
                .and_then(|r| r["reason"].as_str())
                .unwrap_or("rejected when it was uploaded");
            (id.to_string(), reason.to_string())
        })
        .collect()
}

async fn poll(
    client: &ApiClient,
    job: uuid::Uuid,
    batch: &[LocalPhoto],
    known: &HashMap<String, String>,
    progress: &MultiProgress,
    quiet: bool,
    label: &str,
) -> anyhow::Result<BatchResult> {
    let spinner = bar(progress, 0, "  {spinner} organising {msg} {elapsed}", quiet);
    spinner.set_message(label.to_string());
    // The job's events, pushed as it moves: the stage, and the attempt when it is retried.
    let status = client
        .follow_job(job, |status| {
            let what = match (status.status, status.stage) {
                (JobStatus::Processing, Some(JobStage::Preparing)) => "preparing the photos",
                (JobStatus::Processing, Some(JobStage::AskingModel)) => "asking the model",
                (JobStatus::Processing, Some(JobStage::Writing)) => "writing the albums",
                (other, _) => other.as_str(),
            };
            match status.attempts {
                0 | 1 => spinner.set_message(format!("{label} ({what})")),
                n => spinner.set_message(format!("{label} ({what}, attempt {n})")),
            }
        })
        .await?;
    match status.status {
        JobStatus::Completed => {}
        JobStatus::Failed => bail!(
            "organising failed: {}",
            status.error.as_deref().unwrap_or("no reason given")
        ),
        _ => bail!("the job was cancelled"),
    }
    spinner.finish_and_clear();
    let gallery: Gallery = client
        .get(
            status
                .result_url
                .as_deref()
                .context("a completed job without resultUrl")?,
        )
        .await?;
    let photos: HashMap<String, LocalPhoto> = batch
        .iter()
        .filter_map(|p| known.get(&p.sha256).map(|id| (id.clone(), p.clone())))
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
    let mut timings = Timings {
        scan: options.scanned_in,
        ..Timings::default()
    };
    let phase = Instant::now();
    // What this API already holds for this user; `checkpoint` saves it as uploads go.
    let mut known = UploadLedger::load(ledger_path)
        .instances
        .remove(instance)
        .unwrap_or_default();
    let progress = if options.quiet {
        MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
    } else {
        MultiProgress::new()
    };
    let checkpoint = |known: &HashMap<String, String>| {
        let mut ledger = UploadLedger::load(ledger_path);
        ledger.instances.insert(instance.to_string(), known.clone());
        ledger.save(ledger_path)
    };
    let uploaded = upload(
        client,
        &photos,
        &mut known,
        options.force_upload,
        &progress,
        options.quiet,
        &checkpoint,
    )
    .await?;
    timings.upload = phase.elapsed();
    let phase = Instant::now();

    let batches = batches(&photos, options.batch_size.clamp(1, 50));
    let mut skipped = skipped;
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
        let mut batch = batch.clone();
        let mut reuploaded = false;
        let result = loop {
            match process(client, &batch, &known, &progress, options.quiet, &label).await {
                Ok(r) => break Some(r),
                Err(e) => {
                    let Some(failure) = e.downcast_ref::<ApiFailure>() else {
                        return Err(e);
                    };
                    let rejected = rejected_in(failure);
                    if !rejected.is_empty() {
                        // Leave the rejected photos out, say why, and organise the rest.
                        batch.retain(|p| {
                            let id = known.get(&p.sha256);
                            match rejected.iter().find(|(r, _)| Some(r) == id) {
                                Some((_, reason)) => {
                                    skipped.push(Skipped::new(&p.name, reason.clone()));
                                    false
                                }
                                None => true,
                            }
                        });
                        if batch.is_empty() {
                            break None;
                        }
                        continue;
                    }
                    if failure.status == 404 && !reuploaded {
                        // Photos the server no longer has: upload them again, once.
                        let gone: Vec<String> = failure.details["ids"]
                            .as_array()
                            .map(|ids| {
                                ids.iter()
                                    .filter_map(|v| v.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default();
                        known.retain(|_, id| !gone.contains(id));
                        upload(
                            client,
                            &batch,
                            &mut known,
                            false,
                            &progress,
                            options.quiet,
                            &checkpoint,
                        )
                        .await?;
                        reuploaded = true;
                        continue;
                    }
                    return Err(e);
                }
            }
        };
        results.extend(result);
    }
    timings.organising = phase.elapsed();
    let phase = Instant::now();

    let out = options
        .out
        .clone()
        .unwrap_or_else(|| options.folder.join(html::PAGE_NAME));
    let served = served_thumbnails(client, &results).await;
    let page = html::render(&options.folder, &out, &results, &skipped, served)?;
    std::fs::write(&out, page).with_context(|| format!("writing {}", out.display()))?;
    timings.page = phase.elapsed();
    if !options.quiet {
        let organised: usize = results.iter().map(|r| r.photos.len()).sum();
        print_summary(
            &results,
            &skipped,
            (uploaded, photos.len()),
            organised,
            &out,
        );
        if options.timings {
            timings.print();
        }
    }
    Ok(out)
}

/// One album of the run, wherever its batch was.
pub struct OrderedAlbum<'a> {
    pub result: &'a BatchResult,
    pub album: &'a Album,
    /// The title shown: an outing cut across batches gets ", part 2", ", part 3" on its
    /// later parts, so its parts read as one.
    pub title: String,
}

/// Every album of every batch, in time order (by each album's first photo; albums with
/// no time last), as one list.
pub fn albums_in_order(results: &[BatchResult]) -> Vec<OrderedAlbum<'_>> {
    let first_time = |album: &Album| album.images.iter().filter_map(|i| i.taken_at).min();
    type Entry<'a> = (
        Option<chrono::DateTime<chrono::Utc>>,
        usize,
        &'a BatchResult,
        &'a Album,
    );
    let mut albums: Vec<Entry<'_>> = results
        .iter()
        .enumerate()
        .flat_map(|(batch, r)| {
            r.gallery
                .albums
                .iter()
                .map(move |album| (first_time(album), batch, r, album))
        })
        .collect();
    albums.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => x.cmp(&y).then(a.1.cmp(&b.1)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.1.cmp(&b.1),
    });
    // The outing an album is mostly made of, when that outing was cut across batches and
    // the offline organiser (whose albums are outings) made it; a model's own titles
    // are kept.
    let split_outing = |r: &BatchResult, album: &Album| {
        if r.status.organizer.as_deref() != Some("offline") {
            return None;
        }
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for image in &album.images {
            if let Some(LocalPhoto {
                outing: Some((outing, true)),
                ..
            }) = r.photos.get(&image.image_id.to_string())
            {
                *counts.entry(*outing).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .max_by_key(|(outing, n)| (*n, usize::MAX - outing))
            .map(|(outing, _)| outing)
    };
    let mut first_title: HashMap<usize, (String, usize)> = HashMap::new();
    albums
        .into_iter()
        .map(|(_, _, result, album)| {
            let title = match split_outing(result, album) {
                None => album.title.clone(),
                Some(outing) => {
                    let (first, parts) = first_title
                        .entry(outing)
                        .or_insert_with(|| (album.title.clone(), 0));
                    *parts += 1;
                    if *parts == 1 {
                        first.clone()
                    } else {
                        format!("{first}, part {parts}")
                    }
                }
            };
            OrderedAlbum {
                result,
                album,
                title,
            }
        })
        .collect()
}

/// At most `shown` items, then how many more.
fn shortened(items: &[&str], shown: usize) -> String {
    if items.len() <= shown + 1 {
        return items.join(", ");
    }
    format!(
        "{}, … and {} more",
        items[..shown].join(", "),
        items.len() - shown
    )
}

/// The names listed per album in the terminal, and the skipped files listed.
const NAMES_SHOWN: usize = 4;
const SKIPPED_SHOWN: usize = 10;

#[allow(clippy::print_stdout)]
fn print_summary(
    results: &[BatchResult],
    skipped: &[Skipped],
    (uploaded, found): (usize, usize),
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
    let albums = albums_in_order(results);
    println!();
    // Photos the server refused at upload are counted as found but not organised.
    let of = if total < found {
        format!(" of {found}")
    } else {
        String::new()
    };
    println!(
        "Organised {total}{of} photo{} into {} album{} ({} uploaded now, {} already there).",
        if found == 1 { "" } else { "s" },
        albums.len(),
        if albums.len() == 1 { "" } else { "s" },
        uploaded,
        found.saturating_sub(uploaded)
    );
    // Who made the albums: said once per distinct answer, not once per batch.
    let mut said = Vec::new();
    for r in results {
        let line = match (
            r.status.organizer.as_deref(),
            r.status.fallback_reason.as_deref(),
        ) {
            (Some("gemini"), _) => "Albums by Gemini.".to_string(),
            (_, Some(why)) => format!("Albums by the offline organiser, because {why}."),
            _ => "Albums by the offline organiser (set GEMINI_API_KEY to have Gemini make them)."
                .to_string(),
        };
        if !said.contains(&line) {
            println!("{line}");
            said.push(line);
        }
    }
    for ordered in &albums {
        let album = ordered.album;
        let n = album.images.len();
        println!();
        println!(
            "  {bold}{}{reset} — {n} photo{}",
            ordered.title,
            if n == 1 { "" } else { "s" }
        );
        if let Some(d) = Some(album.description.as_str()).filter(|d| !d.is_empty()) {
            println!("    {d}");
        }
        let files: Vec<&str> = album
            .images
            .iter()
            .filter_map(|i| ordered.result.names.get(&i.image_id.to_string()))
            .map(String::as_str)
            .collect();
        println!("    {dim}{}{reset}", shortened(&files, NAMES_SHOWN));
    }
    if !skipped.is_empty() {
        println!();
        println!(
            "Left out {} file{}:",
            skipped.len(),
            if skipped.len() == 1 { "" } else { "s" }
        );
        let shown = if skipped.len() <= SKIPPED_SHOWN + 1 {
            skipped.len()
        } else {
            SKIPPED_SHOWN
        };
        for s in &skipped[..shown] {
            println!("  {} — {}", s.name, s.reason);
        }
        if shown < skipped.len() {
            println!(
                "  … and {} more (all are listed on the gallery page)",
                skipped.len() - shown
            );
        }
    }
    println!();
    println!("Gallery page: {}", out.display());
}
