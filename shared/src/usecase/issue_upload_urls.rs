//! Issuing upload URLs: a batch validated, `pending_upload` rows, one presigned PUT each.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::adapter::postgres::DbError;
use crate::app::App;
use crate::contract::FileRequest;
use crate::domain::Caller;
use crate::domain::{ContentType, Filename, ImageKey};
use crate::error::ApiError;
use crate::repo::images::{self, NewImage};
use crate::usecase::limits;

/// A file that passed validation.
#[derive(Debug, Clone)]
struct ValidFile {
    filename: Filename,
    content_type: ContentType,
    size: u64,
}

/// What the client needs to upload one file.
#[derive(Debug, Clone)]
pub struct UploadTicket {
    pub image_id: Uuid,
    pub key: String,
    pub url: String,
    pub content_type: String,
    pub content_length: u64,
    pub tagging: String,
    pub if_none_match: &'static str,
    pub expires_at: DateTime<Utc>,
}

fn validate(app: &App, files: &[FileRequest]) -> Result<Vec<ValidFile>, ApiError> {
    let limits = &app.config.limits;
    if files.is_empty() {
        return Err(ApiError::unprocessable(
            "empty_batch",
            "Send at least one file.",
        ));
    }
    if files.len() > limits.max_batch {
        return Err(ApiError::Unprocessable {
            code: "batch_too_large",
            message: format!(
                "A batch holds at most {} files; this one has {}. Split it into smaller batches.",
                limits.max_batch,
                files.len()
            ),
            details: Some(json!({"maxFiles": limits.max_batch, "files": files.len()})),
        });
    }
    files
        .iter()
        .enumerate()
        .map(|(index, file)| {
            let filename =
                Filename::parse(&file.filename).map_err(|e| ApiError::Unprocessable {
                    code: "invalid_filename",
                    message: format!("File {index}: {e}."),
                    details: Some(json!({"index": index})),
                })?;
            let content_type = ContentType::parse_exact(&file.content_type)
                .filter(|t| limits.allowed_types.contains(t))
                .ok_or_else(|| ApiError::UnsupportedMediaType {
                    code: "unsupported_media_type",
                    message: format!(
                        "File {index}: `{}` is not accepted; send one of {}.",
                        file.content_type.chars().take(100).collect::<String>(),
                        limits
                            .allowed_types
                            .iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    details: Some(json!({"index": index})),
                })?;
            if file.size <= 0 {
                return Err(ApiError::Unprocessable {
                    code: "invalid_size",
                    message: format!("File {index}: the size must be a positive number of bytes."),
                    details: Some(json!({"index": index})),
                });
            }
            let size = file.size as u64;
            if size > limits.max_upload_bytes {
                return Err(ApiError::PayloadTooLarge {
                    code: "file_too_large",
                    message: format!(
                        "File {index} is {size} bytes; the limit is {} bytes.",
                        limits.max_upload_bytes
                    ),
                    details: Some(json!({"index": index, "maxBytes": limits.max_upload_bytes})),
                });
            }
            Ok(ValidFile {
                filename,
                content_type,
                size,
            })
        })
        .collect()
}

/// Validates the batch, creates `pending_upload` rows, and presigns one PUT per file.
#[tracing::instrument(skip(app, files), fields(user_id = %caller.user_id, files = files.len()))]
pub async fn generate_upload_urls(
    app: &App,
    caller: &Caller,
    files: &[FileRequest],
) -> Result<Vec<UploadTicket>, ApiError> {
    let valid = validate(app, files)?;
    let adding: u64 = valid.iter().map(|f| f.size).sum();
    let storage = app.storage()?;
    let rows: Vec<NewImage> = valid
        .iter()
        .map(|f| {
            let id = Uuid::now_v7();
            NewImage {
                id,
                user_id: caller.user_id,
                key: ImageKey::new(caller.user_id, id),
                filename: f.filename.as_str().to_string(),
                content_type: f.content_type,
                size: f.size,
            }
        })
        .collect();
    // Presign first: it is local computation, and a failure leaves no rows behind.
    let mut tickets = Vec::with_capacity(rows.len());
    for row in &rows {
        let presigned = storage
            .presign_upload(&row.key, row.content_type, row.size)
            .await
            .map_err(ApiError::internal)?;
        tickets.push(UploadTicket {
            image_id: row.id,
            key: row.key.to_string(),
            url: presigned.url,
            content_type: presigned.content_type,
            content_length: presigned.content_length,
            tagging: presigned.tagging,
            if_none_match: presigned.if_none_match,
            expires_at: presigned.expires_at,
        });
    }
    // The storage check and the rows in one transaction, the user's storage serialised:
    // two requests at once cannot both fit in the last of it.
    let mut client = app.pool.get().await.map_err(DbError::from)?;
    let tx = client.transaction().await.map_err(DbError::from)?;
    let adding = i64::try_from(adding).unwrap_or(i64::MAX);
    limits::check_storage(app, &tx, caller.user_id, adding).await?;
    images::insert_pending(&tx, &rows)
        .await
        .map_err(DbError::from)?;
    tx.commit().await.map_err(DbError::from)?;
    tracing::info!(count = tickets.len(), "upload URLs issued");
    Ok(tickets)
}
