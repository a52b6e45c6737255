//! Turning a pending job into albums. One plain function, called by the SQS handler, the
//! signed-webhook handler, the local dispatcher and the tests alike.
//!
//! Claim (atomic, with a lease) → prepare the photos (bounded concurrency, blocking
//! threads; none fetched when the organiser does not look at them) → organise (the app's
//! [`Organiser`](crate::domain::organiser::Organiser): Gemini with the offline organiser
//! behind it) → write albums, memberships, captions and the job's completion in one
//! transaction, only while the lease is held.

use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use uuid::Uuid;

use crate::adapter::postgres::{self as db, DbError};
use crate::adapter::s3::StorageError;
use crate::app::{App, NotConfigured};
use crate::domain::generation::ImageUsage;
use crate::domain::language::Language;
use crate::domain::organiser::{self, BatchPhoto, Offline, OrganiseError, Organised};
use crate::domain::plan::{self, PhotoFacts};
use crate::domain::prepare::{DecodeLimits, Size};
use crate::domain::{ContentType, JobKind, JobStage, JobStatus};
use crate::repo::circuits::{self, Admission};
use crate::repo::deletions;
use crate::repo::galleries::{self, NewAlbum};
use crate::repo::images::{self, BatchImage};
use crate::repo::jobs::{self, Claim, Completion, JobRow};
use crate::repo::users;
use crate::usecase::ai_costs::{self, CallRecord};
use crate::usecase::limits;
use crate::usecase::make_renditions::{RenditionError, make_renditions};
use crate::usecase::run_generation::run_generation;

/// Photos fetched and prepared at once: bounds memory to a few originals at a time.
pub const PREPARE_CONCURRENCY: usize = 4;
/// HEIC/HEIF originals up to this size go to the model as they are.
pub const HEIC_PASSTHROUGH_BYTES: usize = 4 * 1024 * 1024;

/// How this delivery may spend its time.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    /// When the caller must have answered (the Lambda's deadline, less a margin).
    pub deadline: Instant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessOutcome {
    Completed {
        albums: usize,
        organizer: &'static str,
    },
    /// A generation's picture is stored as this image.
    Generated {
        image_id: Uuid,
    },
    /// Finished earlier (a repeated delivery): nothing was done.
    AlreadyFinished(JobStatus),
    /// Another worker holds a live claim.
    HeldElsewhere,
    NotFound,
    /// Ended as failed, with the sentence shown to the user.
    Failed(String),
}

/// Deliver again later: the job was given back (or its lease will run out).
#[derive(Debug, Clone, thiserror::Error)]
#[error("retry later: {reason}")]
pub struct RetryLater {
    pub reason: String,
    pub retry_after: Option<Duration>,
}

pub(crate) enum Trouble {
    /// Passing: database or storage hiccups, the model busy.
    Transient(String, Option<Duration>),
    /// Will not get better: the job fails with this sentence.
    Permanent(String),
    /// Another worker took the job over while we ran.
    LostLease,
    /// Not run now (its provider is given a rest): give it back without counting the try.
    Rested(String, Duration),
}

/// A part this process was not built with (a wiring mistake the cold start guards).
fn not_ready(missing: NotConfigured) -> Trouble {
    Trouble::Permanent(format!("The photo processor is not ready ({missing})."))
}

impl From<DbError> for Trouble {
    fn from(e: DbError) -> Self {
        Trouble::Transient(format!("database: {e}"), None)
    }
}

