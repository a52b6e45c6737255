//! Making a picture, for a claimed job of kind `generate`: the references read from the
//! library, one provider call (behind its circuit breaker, recorded with its tokens and
//! price whatever its outcome), the answer checked as an upload would be, then stored.
//!
//! The result's row is written before its object (as not yet uploaded), the object and
//! its renditions next, and the row, the generation and the job's completion last, in one
//! transaction while the claim is held. A run that crashes after storing the object
//! leaves a row the next delivery completes (same id, same key: one image) or, when the
//! job ends without it, that the sweep removes with its objects.

use std::time::Duration;

use crate::adapter::postgres::{self as db, DbError};
use crate::app::App;
use crate::domain::generation::{GenerateError, ImageRequest, MadeImage, Provider, Reference};
use crate::domain::inspect::{self, Inspection};
use crate::domain::prepare::DecodeLimits;
use crate::domain::{ImageKey, JobStage};
use crate::repo::circuits::{self, Admission};
use crate::repo::generations::{self, GenerationRow};
use crate::repo::jobs::{self, JobRow};
use crate::repo::{deletions, images};
use crate::usecase::ai_costs::{self, CallRecord};
use crate::usecase::limits;
use crate::usecase::make_renditions::{RenditionError, make_renditions};
use crate::usecase::request_generation::circuit_name;
use crate::usecase::run_job::{Delivery, ProcessOutcome, Trouble, enter, fetch_and_prepare};

/// Time kept back from the delivery's deadline to store and record the picture.
const WRITE_MARGIN: Duration = Duration::from_secs(15);

pub(crate) async fn run_generation(
    app: &App,
    job: &JobRow,
    owner: &str,
    delivery: Delivery,
) -> Result<ProcessOutcome, Trouble> {
    let generation = db::with_client(&app.pool, |client| async move {
        generations::for_job(&client, job.id).await
    })
    .await?
    .ok_or_else(|| Trouble::Permanent("This generation's request is missing.".into()))?;
    let provider = Provider::parse(&generation.provider).ok_or_else(|| {
        Trouble::Permanent(format!("Unknown image provider `{}`.", generation.provider))
    })?;
    let generator = app.generator(provider).ok_or_else(|| {
        Trouble::Permanent(format!(
            "Image generation with {provider} is not configured on the processor (set {}).",
            provider.key_variable()
        ))
    })?;
    let references = read_references(app, job).await?;

    // Before the breaker: a job that may not call must not take its one trial call.
    let budget = limits::budget(app, job.user_id).await?;
    if budget.exhausted() {
        return Err(Trouble::Permanent(format!(
            "This month's AI budget is used ({} of {}); no picture was made. It renews on {} (UTC), or when it is raised.",
            limits::usd(budget.spent_usd),
            limits::usd(budget.limit_usd),
            budget.resets_at.format("%-d %B %Y")
        )));
    }
    let model = generator.model().to_string();
    let circuit = circuit_name(provider, &model);
    let cooldown = app.config.processor.circuit_cooldown.as_secs_f64();
    let admission = db::with_client(&app.pool, |client| {
        let circuit = circuit.clone();
        async move { circuits::admit(&client, &circuit, cooldown).await }
    })
    .await?;
    if let Admission::Open { retry_after_secs } = admission {
        // No call is made: the job waits without using up one of its tries.
        return Err(Trouble::Rested(
            format!("{provider} is given a rest after repeated failures"),
            Duration::from_secs(u64::from(retry_after_secs)),
        ));
    }

    enter(app, job, owner, JobStage::AskingModel).await?;
    let deadline = delivery
        .deadline
        .checked_sub(WRITE_MARGIN)
        .unwrap_or(delivery.deadline);
    let answer = generator
        .generate(ImageRequest {
            prompt: &generation.prompt,
            references: &references,
            aspect_ratio: &generation.aspect_ratio,
            deadline,
        })
        .await;
    // The provider answered (a picture or a refusal) or it did not (429, 5xx, timeout).
    let answered = !matches!(answer, Err(GenerateError::Unavailable { .. }));
    let count = answer.as_ref().map_or(0, |made| made.count);
    // A picture that is not one is as good as none (and recorded so, tokens and all).
    let answer = answer.and_then(|made| match check_picture(app, provider, &made) {
        Ok(inspection) => Ok((made, inspection)),
        Err(sentence) => Err(GenerateError::Refused {
            sentence,
            usage: made.usage,
        }),
    });
    // The call is paid for: recorded first, and tried again before the job gives up.
    record_call(app, job, provider, &model, count, &answer).await?;
    note_circuit(app, &circuit, answered, &answer).await;
    let (made, inspection) = match answer {
        Ok(checked) => checked,
        Err(GenerateError::Unavailable {
            reason,
            retry_after,
            ..
        }) => return Err(Trouble::Transient(reason, retry_after)),
        Err(GenerateError::Refused { sentence, .. }) => return Err(Trouble::Permanent(sentence)),
    };
    enter(app, job, owner, JobStage::Writing).await?;
    store(app, job, owner, &generation, &model, made, inspection).await
}

