//! `/api/uploads`: upload URLs.

use axum::Json;
use axum::extract::State;

use super::extract::ApiJson;
use crate::app::App;
use crate::contract::{UploadRequest, UploadResponse, UploadTicket};
use crate::domain::Caller;
use crate::error::ApiError;
use crate::usecase::issue_upload_urls::generate_upload_urls as issue;

/// POST /api/uploads/generate-urls
pub async fn generate_upload_urls(
    State(app): State<App>,
    caller: Caller,
    ApiJson(body): ApiJson<UploadRequest>,
) -> Result<Json<UploadResponse>, ApiError> {
    let tickets = issue(&app, &caller, &body.files).await?;
    let uploads = tickets
        .into_iter()
        .map(|t| UploadTicket {
            image_id: t.image_id,
            key: t.key,
            url: t.url,
            method: "PUT".into(),
            headers: [
                ("content-type", t.content_type),
                ("content-length", t.content_length.to_string()),
                ("x-amz-tagging", t.tagging),
                ("if-none-match", t.if_none_match.to_string()),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_string(), value))
            .collect(),
            expires_at: t.expires_at,
        })
        .collect();
    Ok(Json(UploadResponse { uploads }))
}
