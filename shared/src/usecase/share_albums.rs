//! Albums shared with people who have accounts: the owner adds and removes members; a
//! member lists what is shared with them and opens it.

use uuid::Uuid;

use crate::adapter::postgres as db;
use crate::app::App;
use crate::contract::SharedView;
use crate::domain::{Caller, ImageKey};
use crate::error::ApiError;
use crate::repo::shares::{self, MemberRow, SharedAlbumRow};
use crate::usecase::paging::Page;
use crate::usecase::view_share::{self, Reveal};

/// The one role there is.
pub const VIEWER: &str = "viewer";

/// What a member sees: as a share link does by default, downloads (the preview
/// rendition) and no locations or camera.
const MEMBER_SEES: Reveal = Reveal {
    originals: true,
    location: false,
};

fn check_subject(subject: &str) -> Result<(), ApiError> {
    let chars = subject.chars().count();
    if chars == 0 || subject.len() > 255 || subject.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(
            "invalid_subject",
            "subject is the person's identity-provider subject (`sub`): 1 to 255 bytes, no control characters.",
        ));
    }
    Ok(())
}

/// Adds `subject` to one of the caller's albums (again: no change). The flag says
/// whether they are new.
#[tracing::instrument(skip(app), fields(user_id = %caller.user_id))]
pub async fn add(
    app: &App,
    caller: &Caller,
    album_id: Uuid,
    subject: &str,
    role: Option<&str>,
) -> Result<(MemberRow, bool), ApiError> {
    check_subject(subject)?;
    let role = role.unwrap_or(VIEWER);
    if role != VIEWER {
        return Err(ApiError::unprocessable(
            "invalid_role",
            "role must be `viewer` (the only role there is).",
        ));
    }
    if subject == caller.subject {
        return Err(ApiError::unprocessable(
            "cannot_share_with_yourself",
            "The album is already yours.",
        ));
    }
    let user_id = caller.user_id;
    let added = db::with_client(&app.pool, |client| async move {
        shares::upsert_member(&client, user_id, album_id, subject, role).await
    })
    .await?
    .ok_or(ApiError::NotFound { what: "album" })?;
    tracing::info!(%album_id, new = added.1, "album member added");
    Ok(added)
}

/// Removes a member from one of the caller's albums.
#[tracing::instrument(skip(app), fields(user_id = %caller.user_id))]
pub async fn remove(
    app: &App,
    caller: &Caller,
    album_id: Uuid,
    subject: &str,
) -> Result<(), ApiError> {
    let user_id = caller.user_id;
    let removed = db::with_client(&app.pool, |client| async move {
        shares::delete_member(&client, user_id, album_id, subject).await
    })
    .await?;
    if !removed {
        return Err(ApiError::NotFound { what: "member" });
    }
    tracing::info!(%album_id, "album member removed");
    Ok(())
}

/// The members of one of the caller's albums.
pub async fn list(app: &App, caller: &Caller, album_id: Uuid) -> Result<Vec<MemberRow>, ApiError> {
    let user_id = caller.user_id;
    let (exists, members) = db::with_client(&app.pool, |client| async move {
        let exists = shares::album_gallery(&client, user_id, album_id).await?;
        let members = shares::list_members(&client, user_id, album_id).await?;
        Ok((exists.is_some(), members))
    })
    .await?;
    match exists {
        true => Ok(members),
        false => Err(ApiError::NotFound { what: "album" }),
    }
}

/// An album shared with the caller, with its cover's thumbnail URL.
pub struct SharedAlbumListing {
    pub row: SharedAlbumRow,
    pub cover_thumb_url: Option<String>,
}

/// The albums shared with the caller, newest first.
pub async fn shared_with_me(
    app: &App,
    caller: &Caller,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<(Vec<SharedAlbumListing>, Option<String>), ApiError> {
    let page = Page::parse(cursor, limit)?;
    let storage = app.storage()?;
    let subject = caller.subject.as_str();
    let rows = db::with_client(&app.pool, |client| async move {
        shares::shared_with(&client, subject, page.after, page.limit).await
    })
    .await?;
    let (rows, next) = page.cut(rows, |r| (r.added_at, r.album_id));
    let urls = storage.url_signer().await.map_err(ApiError::internal)?;
    let listings = rows
        .into_iter()
        .map(|row| {
            let cover_thumb_url = match row.cover_image_id {
                Some(cover) => {
                    urls.grid_and_preview(&ImageKey::new(row.owner_id, cover), row.cover_renditions)
                        .map_err(ApiError::internal)?
                        .0
                }
                None => None,
            };
            Ok(SharedAlbumListing {
                row,
                cover_thumb_url,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok((listings, next))
}

/// One album shared with the caller; anything else (not shared, removed, unknown) is 404.
pub async fn open(app: &App, caller: &Caller, album_id: Uuid) -> Result<SharedView, ApiError> {
    let subject = caller.subject.as_str();
    let (owner, gallery_id) = db::with_client(&app.pool, |client| async move {
        shares::membership(&client, subject, album_id).await
    })
    .await?
    .ok_or(ApiError::NotFound { what: "album" })?;
    view_share::render(app, owner, gallery_id, Some(album_id), MEMBER_SEES, None).await
}
