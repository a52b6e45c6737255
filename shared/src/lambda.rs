//! Lambda entry points shared by the `functions/*` binaries, so each `main.rs` is wiring.

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::LambdaEvent;

use crate::app::App;
use crate::config::{Config, Need};
use crate::domain::decode_s3_event_key;
use crate::usecase::uploads::{UploadOutcome, record_upload};
use crate::{http, telemetry};

/// Reads the config (checking `needs`), sets up logging and clients once, and serves the
/// API router to API Gateway HTTP API events.
pub async fn serve_http(needs: &[Need]) -> Result<(), lambda_http::Error> {
    let app = cold_start(needs).await?;
    lambda_http::run(http::router(app)).await
}

/// Cold start: config, telemetry, clients. Fails fast naming what is missing.
pub async fn cold_start(needs: &[Need]) -> Result<App, lambda_runtime::Error> {
    let config = Config::from_env()?;
    telemetry::init(&config.telemetry);
    config.require(needs)?;
    Ok(App::from_config(config).await?)
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
    let bucket = app.storage.as_ref().map(|s| s.bucket().to_string());
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
        match record_upload(app, &key).await {
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
