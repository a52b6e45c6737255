//! What a share shows: a gallery's or an album's titles, captions and photo URLs, and
//! only what the share allows.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::adapter::postgres as db;
use crate::adapter::s3::ServeAs;
use crate::app::App;
use crate::contract::{GeoPoint, SharedAlbum, SharedImage, SharedView};
use crate::domain::share::Redactor;
use crate::domain::{ContentType, ImageKey};
use crate::error::ApiError;
use crate::repo::shares::{self, SharedPhotoRow};

/// What a share may reveal beyond titles, captions and renditions.
#[derive(Debug, Clone, Copy)]
pub struct Reveal {
    /// Downloads: the original files when locations are shown too, else the largest
    /// rendition (an original carries its EXIF: GPS, camera).
    pub originals: bool,
    /// GPS coordinates and the camera (and coordinates and camera names written into
    /// the text).
    pub location: bool,
}

/// What a share's `url`s are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Download {
    None,
    Original,
    Preview,
}

impl Download {
    fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Original => "original",
            Self::Preview => "preview",
        }
    }
}

/// The albums of `gallery_id` (or only `album_id`) of `owner`, with presigned URLs.
pub async fn render(
    app: &App,
    owner: Uuid,
    gallery_id: Uuid,
    album_id: Option<Uuid>,
    reveal: Reveal,
    expires_at: Option<DateTime<Utc>>,
) -> Result<SharedView, ApiError> {
    let storage = app.storage()?;
    let rows = db::with_client(&app.pool, |client| async move {
        shares::shared_photos(&client, owner, gallery_id, album_id).await
    })
    .await?;
    if album_id.is_some() && rows.is_empty() {
        // The album went between the link's lookup and this read.
        return Err(ApiError::NotFound { what: "share" });
    }
    let urls = storage.url_signer().await.map_err(ApiError::internal)?;
    let redactor = (!reveal.location).then(|| {
        Redactor::with_places(
            rows.iter()
                .map(|r| (r.camera_make.as_deref(), r.camera_model.as_deref())),
            rows.iter().filter_map(|r| r.place.as_ref()),
        )
    });
    let text = |s: String| match &redactor {
        None => s,
        Some(r) => r.scrub(&s),
    };
    let downloads = match (reveal.originals, reveal.location) {
        (false, _) => Download::None,
        (true, true) => Download::Original,
        (true, false) => Download::Preview,
    };
    let mut albums: Vec<SharedAlbum> = Vec::new();
    for row in rows {
        let SharedPhotoRow {
            album_id,
            title,
            description,
            image_id,
            width,
            height,
            taken_at,
            taken_at_offset_minutes,
            caption,
            tags,
            content_type,
            renditions,
            latitude,
            longitude,
            camera_make,
            camera_model,
            place: _,
        } = row;
        if albums.last().map(|a| a.album_id) != Some(album_id) {
            albums.push(SharedAlbum {
                album_id,
                title: text(title),
                description: text(description),
                image_count: 0,
                images: Vec::new(),
            });
        }
        let (Some(image_id), Some(album)) = (image_id, albums.last_mut()) else {
            continue;
        };
        album.image_count += 1;
        let key = ImageKey::new(owner, image_id);
        let (thumb_url, preview_url) = urls
            .grid_and_preview(&key, renditions)
            .map_err(ApiError::internal)?;
        let url = match downloads {
            Download::None => None,
            Download::Original => Some(
                urls.original(
                    &key,
                    ServeAs {
                        content_type: content_type.as_deref().and_then(ContentType::parse),
                    },
                )
                .map_err(ApiError::internal)?,
            ),
            Download::Preview => preview_url.clone(),
        };
        let (location, camera) = match reveal.location {
            true => (
                latitude
                    .zip(longitude)
                    .map(|(latitude, longitude)| GeoPoint {
                        latitude,
                        longitude,
                    }),
                camera_name(camera_make, camera_model),
            ),
            false => (None, None),
        };
        album.images.push(SharedImage {
            image_id,
            thumb_url,
            preview_url,
            url,
            width,
            height,
            taken_at,
            taken_at_offset_minutes,
            caption: caption.map(text),
            tags: tags
                .unwrap_or_default()
                .into_iter()
                .map(text)
                .filter(|t| !t.is_empty())
                .collect(),
            location,
            camera,
        });
    }
    Ok(SharedView {
        kind: if album_id.is_some() {
            "album"
        } else {
            "gallery"
        }
        .into(),
        allow_download: reveal.originals,
        show_location: reveal.location,
        downloads: downloads.as_str().into(),
        expires_at,
        albums,
    })
}

/// "Apple iPhone 12 Pro", without the make twice when the model already names it.
fn camera_name(make: Option<String>, model: Option<String>) -> Option<String> {
    match (make, model) {
        (Some(make), Some(model)) if model.starts_with(&make) => Some(model),
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (make, model) => make.or(model),
    }
}
