//! The one delivery path. A job reaches the processor as a signed message — an SQS record
//! (Standard Webhooks values as message attributes), a signed POST to
//! `/api/jobs/process` (Standard Webhooks headers, or QStash's JWT), which the local
//! dispatcher sends too — and every one goes through [`handle_delivery`]: verify the
//! signature, parse the [`JobMessage`], run the job once.
//!
//! Once: a delivery whose id already reached a final answer is answered from that record
//! without touching the job. Retries of a delivery that was told to come back later (503,
//! a lease held elsewhere) carry the same id and do run, since only final answers are kept.

use std::time::Duration;

use secrecy::SecretString;
use uuid::Uuid;

use crate::adapter::postgres as db;
use crate::adapter::qstash;
use crate::adapter::queue::JobMessage;
use crate::adapter::standard_webhooks::{self, SignedHeaders};
use crate::app::App;
use crate::domain::JobStatus;
use crate::repo::deliveries;
use crate::usecase::run_job::{Delivery, ProcessOutcome, RetryLater, run_job};

/// How long a handled delivery id is remembered: comfortably longer than the signature's
/// freshness window (5 minutes), after which a replay is refused as stale anyway.
pub const REMEMBER_FOR: Duration = Duration::from_secs(3600);

/// What vouches for a delivery.
#[derive(Debug, Clone)]
pub enum Credential {
    /// Standard Webhooks; `freshness` bounds the timestamp's age (none for SQS, where a
    /// message may wait in the queue).
    StandardWebhooks {
        headers: SignedHeaders,
        freshness: Option<Duration>,
    },
    /// QStash's `Upstash-Signature` JWT.
    QStash { token: String },
}

/// One delivery as it arrived.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    pub body: &'a [u8],
    pub credential: Credential,
    /// Stable across the message's retries: Standard Webhooks' id, QStash's message id.
    pub delivery_id: Option<String>,
}

/// Why a delivery was not run.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Unsigned, badly signed, or stale: nothing runs.
    #[error("refused: {0}")]
    Unauthorized(String),
    /// Signed, but not a message this processor takes.
    #[error("{message}")]
    Malformed {
        code: &'static str,
        message: &'static str,
    },
    /// Deliver it again later.
    #[error(transparent)]
    RetryLater(#[from] RetryLater),
}

/// What a delivery led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The job ran now (or had finished before this delivery).
    Ran {
        job_id: Uuid,
        outcome: ProcessOutcome,
    },
    /// This delivery id was handled before and answered `status`; nothing ran.
    Replayed { job_id: Uuid, status: String },
}

/// Verifies, parses and runs one delivery.
pub async fn handle_delivery(
    app: &App,
    incoming: Incoming<'_>,
    delivery: Delivery,
) -> Result<DeliveryOutcome, DeliveryError> {
    verify(app, &incoming)?;
    let message = parse(incoming.body)?;
    run_delivery(
        app,
        incoming.delivery_id.as_deref(),
        message.job_id,
        delivery,
    )
    .await
}

fn verify(app: &App, incoming: &Incoming<'_>) -> Result<(), DeliveryError> {
    let refused = |why: String| {
        tracing::warn!(%why, "refused an unsigned or badly signed delivery");
        DeliveryError::Unauthorized(why)
    };
    match &incoming.credential {
        Credential::QStash { token } => {
            let processor = &app.config.processor;
            let current: &SecretString = processor
                .qstash_current_key
                .as_ref()
                .ok_or_else(|| refused("QStash keys are not configured".into()))?;
            qstash::verify(
                current,
                processor.qstash_next_key.as_ref(),
                token,
                incoming.body,
                processor.qstash_destination_url.as_deref(),
            )
            .map_err(|e| refused(e.to_string()))
        }
        Credential::StandardWebhooks { headers, freshness } => {
            let secret = app
                .config
                .queue
                .webhook_secret
                .as_ref()
                .ok_or_else(|| refused("WEBHOOK_SECRET is not configured".into()))?;
            standard_webhooks::verify(
                secret,
                headers,
                incoming.body,
                chrono::Utc::now().timestamp(),
                *freshness,
            )
            .map_err(|e| refused(e.to_string()))
        }
    }
}

fn parse(body: &[u8]) -> Result<JobMessage, DeliveryError> {
    let message: JobMessage =
        serde_json::from_slice(body).map_err(|_| DeliveryError::Malformed {
            code: "invalid_body",
            message: "Expected {\"type\": \"gallery.process\", \"jobId\": \"…\"}.",
        })?;
    if !message.is_process() {
        return Err(DeliveryError::Malformed {
            code: "unknown_message_type",
            message: "Only gallery.process and generation.process messages are handled.",
        });
    }
    Ok(message)
}

/// Runs the job a delivery names, unless this delivery id was already answered for good.
#[tracing::instrument(skip(app, delivery), fields(job_id = %job_id))]
async fn run_delivery(
    app: &App,
    delivery_id: Option<&str>,
    job_id: Uuid,
    delivery: Delivery,
) -> Result<DeliveryOutcome, DeliveryError> {
    let db_trouble = |e: db::DbError| RetryLater {
        reason: format!("database: {e}"),
        retry_after: None,
    };
    let delivery_id = delivery_id.filter(|id| !id.is_empty() && id.len() <= 255);
    if let Some(id) = delivery_id {
        let seen = db::with_client(&app.pool, |client| async move {
            deliveries::find(&client, id).await
        })
        .await
        .map_err(db_trouble)?;
        if let Some((seen_job, status)) = seen
            && seen_job == job_id
        {
            tracing::info!(delivery_id = id, %status, "a replayed delivery; nothing to do");
            return Ok(DeliveryOutcome::Replayed { job_id, status });
        }
    }
    let outcome = run_job(app, job_id, delivery).await?;
    let final_status = match &outcome {
        ProcessOutcome::Completed { .. } | ProcessOutcome::Generated { .. } => {
            Some(JobStatus::Completed)
        }
        ProcessOutcome::Failed(_) => Some(JobStatus::Failed),
        ProcessOutcome::AlreadyFinished(status) => Some(*status),
        ProcessOutcome::HeldElsewhere | ProcessOutcome::NotFound => None,
    };
    if let (Some(id), Some(status)) = (delivery_id, final_status) {
        let status = status.as_str().to_string();
        // Best effort: without the record a replay merely finds the job finished.
        if let Err(e) = db::with_client(&app.pool, |client| {
            let status = status.clone();
            async move { deliveries::record(&client, id, job_id, &status).await }
        })
        .await
        {
            tracing::warn!(delivery_id = id, error = %e, "could not record a handled delivery");
        }
    }
    Ok(DeliveryOutcome::Ran { job_id, outcome })
}