#[tracing::instrument(skip(app, delivery), fields(job_id = %job_id))]
pub async fn run_job(
    app: &App,
    job_id: Uuid,
    delivery: Delivery,
) -> Result<ProcessOutcome, RetryLater> {
    let owner = format!("{}-{}", app.instance, Uuid::new_v4().simple());
    let remaining = delivery.deadline.saturating_duration_since(Instant::now());
    let lease = app
        .config
        .processor
        .lease
        .max(remaining + Duration::from_secs(60));
    let claim = db::with_client(&app.pool, |client| {
        let owner = owner.clone();
        async move { jobs::claim(&client, job_id, &owner, lease).await }
    })
    .await
    .map_err(|e| RetryLater {
        reason: format!("could not claim the job: {e}"),
        retry_after: Some(Duration::from_secs(10)),
    })?;
    let job = match claim {
        Claim::Claimed(job) => *job,
        Claim::Finished(status) => {
            tracing::info!(?status, "job already finished; nothing to do");
            return Ok(ProcessOutcome::AlreadyFinished(status));
        }
        Claim::Held => return Ok(ProcessOutcome::HeldElsewhere),
        Claim::NotFound => return Ok(ProcessOutcome::NotFound),
    };
    tracing::info!(
        attempt = job.attempts,
        images = job.image_ids.len(),
        "job claimed"
    );

    // Boxed: each kind's future is large, and one beside the other inside every
    // delivery path's future would be deeper still.
    let ran = match job.kind {
        JobKind::Organise => Box::pin(run(app, &job, &owner, delivery)).await,
        JobKind::Generate => Box::pin(run_generation(app, &job, &owner, delivery)).await,
    };
    match ran {
        Ok(outcome) => Ok(outcome),
        Err(Trouble::LostLease) => {
            tracing::warn!(
                "the claim is gone (the job was cancelled, or another worker took it over); dropping this run"
            );
            Ok(ProcessOutcome::HeldElsewhere)
        }
        Err(Trouble::Permanent(sentence)) => {
            fail(app, &job, &owner, &sentence).await?;
            Ok(ProcessOutcome::Failed(sentence))
        }
        Err(Trouble::Rested(reason, retry_after)) => {
            let note = format!("Waiting: {reason}. It will be run again.");
            if let Err(e) = db::with_client(&app.pool, |client| {
                let (owner, note) = (owner.clone(), note.clone());
                async move { jobs::release_uncounted(&client, job.id, &owner, &note).await }
            })
            .await
            {
                tracing::warn!(error = ?e, "could not give the job back");
            }
            tracing::info!(%reason, "job given back without using a try");
            Err(RetryLater {
                reason,
                retry_after: Some(retry_after),
            })
        }
        Err(Trouble::Transient(reason, retry_after)) => {
            let max = app.config.processor.max_job_attempts;
            if job.attempts as u32 >= max {
                let sentence = match job.kind {
                    JobKind::Organise => format!(
                        "We could not finish organising these photos after {max} tries ({reason}). Please try again later."
                    ),
                    JobKind::Generate => format!(
                        "The picture could not be made after {max} tries ({reason}). Please try again later."
                    ),
                };
                fail(app, &job, &owner, &sentence).await?;
                return Ok(ProcessOutcome::Failed(sentence));
            }
            let note = format!(
                "Attempt {} did not finish: {reason}. It will be retried.",
                job.attempts
            );
            if let Err(e) = db::with_client(&app.pool, |client| {
                let (owner, note) = (owner.clone(), note.clone());
                async move { jobs::release(&client, job.id, &owner, &note).await }
            })
            .await
            {
                // The lease runs out on its own; the next delivery takes over then.
                tracing::warn!(error = ?e, "could not give the job back");
            }
            tracing::warn!(%reason, attempt = job.attempts, "job given back for a retry");
            Err(RetryLater {
                reason,
                retry_after,
            })
        }
    }
}

/// Gives back every job this process holds, unsent, so that the next delivery (or the
/// next request for the same batch) runs it at once instead of after its lease. For a
/// process that is stopping (`momentarium organize` on Ctrl-C).
pub async fn give_back_claims(app: &App) -> Result<u64, DbError> {
    let released = db::with_client(&app.pool, |client| async move {
        jobs::release_all_of(
            &client,
            &app.instance,
            "Stopped before it finished; it will be run again.",
        )
        .await
    })
    .await?;
    if released > 0 {
        tracing::info!(released, "claims given back");
    }
    Ok(released)
}

