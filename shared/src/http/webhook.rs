//! POST /api/jobs/process: a signed delivery of a job (Standard Webhooks, or QStash when
//! its keys are configured). Nothing runs unless the signature checks out.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::app::App;
use crate::domain::JobStatus;
use crate::error::ApiError;
use crate::qstash;
use crate::queue::{JobMessage, MESSAGE_TYPE};
use crate::usecase::deliveries::{DeliveryOutcome, run_delivery};
use crate::usecase::process_job::{Delivery, ProcessOutcome};

use super::json::ApiBytes;
use crate::webhook::{self, SignedHeaders};

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn verify_delivery(app: &App, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let refused = |why: &str| {
        tracing::warn!(%why, "refused an unsigned or badly signed delivery");
        ApiError::unauthorized(
            "invalid_signature",
            "The delivery's signature is missing, wrong or stale.",
        )
    };
    let processor = &app.config.processor;
    if let (Some(current), Some(token)) = (
        &processor.qstash_current_key,
        headers.get("upstash-signature"),
    ) {
        let token = token
            .to_str()
            .map_err(|_| refused("non-ASCII Upstash-Signature"))?;
        return qstash::verify(
            current,
            processor.qstash_next_key.as_ref(),
            token,
            body,
            processor.qstash_destination_url.as_deref(),
        )
        .map_err(|e| refused(&e.to_string()));
    }
    let secret = app
        .config
        .queue
        .webhook_secret
        .as_ref()
        .ok_or_else(|| refused("WEBHOOK_SECRET is not configured"))?;
    let signed = SignedHeaders {
        id: header(headers, "webhook-id"),
        timestamp: header(headers, "webhook-timestamp"),
        signature: header(headers, "webhook-signature"),
    };
    webhook::verify(
        secret,
        &signed,
        body,
        chrono::Utc::now().timestamp(),
        Some(webhook::DEFAULT_TOLERANCE),
    )
    .map_err(|e| refused(&e.to_string()))
}

/// Parses a job message body.
pub fn parse_message(body: &[u8]) -> Result<JobMessage, ApiError> {
    let message: JobMessage = serde_json::from_slice(body).map_err(|_| {
        ApiError::bad_request(
            "invalid_body",
            "Expected {\"type\": \"gallery.process\", \"jobId\": \"…\"}.",
        )
    })?;
    if message.kind != MESSAGE_TYPE {
        return Err(ApiError::bad_request(
            "unknown_message_type",
            "Only gallery.process messages are handled.",
        ));
    }
    Ok(message)
}

/// POST /api/jobs/process
pub async fn process_delivery(
    State(app): State<App>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    verify_delivery(&app, &headers, &body)?;
    let message = parse_message(&body)?;
    let delivery = Delivery {
        deadline: Instant::now() + app.config.processor.http_budget,
    };
    // Stable across a message's retries: Standard Webhooks' id, or QStash's message id.
    let delivery_id = headers
        .get("webhook-id")
        .or_else(|| headers.get("upstash-message-id"))
        .and_then(|v| v.to_str().ok());
    match run_delivery(&app, delivery_id, message.job_id, delivery).await {
        Ok(DeliveryOutcome::Replayed { status }) => Ok((
            StatusCode::OK,
            Json(json!({"jobId": message.job_id, "status": status})),
        )),
        Ok(DeliveryOutcome::Ran(outcome)) => answer(message.job_id, outcome),
        Err(retry) => Err(ApiError::Unavailable {
            code: "retry_later",
            message: "The job could not be finished now; deliver it again later.".into(),
            retry_after_secs: Some(
                retry
                    .retry_after
                    .unwrap_or(Duration::from_secs(30))
                    .as_secs()
                    .clamp(1, 3600) as u32,
            ),
        }),
    }
}

/// The answer to a delivery that ran.
fn answer(
    job_id: uuid::Uuid,
    outcome: ProcessOutcome,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    match outcome {
        ProcessOutcome::Completed { .. }
        | ProcessOutcome::AlreadyFinished(JobStatus::Completed) => Ok((
            StatusCode::OK,
            Json(json!({"jobId": job_id, "status": "completed"})),
        )),
        ProcessOutcome::Failed(_) | ProcessOutcome::AlreadyFinished(_) => Ok((
            StatusCode::OK,
            Json(json!({"jobId": job_id, "status": "failed"})),
        )),
        ProcessOutcome::HeldElsewhere => Ok((
            StatusCode::ACCEPTED,
            Json(json!({"jobId": job_id, "status": "processing"})),
        )),
        ProcessOutcome::NotFound => Err(ApiError::NotFound { what: "job" }),
    }
}
