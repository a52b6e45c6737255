//! Share links: made, listed and revoked by their owner; opened by anyone who has one.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::adapter::postgres as db;
use crate::app::App;
use crate::contract::{CreateShareRequest, SharedView};
use crate::domain::Caller;
use crate::domain::share::{self, MAX_PASSWORD_CHARS, ShareToken};
use crate::error::ApiError;
use crate::repo::shares::{self, LinkRow, NewLink};
use crate::usecase::paging::Page;
use crate::usecase::view_share::{self, Reveal};

/// Wrong passwords are counted in windows of this many seconds…
pub const PASSWORD_WINDOW_SECS: i32 = 15 * 60;
/// …and a window with this many from one address locks that address out…
pub const PASSWORD_FAILURES_PER_ADDRESS: i32 = 5;
/// …and with this many from anywhere locks the link (against guessing from many addresses).
pub const PASSWORD_FAILURES_PER_LINK: i32 = 20;
/// The scope that counts a link's failures from every address.
const WHOLE_LINK: &str = "*";

/// What a link shares.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Gallery(Uuid),
    Album(Uuid),
}

/// A new link and its token (the only time the token exists outside the caller's hands).
pub struct Created {
    pub link: LinkRow,
    pub token: String,
}

/// The link's settings, checked: an expiry in the future, a password of 1–256 characters.
fn check(request: &CreateShareRequest, now: DateTime<Utc>) -> Result<(), ApiError> {
    if request.expires_at.is_some_and(|at| at <= now) {
        return Err(ApiError::unprocessable(
            "expiry_in_past",
            "expiresAt must be in the future (or left out for a link that lasts until revoked).",
        ));
    }
    if let Some(password) = &request.password {
        let chars = password.chars().count();
        if chars == 0 || chars > MAX_PASSWORD_CHARS {
            return Err(ApiError::unprocessable(
                "invalid_password",
                format!(
                    "A share password has 1 to {MAX_PASSWORD_CHARS} characters (or leave it out)."
                ),
            ));
        }
    }
    Ok(())
}

/// Makes a link to one of the caller's galleries or albums; another user's is a 404.
#[tracing::instrument(skip(app, request), fields(user_id = %caller.user_id))]
pub async fn create(
    app: &App,
    caller: &Caller,
    target: Target,
    request: CreateShareRequest,
) -> Result<Created, ApiError> {
    check(&request, Utc::now())?;
    let user_id = caller.user_id;
    let (gallery_id, album_id) = match target {
        Target::Gallery(id) => (id, None),
        Target::Album(album_id) => {
            let gallery = db::with_client(&app.pool, |client| async move {
                shares::album_gallery(&client, user_id, album_id).await
            })
            .await?
            .ok_or(ApiError::NotFound { what: "album" })?;
            (gallery, Some(album_id))
        }
    };
    let password_hash = match request.password {
        None => None,
        Some(password) => Some(
            tokio::task::spawn_blocking(move || share::hash_password(&password))
                .await
                .map_err(ApiError::internal)?
                .map_err(ApiError::internal)?,
        ),
    };
    let token = ShareToken::generate();
    let new = NewLink {
        id: Uuid::now_v7(),
        user_id,
        gallery_id,
        album_id,
        token_sha256: token.sha256,
        password_hash,
        allow_download: request.allow_download.unwrap_or(true),
        show_location: request.show_location.unwrap_or(false),
        expires_at: request.expires_at,
    };
    let link = db::with_client(&app.pool, |client| {
        let new = new.clone();
        async move { shares::insert_link(&client, &new).await }
    })
    .await?
    .ok_or(match target {
        Target::Gallery(_) => ApiError::NotFound { what: "gallery" },
        // The album was the caller's a moment ago; it has just been deleted.
        Target::Album(_) => ApiError::NotFound { what: "album" },
    })?;
    tracing::info!(share_id = %link.id, album = ?link.album_id, "share link created");
    Ok(Created {
        link,
        token: token.token,
    })
}

