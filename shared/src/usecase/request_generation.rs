//! Asking for a picture: a prompt, up to three of the caller's photos as references (an
//! edit's photo first), an aspect ratio and a provider. Checked here, then a pending job of
//! kind `generate` with its generation, sent through the same queue as organising.

use std::collections::HashSet;

use chrono::Utc;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::adapter::postgres::{self as db, DbError};
use crate::app::App;
use crate::domain::generation::{self, MAX_REFERENCES, Origin, Provider};
use crate::domain::{Caller, JobKind, JobStatus};
use crate::error::ApiError;
use crate::repo::circuits;
use crate::repo::generations::{self, NewGeneration};
use crate::repo::jobs::{self, JobRow};
use crate::usecase::limits::{self, Quota};
use crate::usecase::request_processing::{JobAccepted, enqueue, uploaded_photos};
use crate::usecase::run_job::renderable;

/// A generation as asked for, before checks.
#[derive(Debug, Clone, Default)]
pub struct GenerationAsk {
    pub prompt: String,
    pub reference_ids: Vec<Uuid>,
    pub aspect_ratio: Option<String>,
    pub provider: Option<String>,
}

/// The circuit breaker of an image provider's model (shared by every instance).
pub fn circuit_name(provider: Provider, model: &str) -> String {
    format!("{provider}:{model}")
}

/// The provider a request gets: the one it names, else the configured default, else any
/// with a key. 503 (naming the variable to set) when none can be used.
fn choose_provider(app: &App, named: Option<&str>) -> Result<Provider, ApiError> {
    let unavailable = |message: String| ApiError::Unavailable {
        code: "generation_not_configured",
        message,
        retry_after_secs: None,
    };
    match named {
        Some(raw) => {
            let provider = Provider::parse(raw).ok_or_else(|| ApiError::Unprocessable {
                code: "unknown_provider",
                message: format!("`{raw}` is not an image provider; use gemini or openai."),
                details: Some(json!({"providers": ["gemini", "openai"]})),
            })?;
            if app.generator(provider).is_none() {
                return Err(unavailable(format!(
                    "Image generation with {provider} is not configured here: set {}.",
                    provider.key_variable()
                )));
            }
            Ok(provider)
        }
        None => {
            let default = app.config.generation.default_provider;
            std::iter::once(default)
                .chain(Provider::ALL)
                .find(|p| app.generator(*p).is_some())
                .ok_or_else(|| {
                    unavailable(
                        "Image generation is not configured here: set GEMINI_API_KEY (Gemini) or OPENAI_API_KEY (OpenAI)."
                            .into(),
                    )
                })
        }
    }
}

