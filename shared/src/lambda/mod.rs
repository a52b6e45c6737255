//! Lambda entry points shared by the `functions/*` binaries, so each `main.rs` is wiring.

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::LambdaEvent;

use crate::app::App;
use crate::config::{Config, Need};
use crate::domain::decode_s3_event_key;
use crate::usecase::record_upload::{Renditions, UploadOutcome, record_upload};
use crate::{http, telemetry};

/// Serves `routes` to API Gateway HTTP API events, for an app built by [`cold_start`]
/// with the parts those routes use.
pub async fn serve_http(app: App, routes: Vec<http::Route>) -> Result<(), lambda_http::Error> {
    lambda_http::run(http::router_of(app, routes)).await
}

/// Cold start: config (refusing to start, naming what is missing, when a variable in
/// `needs` is unset), telemetry and the database pool. The function then attaches the
/// other parts it uses (`connect_storage`, `connect_queue`, `with_configured_organiser`),
/// so that it links only those.
pub async fn cold_start(needs: &[Need]) -> Result<App, lambda_runtime::Error> {
    let config = Config::from_env()?;
    telemetry::init(&config.telemetry);
    config.require(needs)?;
    let pool = crate::adapter::postgres::create_pool(&config.database)?;
    Ok(App::new(config, pool))
}

/// What one S3 event did, record by record.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct S3Summary {
    pub uploaded: usize,
    pub rejected: usize,
    pub ignored: usize,
    pub failed: usize,
}

/// Handles an S3 ObjectCreated event. Every record is attempted; one bad record does not
/// stop the others. If any failed for a passing reason (database, storage), the
/// invocation fails after trying them all, so Lambda retries the event; the records that
/// succeeded are no-ops the second time.
pub async fn handle_s3_event(
    app: &App,
    event: LambdaEvent<S3Event>,
) -> Result<S3Summary, lambda_runtime::Error> {
    let mut summary = S3Summary::default();
    let bucket = app.storage().ok().map(|s| s.bucket().to_string());
    for record in event.payload.records {
        let Some(raw_key) = record.s3.object.key.as_deref() else {
            summary.ignored += 1;
            continue;
        };
        if record.s3.bucket.name.is_some() && record.s3.bucket.name != bucket {
            tracing::warn!(bucket = ?record.s3.bucket.name, "ignoring an event from another bucket");
            summary.ignored += 1;
            continue;
        }
        let key = decode_s3_event_key(raw_key);
        match record_upload(
            app,
            &key,
            record.s3.object.e_tag.as_deref(),
            Renditions::Make,
        )
        .await
        {
            Ok(UploadOutcome::Uploaded) => summary.uploaded += 1,
            Ok(UploadOutcome::Rejected(_)) => summary.rejected += 1,
            Ok(_) => summary.ignored += 1,
            Err(e) => {
                tracing::error!(%key, error = ?e, "recording an upload failed");
                summary.failed += 1;
            }
        }
    }
    tracing::info!(?summary, "S3 event handled");
    if summary.failed > 0 {
        return Err(format!("{} record(s) failed and will be retried", summary.failed).into());
    }
    Ok(summary)
}