/// The references, in order, as JPEG renditions (made now for a photo that has none). A
/// reference deleted since the request ends the job: the picture would not be the one
/// asked for.
async fn read_references(app: &App, job: &JobRow) -> Result<Vec<Reference>, Trouble> {
    if job.image_ids.is_empty() {
        return Ok(Vec::new());
    }
    let (user_id, ids) = (job.user_id, job.image_ids.clone());
    let batch = db::with_client(&app.pool, |client| {
        let ids = ids.clone();
        async move { images::batch(&client, user_id, &ids).await }
    })
    .await?;
    if batch.len() != job.image_ids.len() {
        return Err(Trouble::Permanent(
            "A reference photo was deleted before the picture was made; ask again without it."
                .into(),
        ));
    }
    let mut references = Vec::with_capacity(batch.len());
    for image in batch {
        let id = image.id;
        let ready = fetch_and_prepare(app, image).await?;
        let Some((mime, bytes)) = ready.and_then(|r| r.model_input) else {
            return Err(Trouble::Permanent(format!(
                "Reference photo {id} could not be read; upload it again or leave it out."
            )));
        };
        references.push(Reference { mime, bytes });
    }
    Ok(references)
}

/// Best effort: a circuit not updated now is updated by the next call.
async fn note_circuit(
    app: &App,
    circuit: &str,
    answered: bool,
    answer: &Result<(MadeImage, Inspection), GenerateError>,
) {
    let error = answer.as_ref().err().map(ToString::to_string);
    let threshold = i32::try_from(app.config.processor.circuit_failures).unwrap_or(i32::MAX);
    let change =
        db::with_client(&app.pool, |client| {
            let error = error.clone();
            async move {
                circuits::record(&client, circuit, answered, threshold, error.as_deref()).await
            }
        })
        .await;
    match change {
        Ok(circuits::Change::Opened) => tracing::error!(
            %circuit,
            error = error.as_deref().unwrap_or(""),
            "circuit opened: generations wait until a trial call succeeds"
        ),
        Ok(circuits::Change::Closed) => {
            tracing::warn!(%circuit, "circuit closed: the provider answers again")
        }
        Ok(circuits::Change::None) => {}
        Err(e) => tracing::warn!(%circuit, error = %e, "the circuit was not updated"),
    }
}

/// Records the call with its tokens and price, whatever its outcome.
async fn record_call(
    app: &App,
    job: &JobRow,
    provider: Provider,
    model: &str,
    images: usize,
    answer: &Result<(MadeImage, Inspection), GenerateError>,
) -> Result<(), Trouble> {
    let (usage, error) = match answer {
        Ok((made, _)) => (made.usage, None),
        Err(e) => (e.usage(), Some(e.to_string())),
    };
    ai_costs::record_call(
        app,
        CallRecord {
            user_id: job.user_id,
            job_id: Some(job.id),
            purpose: "generate",
            provider: provider.as_str(),
            model,
            error,
            usage,
            // Every picture made is billed, kept or not.
            images: u32::try_from(images).unwrap_or(u32::MAX),
        },
    )
    .await?;
    Ok(())
}

/// Checks the provider's bytes as an upload's would be: a picture of a type Momentarium
/// reads (whatever the answer declared), within the pixel limit, whole.
fn check_picture(app: &App, provider: Provider, made: &MadeImage) -> Result<Inspection, String> {
    let refused = |why: String| {
        format!(
            "{provider} answered with something that is not a usable picture ({why}). Try again."
        )
    };
    let actual = inspect::sniff(&made.bytes).ok_or_else(|| {
        refused(format!(
            "declared {}, but the bytes are not an image",
            if made.declared_mime.is_empty() {
                "nothing"
            } else {
                &made.declared_mime
            }
        ))
    })?;
    if !made.declared_mime.eq_ignore_ascii_case(actual.as_str()) {
        tracing::warn!(declared = %made.declared_mime, actual = actual.as_str(), "the provider mislabelled its picture; the bytes decide");
    }
    if made.count > 1 {
        tracing::info!(
            images = made.count,
            "the provider made several pictures; the first is kept"
        );
    }
    let size = made.bytes.len() as u64;
    let inspection = inspect::inspect_head(
        &made.bytes,
        size,
        actual,
        size,
        app.config.limits.max_image_pixels,
    )
    .map_err(|e| refused(e.to_string()))?;
    inspect::check_whole(&inspection, &made.bytes).map_err(|e| refused(e.to_string()))?;
    Ok(inspection)
}

