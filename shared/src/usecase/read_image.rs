//! Reading one of the caller's photos: its details and URLs, or a fresh URL of one size.

use uuid::Uuid;

use crate::adapter::postgres as db;
use crate::adapter::s3::ServeAs;
use crate::app::App;
use crate::domain::prepare::Size;
use crate::domain::{Caller, ContentType, ImageStatus};
use crate::error::ApiError;
use crate::repo::images::{self, ImageRow};

/// Which file of a photo: the original or one of its renditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Original,
    Rendition(Size),
}

impl Variant {
    /// `thumb`, `preview` or `original` (the model's copy is not handed out).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "original" => Some(Self::Original),
            "thumb" => Some(Self::Rendition(Size::Thumb)),
            "preview" => Some(Self::Rendition(Size::Preview)),
            _ => None,
        }
    }
}

/// A photo and its URLs (`None` where the file does not exist).
#[derive(Debug, Clone)]
pub struct ImageWithUrls {
    pub row: ImageRow,
    pub url: Option<String>,
    pub thumb_url: Option<String>,
    pub preview_url: Option<String>,
}

async fn find(app: &App, caller: &Caller, image_id: Uuid) -> Result<ImageRow, ApiError> {
    let user_id = caller.user_id;
    db::with_client(&app.pool, |client| async move {
        images::find(&client, user_id, image_id).await
    })
    .await?
    .ok_or(ApiError::NotFound { what: "image" })
}

fn serve_as(row: &ImageRow) -> ServeAs {
    ServeAs {
        content_type: row
            .detected_content_type
            .as_deref()
            .and_then(ContentType::parse),
    }
}

/// One of the caller's photos with presigned GETs of what exists; another user's is 404.
#[tracing::instrument(skip(app), fields(user_id = %caller.user_id))]
pub async fn get_image(
    app: &App,
    caller: &Caller,
    image_id: Uuid,
) -> Result<ImageWithUrls, ApiError> {
    let row = find(app, caller, image_id).await?;
    if row.status != ImageStatus::Uploaded {
        return Ok(ImageWithUrls {
            row,
            url: None,
            thumb_url: None,
            preview_url: None,
        });
    }
    let urls = app
        .storage()?
        .url_signer()
        .await
        .map_err(ApiError::internal)?;
    let key = row.key();
    let url = Some(
        urls.original(&key, serve_as(&row))
            .map_err(ApiError::internal)?,
    );
    let (thumb_url, preview_url) = urls
        .grid_and_preview(&key, row.renditions)
        .map_err(ApiError::internal)?;
    Ok(ImageWithUrls {
        row,
        url,
        thumb_url,
        preview_url,
    })
}

/// A fresh presigned GET of one file of the photo, for the permanent URL
/// `/api/images/{id}/content?size=…`.
#[tracing::instrument(skip(app), fields(user_id = %caller.user_id))]
pub async fn content_url(
    app: &App,
    caller: &Caller,
    image_id: Uuid,
    variant: Variant,
) -> Result<String, ApiError> {
    let row = find(app, caller, image_id).await?;
    if row.status != ImageStatus::Uploaded {
        return Err(ApiError::conflict(
            "image_not_uploaded",
            match row.status {
                ImageStatus::Rejected => {
                    "This photo was rejected when it was uploaded; it has no content."
                }
                _ => "This photo has not been uploaded yet.",
            },
        ));
    }
    let urls = app
        .storage()?
        .url_signer()
        .await
        .map_err(ApiError::internal)?;
    match variant {
        Variant::Original => urls.original(&row.key(), serve_as(&row)),
        Variant::Rendition(size) if row.renditions => urls.rendition(&row.key(), size),
        Variant::Rendition(_) => {
            return Err(ApiError::conflict(
                "no_rendition",
                "This photo has no renditions (yet): HEIC/HEIF where this server cannot decode it, or a photo recorded before renditions existed and not in a job since; ask for size=original.",
            ));
        }
    }
    .map_err(ApiError::internal)
}