/// Handles an SQS batch: each record goes through the one delivery path (its signature
/// in the message attributes, with no freshness window: a message may wait in the
/// queue). Records to deliver again are reported in `batchItemFailures`; the queue's
/// redrive policy moves a record that keeps failing to the dead-letter queue.
pub async fn handle_sqs_event(
    app: &App,
    event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>,
) -> aws_lambda_events::event::sqs::SqsBatchResponse {
    use crate::adapter::standard_webhooks::SignedHeaders;
    use crate::usecase::run_delivery::{Credential, DeliveryError, Incoming, handle_delivery};
    use crate::usecase::run_job::Delivery;
    use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};

    let deadline = lambda_deadline(&event.context);
    let mut response = SqsBatchResponse::default();
    for record in event.payload.records {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.clone().unwrap_or_default();
        let headers = SignedHeaders::read(|name| {
            record
                .message_attributes
                .get(name)
                .and_then(|a| a.string_value.clone())
        });
        let incoming = Incoming {
            body: body.as_bytes(),
            delivery_id: Some(headers.id.clone()),
            credential: Credential::StandardWebhooks {
                headers,
                freshness: None,
            },
        };
        let failed = match handle_delivery(app, incoming, Delivery { deadline }).await {
            Ok(outcome) => {
                tracing::info!(message_id = %id, ?outcome, "SQS message handled");
                false
            }
            Err(DeliveryError::RetryLater(retry)) => {
                tracing::warn!(message_id = %id, reason = %retry.reason, "SQS message to be redelivered");
                true
            }
            Err(why) => {
                tracing::error!(message_id = %id, %why, "refusing an SQS message; it goes to the dead-letter queue after its retries");
                true
            }
        };
        if failed {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// The invocation's deadline as an `Instant`, less a margin to answer in.
pub fn lambda_deadline(context: &lambda_runtime::Context) -> std::time::Instant {
    let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
    let left_ms = context
        .deadline
        .saturating_sub(now_ms)
        .saturating_sub(10_000);
    let left = if context.deadline == 0 {
        std::time::Duration::from_secs(240)
    } else {
        std::time::Duration::from_millis(left_ms)
    };
    std::time::Instant::now() + left
}

/// The process-job function takes two event shapes: SQS batches and API Gateway HTTP
/// requests (the signed webhook route). Both run `run_job`. `router` is built once at
/// cold start (`http::router(app.clone())`), not per event.
pub async fn handle_process_job_event(
    app: &App,
    router: &axum::Router,
    event: LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    use tower::ServiceExt;
    let LambdaEvent { payload, context } = event;
    let is_sqs = payload["Records"][0]["eventSource"].as_str() == Some("aws:sqs");
    if is_sqs {
        let sqs: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_value(payload)?;
        let response = handle_sqs_event(app, LambdaEvent::new(sqs, context)).await;
        return Ok(serde_json::to_value(response)?);
    }
    let request = lambda_http::request::from_str(&payload.to_string())?;
    let response = router.clone().oneshot(request).await?;
    let status = response.status().as_u16();
    let mut headers = serde_json::Map::new();
    for (name, value) in response.headers() {
        if let Ok(v) = value.to_str() {
            headers.insert(name.to_string(), serde_json::Value::String(v.to_string()));
        }
    }
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await?
        .to_bytes();
    Ok(serde_json::json!({
        "statusCode": status,
        "headers": headers,
        "body": String::from_utf8_lossy(&bytes),
        "isBase64Encoded": false,
    }))
}

/// Applies migrations. As a CloudFormation custom resource (the deploy), it always
/// answers CloudFormation's presigned `ResponseURL` — SUCCESS or FAILED with the reason —
/// so a broken migration fails the deploy (and rolls it back) instead of hanging it.
/// Invoked directly, it returns what it applied.
pub async fn handle_migration_event(
    app: &App,
    event: LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    use serde_json::json;
    let payload = event.payload;
    let Some(request_type) = payload["RequestType"].as_str() else {
        let report = crate::adapter::postgres::migrate(&app.pool).await?;
        return Ok(json!({"applied": report.applied}));
    };
    // Deleting the stack leaves the schema alone: data outlives deployments.
    let result = if request_type == "Delete" {
        Ok(Vec::new())
    } else {
        crate::adapter::postgres::migrate(&app.pool)
            .await
            .map(|r| r.applied)
    };
    let (status, reason, applied) = match &result {
        Ok(applied) => (
            "SUCCESS",
            format!("{} migration(s) applied", applied.len()),
            applied.len(),
        ),
        Err(e) => (
            "FAILED",
            format!("migrations failed: {e:#}")
                .chars()
                .take(900)
                .collect(),
            0,
        ),
    };
    let response = json!({
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": payload["PhysicalResourceId"].as_str().unwrap_or("momentarium-database-schema"),
        "StackId": payload["StackId"],
        "RequestId": payload["RequestId"],
        "LogicalResourceId": payload["LogicalResourceId"],
        "Data": {"Applied": applied},
    });
    let url = payload["ResponseURL"]
        .as_str()
        .ok_or("a custom resource event without ResponseURL")?;
    // The URL is presigned without a content type: send none.
    reqwest::Client::new()
        .put(url)
        .timeout(std::time::Duration::from_secs(30))
        .body(response.to_string())
        .send()
        .await?
        .error_for_status()?;
    tracing::info!(%status, %reason, "answered CloudFormation");
    Ok(response)
}

/// The operators' path on AWS (`aws lambda invoke` on the admin function: IAM decides
/// who may, no user token reaches it): `{"action": "set-tier", "subject": "…", "tier":
/// "premium", "monthlyBudgetUsd": 10}` (a budget of null goes back to the tier's; absent
/// leaves it). Answers the user's tier and budget, or `{"error": …}`.
pub async fn handle_admin_event(
    app: &App,
    event: LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    use serde_json::json;
    let payload = event.payload;
    let refuse =
        |message: &str| Ok(json!({"error": {"code": "invalid_request", "message": message}}));
    if payload["action"] != "set-tier" {
        return refuse("Only the set-tier action exists.");
    }
    let Some(subject) = payload["subject"]
        .as_str()
        .filter(|s| !s.is_empty() && s.len() <= 255)
    else {
        return refuse("`subject` is the user's sub (1–255 characters).");
    };
    let Some(tier) = payload["tier"]
        .as_str()
        .and_then(crate::domain::limits::Tier::parse)
    else {
        return refuse("`tier` is free or premium.");
    };
    let budget = match payload.get("monthlyBudgetUsd") {
        None => None,
        Some(serde_json::Value::Null) => Some(None),
        Some(v) => match v.as_f64() {
            Some(b) => Some(Some(b)),
            None => return refuse("`monthlyBudgetUsd` is a number of dollars, or null."),
        },
    };
    match crate::usecase::limits::set_tier(app, subject, tier, budget).await {
        Ok((tier, budget)) => {
            Ok(json!({"subject": subject, "tier": tier.as_str(), "monthlyBudgetUsd": budget}))
        }
        Err(e) => Ok(json!({"error": {"code": e.code(), "message": e.to_string()}})),
    }
}