/// The caller's links, newest first.
pub async fn list(
    app: &App,
    caller: &Caller,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<(Vec<LinkRow>, Option<String>), ApiError> {
    let page = Page::parse(cursor, limit)?;
    let user_id = caller.user_id;
    let rows = db::with_client(&app.pool, |client| async move {
        shares::list_links(&client, user_id, page.after, page.limit).await
    })
    .await?;
    Ok(page.cut(rows, |r| (r.created_at, r.id)))
}

/// Revokes one of the caller's links: it answers 404 from the next request on.
#[tracing::instrument(skip(app), fields(user_id = %caller.user_id))]
pub async fn revoke(app: &App, caller: &Caller, share_id: Uuid) -> Result<(), ApiError> {
    let user_id = caller.user_id;
    let deleted = db::with_client(&app.pool, |client| async move {
        shares::delete_link(&client, user_id, share_id).await
    })
    .await?;
    if !deleted {
        return Err(ApiError::NotFound { what: "share" });
    }
    tracing::info!(%share_id, "share link revoked");
    Ok(())
}

/// What a viewer of a link sends besides the token.
pub struct Attempt<'a> {
    pub password: Option<&'a str>,
    /// Where the request came from, for counting wrong passwords per address.
    pub address: &'a str,
}

/// One and the same answer for a token that is malformed, unknown, expired or revoked.
fn no_such_link() -> ApiError {
    ApiError::NotFound { what: "share" }
}

/// Opens a link: checks the password (when it has one) within the attempt limits,
/// counts the view, and returns what it shares.
#[tracing::instrument(skip_all)]
pub async fn open(app: &App, token: &str, attempt: Attempt<'_>) -> Result<SharedView, ApiError> {
    let hash = ShareToken::hash_of(token).ok_or_else(no_such_link)?;
    let link = db::with_client(&app.pool, |client| async move {
        shares::find_live_link(&client, &hash).await
    })
    .await?
    .ok_or_else(no_such_link)?;
    if let Some(phc) = &link.password_hash {
        check_password(app, &link, phc, &attempt).await?;
    }
    let share_id = link.id;
    db::with_client(&app.pool, |client| async move {
        shares::count_view(&client, share_id).await
    })
    .await?;
    tracing::info!(%share_id, "share link opened");
    view_share::render(
        app,
        link.user_id,
        link.gallery_id,
        link.album_id,
        Reveal {
            originals: link.allow_download,
            location: link.show_location,
        },
        link.expires_at,
    )
    .await
}

async fn check_password(
    app: &App,
    link: &LinkRow,
    phc: &str,
    attempt: &Attempt<'_>,
) -> Result<(), ApiError> {
    let Some(password) = attempt.password else {
        return Err(ApiError::unauthorized(
            "password_required",
            "This link has a password: send it in the `Share-Password` header.",
        ));
    };
    let share_id = link.id;
    let address = attempt.address.chars().take(64).collect::<String>();
    let scopes = [WHOLE_LINK, address.as_str()];
    let counted = db::with_client(&app.pool, |client| async move {
        shares::count_password_attempt(&client, share_id, &scopes, PASSWORD_WINDOW_SECS).await
    })
    .await?;
    let over = counted
        .iter()
        .filter(|(scope, n, _)| {
            let limit = match scope.as_str() {
                WHOLE_LINK => PASSWORD_FAILURES_PER_LINK,
                _ => PASSWORD_FAILURES_PER_ADDRESS,
            };
            *n > limit
        })
        .map(|(_, _, secs)| *secs)
        .max();
    if let Some(secs) = over {
        // Refused unchecked: not a guess, so not counted.
        db::with_client(&app.pool, |client| async move {
            shares::uncount_password_attempt(&client, share_id, &scopes).await
        })
        .await?;
        tracing::warn!(%share_id, retry_after = secs, "share password attempts locked");
        return Err(ApiError::TooManyRequests {
            code: "too_many_attempts",
            message: format!(
                "Too many wrong passwords for this link. Try again in {} minutes.",
                secs.unsigned_abs().div_ceil(60)
            ),
            retry_after_secs: secs.unsigned_abs(),
            details: None,
        });
    }
    let (password, phc) = (password.to_string(), phc.to_string());
    let matches = tokio::task::spawn_blocking(move || share::verify_password(&password, &phc))
        .await
        .map_err(ApiError::internal)?;
    if !matches {
        tracing::info!(%share_id, "wrong share password");
        return Err(ApiError::unauthorized(
            "wrong_password",
            "That is not this link's password.",
        ));
    }
    db::with_client(&app.pool, |client| async move {
        shares::uncount_password_attempt(&client, share_id, &scopes).await
    })
    .await?;
    Ok(())
}