fn request_hash(
    prompt: &str,
    provider: Provider,
    ratio: &str,
    refs: &[Uuid],
    source: Option<Uuid>,
) -> String {
    let mut h = Sha256::new();
    for part in [prompt, provider.as_str(), ratio] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    for id in refs {
        h.update(id.as_bytes());
    }
    h.update(source.map_or([0u8; 16], |s| *s.as_bytes()));
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn same_request(job: &JobRow, hash: &str) -> Result<JobAccepted, ApiError> {
    if job.kind == JobKind::Generate && job.request_hash.as_deref() == Some(hash) {
        Ok(JobAccepted::from(job))
    } else {
        Err(ApiError::unprocessable(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different request.",
        ))
    }
}

/// Checks the request, records the job and its generation, and sends the job. `source` is
/// an edit's photo: it becomes the first reference, and the result remembers it.
#[tracing::instrument(skip(app, ask), fields(user_id = %caller.user_id, references = ask.reference_ids.len()))]
pub async fn request_generation(
    app: &App,
    caller: &Caller,
    ask: GenerationAsk,
    source: Option<Uuid>,
    idempotency_key: Option<&str>,
) -> Result<JobAccepted, ApiError> {
    let prompt = generation::check_prompt(&ask.prompt)
        .map_err(|message| ApiError::unprocessable("invalid_prompt", message))?;
    let provider = choose_provider(app, ask.provider.as_deref())?;
    let ratios = provider.aspect_ratios();
    let ratio = match ask.aspect_ratio.as_deref() {
        None => ratios[0],
        Some(r) => ratios
            .iter()
            .copied()
            .find(|known| *known == r)
            .ok_or_else(|| ApiError::Unprocessable {
                code: "unsupported_aspect_ratio",
                message: format!(
                    "{provider} makes pictures in these aspect ratios: {}.",
                    ratios.join(", ")
                ),
                details: Some(json!({"provider": provider.as_str(), "aspectRatios": ratios})),
            })?,
    };
    let mut refs: Vec<Uuid> = source.into_iter().collect();
    refs.extend(ask.reference_ids.iter().copied());
    let mut seen = HashSet::new();
    if refs.iter().any(|id| !seen.insert(*id)) {
        return Err(ApiError::unprocessable(
            "duplicate_reference",
            "Each reference photo may be named only once (an edit's photo is already the first).",
        ));
    }
    if refs.len() > MAX_REFERENCES {
        return Err(ApiError::Unprocessable {
            code: "too_many_references",
            message: format!(
                "At most {MAX_REFERENCES} reference photos (an edit's photo counts); this request has {}.",
                refs.len()
            ),
            details: Some(json!({"maxReferences": MAX_REFERENCES})),
        });
    }
    let model = match provider {
        Provider::Gemini => app.config.generation.gemini_model.clone(),
        Provider::OpenAi => app.config.generation.openai_model.clone(),
    };
    let hash = request_hash(&prompt, provider, ratio, &refs, source);
    let user_id = caller.user_id;

    if let Some(key) = idempotency_key {
        let existing = db::with_client(&app.pool, |client| async move {
            jobs::find_by_idempotency_key(&client, user_id, key).await
        })
        .await?;
        if let Some(job) = existing {
            return same_request(&job, &hash);
        }
    }

    // Each reference is the caller's and uploaded (inspected now if its event is late).
    let found = uploaded_photos(app, user_id, &refs).await?;
    for image in &found {
        let content_type = image
            .detected_content_type
            .as_deref()
            .unwrap_or(&image.declared_content_type);
        if !renderable(content_type) {
            return Err(ApiError::unprocessable(
                "reference_unsupported",
                format!(
                    "Photo {} ({content_type}) cannot be sent to an image provider from this server.",
                    image.id
                ),
            ));
        }
    }

    // A provider given a rest after repeated failures: say so now rather than queue.
    let circuit = circuit_name(provider, &model);
    let cooldown = app.config.processor.circuit_cooldown.as_secs_f64();
    let rest = db::with_client(&app.pool, |client| {
        let circuit = circuit.clone();
        async move { circuits::closed_for(&client, &circuit, cooldown).await }
    })
    .await?;
    if let Some(secs) = rest {
        return Err(ApiError::Unavailable {
            code: "provider_resting",
            message: format!(
                "{provider} has been failing and is given a rest; try again in {secs} s."
            ),
            retry_after_secs: Some(secs),
        });
    }

    limits::ensure_budget_left(app, user_id).await?;
    let job_id = Uuid::now_v7();
    let origin = if source.is_some() {
        Origin::Edited
    } else {
        Origin::Generated
    };
    let new = NewGeneration {
        job_id,
        user_id,
        prompt: &prompt,
        provider: provider.as_str(),
        model: &model,
        aspect_ratio: ratio,
        reference_ids: &refs,
        source_image_id: source,
        image_id: Uuid::now_v7(),
        idempotency_key,
        request_hash: &hash,
    };
    let mut client = app.pool.get().await.map_err(DbError::from)?;
    let tx = client.transaction().await.map_err(DbError::from)?;
    // The day's quota is taken in the job's transaction: no job, nothing taken.
    limits::take_quota(app, &tx, user_id, Quota::Generations, 1).await?;
    let created = async {
        generations::create(&tx, &new).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = created {
        let err = DbError::from(e);
        if err.constraint() == Some("processing_jobs_idempotency_key")
            && let Some(key) = idempotency_key
            && let Some(existing) = jobs::find_by_idempotency_key(&client, user_id, key)
                .await
                .map_err(DbError::from)?
        {
            return same_request(&existing, &hash);
        }
        return Err(err.into());
    }
    drop(client);
    tracing::info!(%job_id, provider = provider.as_str(), %model, origin = origin.as_str(), "generation requested");
    enqueue(app, job_id, JobKind::Generate, user_id).await;
    Ok(JobAccepted {
        job_id,
        kind: JobKind::Generate,
        gallery_id: None,
        status: JobStatus::Pending,
        created_at: Utc::now(),
        created: true,
    })
}
