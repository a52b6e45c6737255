//! Reading galleries: one with its albums and photos, or the caller's list.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::adapter::postgres as db;
use crate::adapter::s3::ServeAs;
use crate::app::App;
use crate::domain::Caller;
use crate::domain::{ContentType, ImageKey};
use crate::error::ApiError;
use crate::repo::galleries::{self, AlbumImageRow, GalleryRow};
use crate::usecase::paging::Page;

#[derive(Debug, Clone)]
pub struct ImageView {
    pub image_id: Uuid,
    pub url: String,
    pub thumb_url: Option<String>,
    pub preview_url: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub taken_at: Option<DateTime<Utc>>,
    pub caption: Option<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AlbumView {
    pub album_id: Uuid,
    pub title: String,
    pub description: String,
    pub cover_image_id: Option<Uuid>,
    /// Every photo of the album, whatever the page holds.
    pub image_count: usize,
    /// The album's photos on this page.
    pub images: Vec<ImageView>,
}

#[derive(Debug, Clone)]
pub struct GalleryView {
    pub gallery: GalleryRow,
    pub albums: Vec<AlbumView>,
    /// Where the next page of photos starts, when the request was paged and more remain.
    pub next_cursor: Option<String>,
}

/// A page of a gallery's photos, in gallery order (albums in order, photos in order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoPage {
    pub limit: usize,
    /// After this (album position, photo position).
    pub after: Option<(i32, i32)>,
}

pub const DEFAULT_PHOTO_PAGE: usize = 100;
pub const MAX_PHOTO_PAGE: usize = 500;

impl PhotoPage {
    /// Reads `?limit=&cursor=`; `None` when neither is given (the whole gallery).
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Option<Self>, ApiError> {
        if limit.is_none() && cursor.is_none() {
            return Ok(None);
        }
        let limit = match limit {
            None => DEFAULT_PHOTO_PAGE,
            Some(n) if (1..=MAX_PHOTO_PAGE as i64).contains(&n) => n as usize,
            Some(_) => {
                return Err(ApiError::bad_request(
                    "invalid_limit",
                    format!("limit must be between 1 and {MAX_PHOTO_PAGE} photos."),
                ));
            }
        };
        let after = cursor.map(decode_photo_cursor).transpose()?;
        Ok(Some(Self { limit, after }))
    }
}

fn encode_photo_cursor((album, photo): (i32, i32)) -> String {
    URL_SAFE_NO_PAD.encode(format!("p{album}.{photo}"))
}

fn decode_photo_cursor(raw: &str) -> Result<(i32, i32), ApiError> {
    let invalid =
        || ApiError::bad_request("invalid_cursor", "The cursor is not one this API gave out.");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (album, photo) = text
        .strip_prefix('p')
        .and_then(|t| t.split_once('.'))
        .ok_or_else(invalid)?;
    Ok((
        album.parse().map_err(|_| invalid())?,
        photo.parse().map_err(|_| invalid())?,
    ))
}

/// One gallery: two queries (the gallery, then all albums with their images), then
/// presigned GETs for the photos of the page (all of them when `page` is `None`),
/// computed locally.
#[tracing::instrument(skip(app), fields(user_id = %caller.user_id))]
pub async fn get_gallery(
    app: &App,
    caller: &Caller,
    gallery_id: Uuid,
    page: Option<PhotoPage>,
) -> Result<GalleryView, ApiError> {
    let user_id = caller.user_id;
    let storage = app.storage()?;
    let (gallery, rows) = db::with_client(&app.pool, |client| async move {
        let Some(gallery) = galleries::find(&client, user_id, gallery_id).await? else {
            return Ok((None, Vec::new()));
        };
        let rows = galleries::album_images(&client, user_id, gallery_id).await?;
        Ok((Some(gallery), rows))
    })
    .await?;
    let gallery = gallery.ok_or(ApiError::NotFound { what: "gallery" })?;
    let urls = storage.url_signer().await.map_err(ApiError::internal)?;
    let mut albums: Vec<AlbumView> = Vec::new();
    let (mut taken, mut next_cursor, mut last) = (0usize, None, None);
    for row in rows {
        let AlbumImageRow {
            album_id,
            title,
            description,
            cover_image_id,
            image_id,
            width,
            height,
            taken_at,
            caption,
            tags,
            content_type,
            renditions,
            album_position,
            image_position,
        } = row;
        if albums.last().map(|a| a.album_id) != Some(album_id) {
            albums.push(AlbumView {
                album_id,
                title,
                description,
                cover_image_id,
                image_count: 0,
                images: Vec::new(),
            });
        }
        let (Some(image_id), Some(album)) = (image_id, albums.last_mut()) else {
            continue;
        };
        album.image_count += 1;
        let place = (album_position, image_position.unwrap_or(0));
        if let Some(page) = page {
            if page.after.is_some_and(|after| place <= after) {
                continue;
            }
            if taken == page.limit {
                next_cursor = last.map(encode_photo_cursor);
                continue;
            }
        }
        taken += 1;
        last = Some(place);
        let key = ImageKey::new(user_id, image_id);
        let url = urls
            .original(
                &key,
                ServeAs {
                    content_type: content_type.as_deref().and_then(ContentType::parse),
                },
            )
            .map_err(ApiError::internal)?;
        let (thumb_url, preview_url) = urls
            .grid_and_preview(&key, renditions)
            .map_err(ApiError::internal)?;
        album.images.push(ImageView {
            image_id,
            url,
            thumb_url,
            preview_url,
            width,
            height,
            taken_at,
            caption,
            tags: tags.unwrap_or_default(),
        });
    }
    Ok(GalleryView {
        gallery,
        albums,
        next_cursor,
    })
}

/// A page of the caller's galleries, newest first, and the cursor for the next page.
pub async fn list_galleries(
    app: &App,
    caller: &Caller,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<(Vec<GalleryRow>, Option<String>), ApiError> {
    let page = Page::parse(cursor, limit)?;
    let (user_id, after, fetch) = (caller.user_id, page.after, page.limit + 1);
    // One extra row says whether another page exists.
    let rows = db::with_client(&app.pool, |client| async move {
        galleries::list(&client, user_id, after, fetch).await
    })
    .await?;
    let (rows, next) = page.cut(rows, |g| (g.created_at, g.id));
    Ok((rows, next))
}
