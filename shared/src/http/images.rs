//! `/api/images/{imageId}`: one photo's details, and a permanent URL for its files.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::parse_id;
use crate::app::App;
use crate::contract::ImageDetails;
use crate::domain::Caller;
use crate::error::ApiError;
use crate::usecase::delete_photos;
use crate::usecase::read_image::{self, Variant};

/// DELETE /api/images/{imageId}: 204; gone from every album, gallery and share at once.
pub async fn delete_image(
    State(app): State<App>,
    caller: Caller,
    Path(image_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    delete_photos::delete_image(&app, &caller, parse_id(&image_id, "image")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// GET /api/images/{imageId}
pub async fn get_image(
    State(app): State<App>,
    caller: Caller,
    Path(image_id): Path<String>,
) -> Result<Json<ImageDetails>, ApiError> {
    let image = read_image::get_image(&app, &caller, parse_id(&image_id, "image")?).await?;
    let row = image.row;
    Ok(Json(ImageDetails {
        image_id: row.id,
        filename: row.original_filename,
        status: row.status.as_str().to_string(),
        rejection_reason: row.rejection_reason,
        content_type: row
            .detected_content_type
            .unwrap_or(row.declared_content_type),
        size_bytes: row.size_bytes,
        width: row.width,
        height: row.height,
        taken_at: row.taken_at,
        offset_minutes: row.offset_minutes,
        latitude: row.latitude,
        longitude: row.longitude,
        place: row.place,
        camera_make: row.camera_make,
        camera_model: row.camera_model,
        caption: row.caption,
        tags: row.tags,
        created_at: row.created_at,
        uploaded_at: row.uploaded_at,
        origin: row.origin,
        url: image.url,
        thumb_url: image.thumb_url,
        preview_url: image.preview_url,
    }))
}

/// Other parameters (a client's cache-buster) are ignored.
#[derive(Debug, Deserialize)]
pub struct ContentParams {
    size: Option<String>,
}

/// GET /api/images/{imageId}/content?size=thumb|preview|original: 302 to a fresh
/// presigned GET. The redirect itself may be reused privately for a minute.
pub async fn get_image_content(
    State(app): State<App>,
    caller: Caller,
    Path(image_id): Path<String>,
    params: Result<Query<ContentParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let bad_size = || {
        ApiError::bad_request(
            "invalid_size",
            "size must be one of thumb, preview or original.",
        )
    };
    let Query(params) = params.map_err(|_| bad_size())?;
    let variant = match params.size.as_deref() {
        None => Variant::Original,
        Some(raw) => Variant::parse(raw).ok_or_else(bad_size)?,
    };
    let url =
        read_image::content_url(&app, &caller, parse_id(&image_id, "image")?, variant).await?;
    Ok((
        StatusCode::FOUND,
        [
            (header::LOCATION, url),
            (header::CACHE_CONTROL, "private, max-age=60".to_string()),
        ],
    )
        .into_response())
}