async fn fail(app: &App, job: &JobRow, owner: &str, sentence: &str) -> Result<(), RetryLater> {
    tracing::error!(%sentence, "job failed");
    db::with_client(&app.pool, |client| async move {
        jobs::fail(&client, job.id, Some(owner), sentence).await
    })
    .await
    .map(|_| ())
    .map_err(|e| RetryLater {
        reason: format!("could not record the failure: {e}"),
        retry_after: None,
    })
}

/// A photo after preparation: what the model will see, if anything.
pub(crate) struct Ready {
    image: BatchImage,
    pub(crate) model_input: Option<(&'static str, Vec<u8>)>,
}

pub(crate) async fn fetch_and_prepare(
    app: &App,
    image: BatchImage,
) -> Result<Option<Ready>, Trouble> {
    let storage = app.storage().map_err(not_ready)?;
    if image.renditions {
        match storage.get_key(&image.key().rendition(Size::Model)).await {
            Ok(jpeg) => {
                return Ok(Some(Ready {
                    image,
                    model_input: Some(("image/jpeg", jpeg.to_vec())),
                }));
            }
            Err(StorageError::NotFound) => {
                tracing::warn!(image_id = %image.id, "model rendition missing; making it again");
            }
            Err(e) => return Err(Trouble::Transient(format!("storage: {e}"), None)),
        }
    }
    // Exactly the version that was inspected: bytes swapped in afterwards are refused.
    let bytes = match storage.get(&image.key(), image.etag.as_deref()).await {
        Ok(b) => b,
        Err(StorageError::NotFound) => {
            tracing::warn!(image_id = %image.id, "photo missing from storage; leaving it out");
            return Ok(None);
        }
        Err(StorageError::Changed) => {
            tracing::warn!(
                image_id = %image.id,
                "photo replaced since it was inspected; leaving it out"
            );
            return Ok(None);
        }
        Err(e) => return Err(Trouble::Transient(format!("storage: {e}"), None)),
    };
    let content_type = ContentType::parse(&image.content_type).unwrap_or(ContentType::Jpeg);
    let orientation = image.orientation.and_then(|o| u8::try_from(o).ok());
    let limits = DecodeLimits::with_max_pixels(app.config.limits.max_image_pixels);
    // A photo inspected before renditions existed: make them now, once.
    let made = make_renditions(
        storage,
        &image.key(),
        bytes.clone(),
        content_type,
        orientation,
        limits,
    )
    .await;
    let model_input = match made {
        Ok(model) => {
            let (id, etag, user_id) = (image.id, image.etag.clone(), image.user_id);
            db::with_client(&app.pool, |client| {
                let etag = etag.clone();
                async move {
                    let marked = images::mark_renditions(&client, id, etag.as_deref()).await?;
                    if !marked {
                        // Deleted meanwhile: its new renditions go the way of its objects.
                        deletions::queue_if_gone(&client, user_id, id).await?;
                    }
                    Ok(marked)
                }
            })
            .await?;
            Some(("image/jpeg", model.jpeg))
        }
        Err(RenditionError::Skipped(_))
            if matches!(content_type, ContentType::Heic | ContentType::Heif)
                && bytes.len() <= HEIC_PASSTHROUGH_BYTES =>
        {
            Some((content_type.as_str(), bytes.to_vec()))
        }
        Err(RenditionError::Storage(e)) => {
            return Err(Trouble::Transient(format!("storage: {e}"), None));
        }
        Err(e) => {
            tracing::warn!(image_id = %image.id, error = %e, "photo not shown to the model");
            None
        }
    };
    Ok(Some(Ready { image, model_input }))
}

/// Whether this build makes renditions of the type (HEIC/HEIF only with the `heif`
/// feature).
pub(crate) fn renderable(content_type: &str) -> bool {
    match ContentType::parse(content_type) {
        Some(ContentType::Jpeg | ContentType::Png | ContentType::Webp) => true,
        Some(ContentType::Heic | ContentType::Heif) => cfg!(feature = "heif"),
        None => false,
    }
}

fn context_line(image: &BatchImage) -> String {
    let mut parts = Vec::new();
    if let Some(t) = image.taken_at {
        let offset = image
            .offset_minutes
            .and_then(|m| chrono::FixedOffset::east_opt(i32::from(m) * 60));
        parts.push(match offset {
            Some(o) => format!(
                "taken {} (UTC{})",
                t.with_timezone(&o).format("%Y-%m-%d %H:%M"),
                o
            ),
            None => format!("taken {} (local time)", t.format("%Y-%m-%d %H:%M")),
        });
    }
    match (&image.place, image.latitude.zip(image.longitude)) {
        (Some(place), Some((lat, lon))) => {
            parts.push(format!("in {} at {lat:.4}, {lon:.4}", place.described()));
        }
        (None, Some((lat, lon))) => parts.push(format!("at {lat:.4}, {lon:.4}")),
        _ => {}
    }
    if let Some(model) = &image.camera_model {
        parts.push(
            format!(
                "camera {} {}",
                image.camera_make.as_deref().unwrap_or(""),
                model
            )
            .replace("  ", " "),
        );
    }
    if parts.is_empty() {
        "no time or place recorded".into()
    } else {
        parts.join(", ")
    }
}

/// Claimed → prepare → organise → write.
async fn run(
    app: &App,
    job: &JobRow,
    owner: &str,
    delivery: Delivery,
) -> Result<ProcessOutcome, Trouble> {
    let ready = prepare_batch(app, job).await?;
    enter(app, job, owner, JobStage::AskingModel).await?;
    let organised = organise(app, job, &ready, delivery).await?;
    debug_assert!(plan::is_partition(&organised.plan, ready.len()));
    enter(app, job, owner, JobStage::Writing).await?;
    write_result(app, job, owner, &ready, &organised).await?;
    // Semantic search's vectors: after the albums are saved, best effort.
    let ids: Vec<Uuid> = ready.iter().map(|r| r.image.id).collect();
    crate::usecase::search::embed_photos(app, job.user_id, Some(job.id), &ids).await;
    tracing::info!(
        albums = organised.plan.albums.len(),
        organizer = organised.organizer,
        "job completed"
    );
    Ok(ProcessOutcome::Completed {
        albums: organised.plan.albums.len(),
        organizer: organised.organizer,
    })
}

/// Records the job's next stage (what live progress shows). A claim lost meanwhile ends
/// this run: another worker has the job.
pub(crate) async fn enter(
    app: &App,
    job: &JobRow,
    owner: &str,
    stage: JobStage,
) -> Result<(), Trouble> {
    let held = db::with_client(&app.pool, |client| async move {
        jobs::set_stage(&client, job.id, owner, stage).await
    })
    .await?;
    tracing::debug!(stage = stage.as_str(), held, "job stage");
    if held {
        Ok(())
    } else {
        Err(Trouble::LostLease)
    }
}

/// The batch's photos, fetched and prepared a few at a time — or, when the organiser
/// looks at EXIF only and every time is known, not fetched at all.
async fn prepare_batch(app: &App, job: &JobRow) -> Result<Vec<Ready>, Trouble> {
    let (user_id, ids) = (job.user_id, job.image_ids.clone());
    let batch = db::with_client(&app.pool, |client| {
        let ids = ids.clone();
        async move { images::batch(&client, user_id, &ids).await }
    })
    .await?;
    if batch.is_empty() {
        return Err(Trouble::Permanent(
            "None of the photos in this batch are available any more; upload them again.".into(),
        ));
    }
    let organiser = app.organiser().map_err(not_ready)?;
    let pixels_needed = organiser.wants_pixels() || batch.iter().any(|i| i.taken_at.is_none());
    if !pixels_needed {
        tracing::debug!(
            "offline organiser with every time known; only photos without renditions are fetched"
        );
    }
    let ready: Vec<Ready> = futures::stream::iter(batch)
        .map(|image| async move {
            if pixels_needed {
                return fetch_and_prepare(app, image).await;
            }
            // A photo recorded before renditions existed gets them now, though the
            // organiser needs no pixels: the gallery's grid is made of them. Best effort:
            // the job does not wait on it.
            if app.config.processor.backfill_renditions
                && !image.renditions
                && renderable(&image.content_type)
            {
                let id = image.id;
                match fetch_and_prepare(app, image.clone()).await {
                    Ok(_) => {}
                    Err(
                        Trouble::Transient(why, _)
                        | Trouble::Permanent(why)
                        | Trouble::Rested(why, _),
                    ) => {
                        tracing::warn!(image_id = %id, %why, "renditions not made; the next job tries again");
                    }
                    Err(Trouble::LostLease) => return Err(Trouble::LostLease),
                }
            }
            Ok(Some(Ready {
                image,
                model_input: None,
            }))
        })
        .buffered(PREPARE_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    if ready.is_empty() {
        return Err(Trouble::Permanent(
            "None of the photos in this batch could be read from storage; upload them again."
                .into(),
        ));
    }
    Ok(ready)
}

/// Asks the app's organiser (Gemini with the offline organiser behind it, or the offline
/// one alone) for a plan.
async fn organise(
    app: &App,
    job: &JobRow,
    ready: &[Ready],
    delivery: Delivery,
) -> Result<Organised, Trouble> {
    let photos: Vec<BatchPhoto> = ready
        .iter()
        .map(|r| BatchPhoto {
            facts: PhotoFacts {
                taken_at: r.image.taken_at,
                offset_minutes: r.image.offset_minutes,
                latitude: r.image.latitude,
                longitude: r.image.longitude,
                place: r.image.place.clone(),
                colour: None,
            },
            context: context_line(&r.image),
            pixels: r.model_input.clone(),
        })
        .collect();
    // Leave time to write the result.
    let delivery_deadline = delivery
        .deadline
        .checked_sub(Duration::from_secs(5))
        .unwrap_or(delivery.deadline);
    let user_id = job.user_id;
    let language = db::with_client(&app.pool, |client| async move {
        users::language(&client, user_id).await
    })
    .await?;
    let Some(model) = app.model.as_deref() else {
        // No model configured: the organiser is the offline one; nothing to guard.
        return call_organiser(app, job, &photos, language, delivery_deadline, false).await;
    };
    // The job's own deadline: past it, the model is not waited for any more.
    let job_left = app.config.processor.job_deadline.checked_sub(
        (Utc::now() - job.created_at)
            .to_std()
            .unwrap_or(Duration::ZERO),
    );
    let Some(job_left) = job_left.filter(|left| *left > Duration::from_secs(1)) else {
        return Ok(offline_now(
            &photos,
            language,
            format!(
                "the model did not answer within {} s of the request",
                app.config.processor.job_deadline.as_secs()
            ),
        ));
    };
    let budget = limits::budget(app, job.user_id).await?;
    if budget.exhausted() {
        return Ok(offline_now(
            &photos,
            language,
            format!(
                "this month's AI budget is used ({} of {}); organised without the model",
                limits::usd(budget.spent_usd),
                limits::usd(budget.limit_usd)
            ),
        ));
    }
    let circuit = circuit_name(model);
    let cooldown = app.config.processor.circuit_cooldown.as_secs_f64();
    let admission = db::with_client(&app.pool, |client| {
        let circuit = circuit.clone();
        async move { circuits::admit(&client, &circuit, cooldown).await }
    })
    .await?;
    if let Admission::Open { retry_after_secs } = admission {
        tracing::info!(%circuit, retry_after_secs, "circuit open: organising offline at once");
        return Ok(offline_now(
            &photos,
            language,
            "the model has been failing and is given a rest; organised offline at once".to_string(),
        ));
    }
    let job_deadline = Instant::now() + job_left;
    // The job's deadline falls in this delivery: it is the last chance for the model.
    let (deadline, final_call) = if job_deadline < delivery_deadline {
        (job_deadline, true)
    } else {
        (delivery_deadline, false)
    };
    let outcome = call_organiser(app, job, &photos, language, deadline, final_call).await;
    record_organising(app, job, model, &outcome).await?;
    // The model answered (used or not) or it did not (timeouts, 5xx, 429 to the end).
    let (answered, error) = match &outcome {
        Ok(o) if o.organizer != "offline" || o.usage.is_some() => (true, None),
        Ok(o) => (false, o.fallback_reason.clone()),
        Err(Trouble::Transient(reason, _)) => (false, Some(reason.clone())),
        Err(_) => (true, None),
    };
    let threshold = i32::try_from(app.config.processor.circuit_failures).unwrap_or(i32::MAX);
    let change =
        db::with_client(&app.pool, |client| {
            let (circuit, error) = (circuit.clone(), error.clone());
            async move {
                circuits::record(&client, &circuit, answered, threshold, error.as_deref()).await
            }
        })
        .await?;
    match change {
        circuits::Change::Opened => tracing::error!(
            %circuit,
            error = error.as_deref().unwrap_or(""),
            cooldown_secs = cooldown,
            "circuit opened: jobs are organised offline until a trial call succeeds"
        ),
        circuits::Change::Closed => {
            tracing::warn!(%circuit, "circuit closed: the model answers again")
        }
        circuits::Change::None => {}
    }
    outcome
}

/// Records what asking the model cost: its tokens when it answered (used or not), or a
/// failed call when it did not.
async fn record_organising(
    app: &App,
    job: &JobRow,
    model: &str,
    outcome: &Result<Organised, Trouble>,
) -> Result<(), Trouble> {
    let (usage, error) = match outcome {
        Ok(o) => (
            o.usage,
            (o.organizer == "offline").then(|| {
                o.fallback_reason
                    .clone()
                    .unwrap_or_else(|| "organised offline".into())
            }),
        ),
        Err(Trouble::Transient(reason, _)) => (None, Some(reason.clone())),
        Err(_) => return Ok(()),
    };
    let usage = usage.unwrap_or_default();
    // Priced by the model asked for (the answer's modelVersion may name a dated build).
    ai_costs::record_call(
        app,
        CallRecord {
            user_id: job.user_id,
            job_id: Some(job.id),
            purpose: "organise",
            provider: "gemini",
            model,
            error,
            usage: ImageUsage {
                input_tokens: usage.prompt,
                input_image_tokens: 0,
                // Thinking is billed as output.
                output_tokens: usage.output + usage.thoughts,
            },
            images: 0,
        },
    )
    .await?;
    Ok(())
}

/// The circuit of a model: one per provider and model.
pub fn circuit_name(model: &str) -> String {
    format!("gemini:{model}")
}

/// The offline organiser's albums now, with the reason the model was not asked.
fn offline_now(photos: &[BatchPhoto], language: Language, reason: String) -> Organised {
    tracing::warn!(%reason, "organising offline without asking the model");
    Offline::plan(photos, language, Some(reason))
}

async fn call_organiser(
    app: &App,
    job: &JobRow,
    photos: &[BatchPhoto],
    language: Language,
    deadline: Instant,
    final_call: bool,
) -> Result<Organised, Trouble> {
    let request = organiser::Request {
        photos,
        language,
        deadline,
        attempt: job.attempts,
        last_attempt: final_call || job.attempts as u32 >= app.config.processor.max_job_attempts,
    };
    let organiser = app.organiser().map_err(not_ready)?;
    organiser.organise(request).await.map_err(|e| match e {
        OrganiseError::Transient {
            reason,
            retry_after,
        } => Trouble::Transient(reason, retry_after),
        // The app's organiser ends in the offline one, which always answers.
        OrganiseError::Unusable { reason, .. } => Trouble::Permanent(format!(
            "These photos could not be organised ({reason}). Please try again later."
        )),
    })
}

async fn write_result(
    app: &App,
    job: &JobRow,
    owner: &str,
    ready: &[Ready],
    organised: &Organised,
) -> Result<(), Trouble> {
    let plan = &organised.plan;
    let usage = organised.usage;
    let completion = Completion {
        organizer: organised.organizer,
        model: organised.model.clone(),
        fallback_reason: organised.fallback_reason.clone(),
        prompt_tokens: usage.map(|u| u.prompt),
        output_tokens: usage.map(|u| u.output),
        thoughts_tokens: usage.map(|u| u.thoughts),
        total_tokens: usage.map(|u| u.total),
    };
    let completion = &completion;
    let albums: Vec<NewAlbum> = plan
        .albums
        .iter()
        .map(|a| NewAlbum {
            id: Uuid::now_v7(),
            title: a.title.clone(),
            description: a.description.clone(),
            cover_image_id: Some(ready[a.cover].image.id),
            image_ids: a.members.iter().map(|m| ready[*m].image.id).collect(),
        })
        .collect();
    let ids: Vec<Uuid> = ready.iter().map(|r| r.image.id).collect();
    let captions: Vec<Option<String>> = plan.photos.iter().map(|p| p.caption.clone()).collect();
    let tags: Vec<String> = plan
        .photos
        .iter()
        .map(|p| serde_json::to_string(&p.tags).unwrap_or_else(|_| "[]".into()))
        .collect();
    let mut client = app.pool.get().await.map_err(DbError::from)?;
    let written: Result<Written, tokio_postgres::Error> = async {
        let tx = client.transaction().await?;
        if !jobs::still_held(&tx, job.id, owner).await? {
            return Ok(Written::LostLease);
        }
        // Photos deleted while the job ran are left out; the rest cannot go until this
        // commits.
        let present = images::lock_existing(&tx, job.user_id, &ids).await?;
        if present.is_empty() {
            return Ok(Written::NothingLeft);
        }
        let (albums, ids, captions, tags) = if present.len() == ids.len() {
            (albums.clone(), ids.clone(), captions.clone(), tags.clone())
        } else {
            tracing::info!(
                deleted = ids.len() - present.len(),
                "photos deleted while the job ran are left out"
            );
            without_deleted(&albums, &ids, &captions, &tags, &present)
        };
        let Some(gallery_id) = job.gallery_id else {
            return Ok(Written::NothingLeft);
        };
        galleries::insert_albums(&tx, job.user_id, gallery_id, &albums).await?;
        images::set_captions(&tx, job.user_id, &ids, &captions, &tags).await?;
        images::refresh_search(&tx, &ids).await?;
        jobs::complete(&tx, job.id, completion).await?;
        tx.commit().await?;
        Ok(Written::Done)
    }
    .await;
    match written {
        Ok(Written::Done) => Ok(()),
        Ok(Written::LostLease) => Err(Trouble::LostLease),
        Ok(Written::NothingLeft) => Err(Trouble::Permanent(
            "None of the photos in this batch are available any more (they were deleted while it ran).".into(),
        )),
        Err(e) => Err(DbError::from(e).into()),
    }
}

enum Written {
    Done,
    LostLease,
    NothingLeft,
}

/// The result without the photos no longer `present`: albums keep their other photos
/// (a cover that went is replaced by the album's first photo left), and an album left
/// empty is dropped.
#[allow(clippy::type_complexity)]
fn without_deleted(
    albums: &[NewAlbum],
    ids: &[Uuid],
    captions: &[Option<String>],
    tags: &[String],
    present: &std::collections::HashSet<Uuid>,
) -> (Vec<NewAlbum>, Vec<Uuid>, Vec<Option<String>>, Vec<String>) {
    let albums = albums
        .iter()
        .filter_map(|a| {
            let image_ids: Vec<Uuid> = a
                .image_ids
                .iter()
                .filter(|id| present.contains(id))
                .copied()
                .collect();
            let first = *image_ids.first()?;
            Some(NewAlbum {
                cover_image_id: a
                    .cover_image_id
                    .filter(|c| present.contains(c))
                    .or(Some(first)),
                image_ids,
                ..a.clone()
            })
        })
        .collect();
    let kept: Vec<usize> = (0..ids.len())
        .filter(|i| present.contains(&ids[*i]))
        .collect();
    (
        albums,
        kept.iter().map(|i| ids[*i]).collect(),
        kept.iter().map(|i| captions[*i].clone()).collect(),
        kept.iter().map(|i| tags[*i].clone()).collect(),
    )
}