async fn store(
    app: &App,
    job: &JobRow,
    owner: &str,
    generation: &GenerationRow,
    model: &str,
    made: MadeImage,
    inspection: Inspection,
) -> Result<ProcessOutcome, Trouble> {
    let storage = app
        .storage()
        .map_err(|e| Trouble::Permanent(format!("The processor is not ready ({e}).")))?;
    let (user_id, image_id) = (job.user_id, generation.image_id);
    let key = ImageKey::new(user_id, image_id);
    let content_type = inspection.content_type;
    let origin = if generation.source_image_id.is_some() {
        "edited"
    } else {
        "generated"
    };
    let extension = content_type.as_str().trim_start_matches("image/");
    let filename = format!(
        "{origin}-{}.{extension}",
        generation.created_at.format("%Y%m%d-%H%M%S")
    );
    let size = made.bytes.len() as u64;
    db::with_client(&app.pool, |client| {
        let filename = filename.clone();
        async move {
            generations::plan_result(
                &client,
                user_id,
                image_id,
                origin,
                &filename,
                content_type.as_str(),
                size as i64,
            )
            .await
        }
    })
    .await?;
    let bytes = bytes::Bytes::from(made.bytes);
    let stored = write_objects(app, storage, &key, bytes, content_type).await;
    let (etag, renditions) = match stored {
        Ok(stored) => stored,
        Err(trouble) => {
            forget_if_gone(app, user_id, image_id).await;
            return Err(trouble);
        }
    };
    let usage = (made.usage.input_tokens, made.usage.output_tokens);
    let mut client = app.pool.get().await.map_err(DbError::from)?;
    let written: Result<Written, tokio_postgres::Error> = async {
        let tx = client.transaction().await?;
        if !jobs::still_held(&tx, job.id, owner).await? {
            return Ok(Written::LostLease);
        }
        // The photos it drew on, still there (and kept until this commits): a picture
        // made from a photo deleted meanwhile is not kept.
        let present = images::lock_existing(&tx, user_id, &job.image_ids).await?;
        if present.len() != job.image_ids.len() {
            return Ok(Written::ReferenceGone);
        }
        let found = images::Inspected {
            size,
            inspection: &inspection,
            etag: etag.as_deref(),
            renditions,
            place: None,
        };
        let marked = images::mark_uploaded(&tx, image_id, found, None).await?;
        if !marked {
            return Ok(Written::ResultGone);
        }
        jobs::complete_made(&tx, job.id, model, usage.0, usage.1).await?;
        tx.commit().await?;
        Ok(Written::Done)
    }
    .await;
    drop(client);
    let trouble = match written {
        Ok(Written::Done) => {
            tracing::info!(%image_id, origin, "picture stored");
            return Ok(ProcessOutcome::Generated { image_id });
        }
        Ok(Written::LostLease) => Trouble::LostLease,
        Ok(Written::ReferenceGone) => Trouble::Permanent(
            "A photo this picture was made from was deleted meanwhile; the picture was not kept."
                .into(),
        ),
        Ok(Written::ResultGone) => Trouble::Permanent(
            "The picture was deleted before it could be recorded; nothing was kept.".into(),
        ),
        Err(e) => DbError::from(e).into(),
    };
    // Not recorded: objects whose row is gone are queued for removal now; a row still
    // planned is the sweep's once the job has ended without it.
    forget_if_gone(app, user_id, image_id).await;
    Err(trouble)
}

enum Written {
    Done,
    LostLease,
    ReferenceGone,
    ResultGone,
}

/// The picture and its renditions, stored under the result's keys: their ETag and whether
/// the renditions were made.
async fn write_objects(
    app: &App,
    storage: &crate::adapter::s3::S3Store,
    key: &ImageKey,
    bytes: bytes::Bytes,
    content_type: crate::domain::ContentType,
) -> Result<(Option<String>, bool), Trouble> {
    let etag = storage
        .put_original(key, bytes.to_vec(), content_type.as_str())
        .await
        .map_err(|e| Trouble::Transient(format!("storage: {e}"), None))?;
    let limits = DecodeLimits::with_max_pixels(app.config.limits.max_image_pixels);
    match make_renditions(storage, key, bytes, content_type, None, limits).await {
        Ok(_) => Ok((etag, true)),
        Err(RenditionError::Storage(e)) => Err(Trouble::Transient(format!("storage: {e}"), None)),
        Err(e) => {
            tracing::warn!(%key, error = %e, "no renditions for the picture");
            Ok((etag, false))
        }
    }
}

/// Queues the result's objects for removal when its row is gone (deleted with its
/// account, or removed by the sweep while this run stored them). Best effort.
async fn forget_if_gone(app: &App, user_id: uuid::Uuid, image_id: uuid::Uuid) {
    let queued = db::with_client(&app.pool, |client| async move {
        deletions::queue_if_gone(&client, user_id, image_id).await
    })
    .await;
    match queued {
        Ok(true) => {
            tracing::info!(%image_id, "the result's row is gone; its objects are queued for removal")
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(%image_id, error = %e, "could not queue the result's objects"),
    }
}
