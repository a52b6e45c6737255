//! POST /api/jobs/process: a signed delivery of a job (Standard Webhooks, or QStash when
//! its keys are configured), through the one delivery path. Nothing runs unless the
//! signature checks out.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use uuid::Uuid;

use super::extract::ApiBytes;
use crate::adapter::qstash;
use crate::adapter::standard_webhooks::{self, DEFAULT_TOLERANCE, SignedHeaders};
use crate::app::App;
use crate::contract::DeliveryAnswer;
use crate::domain::JobStatus;
use crate::error::ApiError;
use crate::usecase::run_delivery::{
    Credential, DeliveryError, DeliveryOutcome, Incoming, handle_delivery,
};
use crate::usecase::run_job::{Delivery, ProcessOutcome};

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// POST /api/jobs/process
pub async fn process_delivery(
    State(app): State<App>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<(StatusCode, Json<DeliveryAnswer>), ApiError> {
    let qstash_token = header(&headers, qstash::SIGNATURE_HEADER)
        .filter(|_| app.config.processor.qstash_current_key.is_some());
    let credential = match qstash_token {
        Some(token) => Credential::QStash { token },
        None => Credential::StandardWebhooks {
            headers: SignedHeaders::read(|name| header(&headers, name)),
            freshness: Some(DEFAULT_TOLERANCE),
        },
    };
    let incoming = Incoming {
        body: &body,
        credential,
        delivery_id: header(&headers, standard_webhooks::ID_HEADER)
            .or_else(|| header(&headers, qstash::MESSAGE_ID_HEADER)),
    };
    let delivery = Delivery {
        deadline: Instant::now() + app.config.processor.http_budget,
    };
    match handle_delivery(&app, incoming, delivery).await {
        Ok(DeliveryOutcome::Replayed { job_id, status }) => {
            Ok((StatusCode::OK, Json(DeliveryAnswer { job_id, status })))
        }
        Ok(DeliveryOutcome::Ran { job_id, outcome }) => answer(job_id, outcome),
        Err(DeliveryError::Unauthorized(_)) => Err(ApiError::unauthorized(
            "invalid_signature",
            "The delivery's signature is missing, wrong or stale.",
        )),
        Err(DeliveryError::Malformed { code, message }) => {
            Err(ApiError::bad_request(code, message))
        }
        Err(DeliveryError::RetryLater(retry)) => Err(ApiError::Unavailable {
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
    job_id: Uuid,
    outcome: ProcessOutcome,
) -> Result<(StatusCode, Json<DeliveryAnswer>), ApiError> {
    let answer = |code, status: &str| {
        Ok((
            code,
            Json(DeliveryAnswer {
                job_id,
                status: status.into(),
            }),
        ))
    };
    match outcome {
        ProcessOutcome::Completed { .. }
        | ProcessOutcome::Generated { .. }
        | ProcessOutcome::AlreadyFinished(JobStatus::Completed) => {
            answer(StatusCode::OK, "completed")
        }
        ProcessOutcome::Failed(_) | ProcessOutcome::AlreadyFinished(_) => {
            answer(StatusCode::OK, "failed")
        }
        ProcessOutcome::HeldElsewhere => answer(StatusCode::ACCEPTED, "processing"),
        ProcessOutcome::NotFound => Err(ApiError::NotFound { what: "job" }),
    }
}
