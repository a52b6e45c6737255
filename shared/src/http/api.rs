//! The API's handlers: extract, parse, call one use-case, shape the response.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::json::ApiJson;
use crate::app::App;
use crate::domain::JobStatus;
use crate::error::ApiError;
use crate::identity::Caller;
use crate::usecase::{galleries, jobs, process, uploads};

fn parse_id(raw: &str, what: &'static str) -> Result<Uuid, ApiError> {
    // A malformed id names nothing: as absent as an unknown one.
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound { what })
}

#[derive(Debug, Deserialize)]
pub struct GenerateUrlsRequest {
    files: Vec<uploads::FileRequest>,
}

/// POST /api/uploads/generate-urls
pub async fn generate_upload_urls(
    State(app): State<App>,
    caller: Caller,
    ApiJson(body): ApiJson<GenerateUrlsRequest>,
) -> Result<Json<Value>, ApiError> {
    let tickets = uploads::generate_upload_urls(&app, &caller, &body.files).await?;
    let uploads: Vec<Value> = tickets
        .into_iter()
        .map(|t| {
            json!({
                "imageId": t.image_id,
                "key": t.key,
                "url": t.url,
                "method": "PUT",
                "headers": {
                    "content-type": t.content_type,
                    "content-length": t.content_length.to_string(),
                    "x-amz-tagging": t.tagging,
                    "if-none-match": t.if_none_match,
                },
                "expiresAt": t.expires_at,
            })
        })
        .collect();
    Ok(Json(json!({ "uploads": uploads })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessRequest {
    image_ids: Vec<Uuid>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessResponse {
    job_id: Uuid,
    gallery_id: Uuid,
    status: JobStatus,
    status_url: String,
}

/// POST /api/galleries/process
pub async fn process_gallery(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ProcessRequest>,
) -> Result<(StatusCode, Json<ProcessResponse>), ApiError> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => Some(process::parse_idempotency_key(value.to_str().map_err(
            |_| {
                ApiError::bad_request(
                    "invalid_idempotency_key",
                    "The Idempotency-Key header must be ASCII.",
                )
            },
        )?)?),
    };
    let accepted =
        process::request_processing(&app, &caller, &body.image_ids, key.as_deref()).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ProcessResponse {
            job_id: accepted.job_id,
            gallery_id: accepted.gallery_id,
            status: accepted.status,
            status_url: format!("/api/jobs/{}/status", accepted.job_id),
        }),
    ))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatusResponse {
    job_id: Uuid,
    status: JobStatus,
    gallery_id: Uuid,
    image_count: usize,
    attempts: i32,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    error: Option<String>,
    result_url: Option<String>,
    organizer: Option<String>,
    fallback_reason: Option<String>,
}

/// GET /api/jobs/{jobId}/status
pub async fn job_status(
    State(app): State<App>,
    caller: Caller,
    Path(job_id): Path<String>,
) -> Result<Json<JobStatusResponse>, ApiError> {
    let job = jobs::job_status(&app, &caller, parse_id(&job_id, "job")?).await?;
    Ok(Json(JobStatusResponse {
        job_id: job.id,
        status: job.status,
        gallery_id: job.gallery_id,
        image_count: job.image_ids.len(),
        attempts: job.attempts,
        created_at: job.created_at,
        started_at: job.started_at,
        completed_at: job.completed_at,
        error: job.error,
        result_url: (job.status == JobStatus::Completed)
            .then(|| format!("/api/galleries/{}", job.gallery_id)),
        organizer: job.organizer,
        fallback_reason: job.fallback_reason,
    }))
}

/// GET /api/galleries/{galleryId}
pub async fn get_gallery(
    State(app): State<App>,
    caller: Caller,
    Path(gallery_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let view = galleries::get_gallery(&app, &caller, parse_id(&gallery_id, "gallery")?).await?;
    let albums: Vec<Value> = view
        .albums
        .into_iter()
        .map(|a| {
            let images: Vec<Value> = a
                .images
                .into_iter()
                .map(|i| {
                    json!({
                        "imageId": i.image_id,
                        "url": i.url,
                        "width": i.width,
                        "height": i.height,
                        "takenAt": i.taken_at,
                        "caption": i.caption,
                        "tags": i.tags,
                    })
                })
                .collect();
            json!({
                "albumId": a.album_id,
                "title": a.title,
                "description": a.description,
                "coverImageId": a.cover_image_id,
                "images": images,
            })
        })
        .collect();
    Ok(Json(json!({
        "galleryId": view.gallery.id,
        "jobId": view.gallery.job_id,
        "status": view.gallery.status,
        "createdAt": view.gallery.created_at,
        "albums": albums,
    })))
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    cursor: Option<String>,
    limit: Option<i64>,
}

/// GET /api/galleries
pub async fn list_galleries(
    State(app): State<App>,
    caller: Caller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(|_| {
        ApiError::bad_request("invalid_query", "Use `?limit=<1-100>&cursor=<cursor>`.")
    })?;
    let (rows, next) =
        galleries::list_galleries(&app, &caller, params.cursor.as_deref(), params.limit).await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|g| {
            json!({
                "galleryId": g.id,
                "jobId": g.job_id,
                "status": g.status,
                "createdAt": g.created_at,
                "imageCount": g.image_count,
                "albumCount": g.album_count,
            })
        })
        .collect();
    Ok(Json(json!({ "galleries": items, "nextCursor": next })))
}
