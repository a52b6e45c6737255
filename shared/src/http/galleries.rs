//! `/api/galleries`: asking for photos to be organised, and reading what came of it.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};

use super::extract::{ApiJson, PageQuery, parse_id};
use crate::app::App;
use crate::contract::{
    Album, Gallery, GalleryImage, GalleryList, GallerySummary, ProcessAccepted, ProcessRequest,
};
use crate::domain::Caller;
use crate::error::ApiError;
use crate::usecase::{delete_photos, read_galleries, request_processing};

/// POST /api/galleries/process
pub async fn process_gallery(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ProcessRequest>,
) -> Result<(StatusCode, Json<ProcessAccepted>), ApiError> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => Some(request_processing::parse_idempotency_key(
            value.to_str().map_err(|_| {
                ApiError::bad_request(
                    "invalid_idempotency_key",
                    "The Idempotency-Key header must be ASCII.",
                )
            })?,
        )?),
    };
    let accepted =
        request_processing::request_processing(&app, &caller, &body.image_ids, key.as_deref())
            .await?;
    Ok((StatusCode::ACCEPTED, Json(accepted.into())))
}

/// GET /api/galleries/{galleryId}[?limit=&cursor=]
pub async fn get_gallery(
    State(app): State<App>,
    caller: Caller,
    Path(gallery_id): Path<String>,
    params: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<Gallery>, ApiError> {
    let Query(params) = params.map_err(|_| {
        ApiError::bad_request(
            "invalid_query",
            "Use `?limit=<1-500>&cursor=<cursor>` to page the photos, or neither for all.",
        )
    })?;
    let page = read_galleries::PhotoPage::parse(params.limit, params.cursor.as_deref())?;
    let view =
        read_galleries::get_gallery(&app, &caller, parse_id(&gallery_id, "gallery")?, page).await?;
    let albums = view
        .albums
        .into_iter()
        .map(|a| Album {
            album_id: a.album_id,
            title: a.title,
            description: a.description,
            cover_image_id: a.cover_image_id,
            image_count: a.image_count,
            images: a
                .images
                .into_iter()
                .map(|i| GalleryImage {
                    image_id: i.image_id,
                    url: i.url,
                    thumb_url: i.thumb_url,
                    preview_url: i.preview_url,
                    width: i.width,
                    height: i.height,
                    taken_at: i.taken_at,
                    caption: i.caption,
                    tags: i.tags,
                })
                .collect(),
        })
        .collect();
    Ok(Json(Gallery {
        gallery_id: view.gallery.id,
        job_id: view.gallery.job_id,
        status: view.gallery.status,
        created_at: view.gallery.created_at,
        albums,
        next_cursor: view.next_cursor,
    }))
}

/// `?withPhotos=true|false` of a gallery's deletion.
#[derive(Debug, serde::Deserialize)]
pub struct DeleteGalleryQuery {
    #[serde(rename = "withPhotos")]
    with_photos: Option<bool>,
}

/// DELETE /api/galleries/{galleryId}[?withPhotos=true]: 204. The albums go (and the job
/// and share links); the photos stay in the library unless `withPhotos=true`.
pub async fn delete_gallery(
    State(app): State<App>,
    caller: Caller,
    Path(gallery_id): Path<String>,
    params: Result<Query<DeleteGalleryQuery>, QueryRejection>,
) -> Result<StatusCode, ApiError> {
    let Query(params) = params.map_err(|_| {
        ApiError::bad_request(
            "invalid_query",
            "Use `?withPhotos=true` to delete the photos too, or leave it out to keep them.",
        )
    })?;
    delete_photos::delete_gallery(
        &app,
        &caller,
        parse_id(&gallery_id, "gallery")?,
        params.with_photos.unwrap_or(false),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// GET /api/galleries
pub async fn list_galleries(
    State(app): State<App>,
    caller: Caller,
    page: PageQuery,
) -> Result<Json<GalleryList>, ApiError> {
    let (rows, next_cursor) =
        read_galleries::list_galleries(&app, &caller, page.cursor.as_deref(), page.limit).await?;
    let galleries = rows
        .into_iter()
        .map(|g| GallerySummary {
            gallery_id: g.id,
            job_id: g.job_id,
            status: g.status,
            created_at: g.created_at,
            image_count: g.image_count,
            album_count: g.album_count,
        })
        .collect();
    Ok(Json(GalleryList {
        galleries,
        next_cursor,
    }))
}
