//! Deleting photos and galleries. The rows go in one transaction with everything that
//! points at them (album places, covers re-chosen, empty albums, share links); the
//! objects are removed after it commits, and by the sweep when the bucket did not answer.

use futures::StreamExt;
use uuid::Uuid;

use crate::adapter::postgres::{self as db, DbError};
use crate::app::App;
use crate::domain::Caller;
use crate::error::ApiError;
use crate::repo::{deletions, generations};

/// How many objects are removed at once.
const CONCURRENCY: usize = 16;
/// How many a request removes itself (100 photos' worth, about a second); the rest are
/// queued already and the sweep removes them, so deleting a large gallery or account
/// answers well within API Gateway's 30 s.
const IN_REQUEST: usize = 400;

/// Deletes one of the caller's photos, wherever it is (pending, uploaded or rejected).
#[tracing::instrument(skip(app), fields(user_id = %caller.user_id))]
pub async fn delete_image(app: &App, caller: &Caller, image_id: Uuid) -> Result<(), ApiError> {
    let user_id = caller.user_id;
    let mut client = app.pool.get().await.map_err(DbError::from)?;
    let deleted = async {
        let tx = client.transaction().await?;
        let deleted = deletions::delete_images(&tx, user_id, &[image_id]).await?;
        tx.commit().await?;
        Ok::<_, tokio_postgres::Error>(deleted)
    }
    .await
    .map_err(DbError::from)?;
    drop(client);
    if deleted.is_empty() {
        return Err(ApiError::NotFound { what: "image" });
    }
    tracing::info!(%image_id, "photo deleted");
    remove_objects_of(app, user_id, &deleted).await;
    Ok(())
}

/// Deletes one of the caller's galleries: its albums, its job and its share links; its
/// photos too with `with_photos`, else they stay in the library.
#[tracing::instrument(skip(app), fields(user_id = %caller.user_id))]
pub async fn delete_gallery(
    app: &App,
    caller: &Caller,
    gallery_id: Uuid,
    with_photos: bool,
) -> Result<(), ApiError> {
    let user_id = caller.user_id;
    let mut client = app.pool.get().await.map_err(DbError::from)?;
    let outcome = async {
        let tx = client.transaction().await?;
        let Some(photos) = deletions::delete_gallery(&tx, user_id, gallery_id).await? else {
            return Ok(None);
        };
        let deleted = match with_photos {
            true => deletions::delete_images(&tx, user_id, &photos).await?,
            false => {
                // The photos stay; the album titles they were found by go with the gallery.
                crate::repo::images::refresh_search(&tx, &photos).await?;
                Vec::new()
            }
        };
        tx.commit().await?;
        Ok::<_, tokio_postgres::Error>(Some(deleted))
    }
    .await
    .map_err(DbError::from)?;
    drop(client);
    let deleted = outcome.ok_or(ApiError::NotFound { what: "gallery" })?;
    tracing::info!(%gallery_id, photos = deleted.len(), "gallery deleted");
    remove_objects_of(app, user_id, &deleted).await;
    Ok(())
}

/// Deletes the caller's account: every photo (objects included), gallery, album, job and
/// share link of theirs, their memberships of other people's albums, then the user. A
/// second call is a 404 (it does not create the account it would delete).
#[tracing::instrument(skip_all)]
pub async fn delete_account(app: &App, subject: &str) -> Result<(), ApiError> {
    let mut client = app.pool.get().await.map_err(DbError::from)?;
    let outcome = async {
        let tx = client.transaction().await?;
        let deleted = deletions::delete_user(&tx, subject).await?;
        tx.commit().await?;
        Ok::<_, tokio_postgres::Error>(deleted)
    }
    .await
    .map_err(DbError::from)?;
    drop(client);
    let (user_id, photos) = outcome.ok_or(ApiError::NotFound { what: "account" })?;
    tracing::info!(%user_id, photos = photos.len(), "account deleted");
    remove_objects_of(app, user_id, &photos).await;
    Ok(())
}

/// Right after the commit: the deleted photos' objects. What fails stays queued for the
/// sweep; the request has already succeeded.
async fn remove_objects_of(app: &App, user_id: Uuid, images: &[Uuid]) {
    let keys: Vec<String> = images
        .iter()
        .flat_map(|id| deletions::object_keys(user_id, *id))
        .take(IN_REQUEST)
        .collect();
    if let Err(e) = remove(app, keys).await {
        tracing::warn!(error = ?e, "objects of deleted photos left for the sweep");
    }
}

/// What one pass over the queued objects did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removal {
    pub removed: usize,
    pub left: usize,
}

/// Removes `keys` from the bucket and forgets those that are gone.
async fn remove(app: &App, keys: Vec<String>) -> Result<Removal, DbError> {
    let Ok(storage) = app.storage() else {
        return Ok(Removal {
            removed: 0,
            left: keys.len(),
        });
    };
    let results: Vec<(String, bool)> = futures::stream::iter(keys)
        .map(|key| async move {
            let gone = match storage.delete_key(&key).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(%key, error = %e, "could not remove an object");
                    false
                }
            };
            (key, gone)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let (gone, left): (Vec<_>, Vec<_>) = results.into_iter().partition(|(_, gone)| *gone);
    let gone: Vec<String> = gone.into_iter().map(|(key, _)| key).collect();
    if !gone.is_empty() {
        let keys = &gone;
        db::with_client(&app.pool, |client| async move {
            deletions::done(&client, keys).await
        })
        .await?;
    }
    Ok(Removal {
        removed: gone.len(),
        left: left.len(),
    })
}

/// The sweep's part: up to `limit` queued objects whose removal failed before.
pub async fn remove_queued_objects(app: &App, limit: i64) -> Result<Removal, DbError> {
    let keys = db::with_client(&app.pool, |client| async move {
        deletions::pending(&client, limit).await
    })
    .await?;
    if keys.is_empty() {
        return Ok(Removal::default());
    }
    remove(app, keys).await
}

/// Uploads never completed, and rejected ones, are kept this long (a day).
pub const UPLOAD_RETENTION: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The sweep's retention part: up to `limit` uploads that will never be organised (never
/// completed, or rejected) and are older than [`UPLOAD_RETENTION`], deleted as a person's
/// delete does (rows, then objects). Returns how many.
pub async fn expire_uploads(app: &App, limit: i64) -> Result<usize, DbError> {
    let older_than = UPLOAD_RETENTION.as_secs_f64();
    let expired = db::with_client(&app.pool, |client| async move {
        deletions::expired_uploads(&client, older_than, limit).await
    })
    .await?;
    let removed = delete_listed(app, expired).await?;
    if removed > 0 {
        tracing::info!(removed, "expired uploads removed");
    }
    Ok(removed)
}

/// The sweep's part for pictures Momentarium made: up to `limit` generated or edited
/// images older than `GENERATED_RETENTION_DAYS` (none when it is 0), and results planned
/// by a generation that then ended without them (a run that crashed after storing its
/// object, then failed or was cancelled). Returns how many of each.
pub async fn expire_made(app: &App, limit: i64) -> Result<(usize, usize), DbError> {
    let days = app.config.generation.retention_days;
    let abandoned = db::with_client(&app.pool, |client| async move {
        generations::abandoned_results(&client, limit).await
    })
    .await?;
    let abandoned = delete_listed(app, abandoned).await?;
    let mut expired = 0;
    if days > 0 {
        let days = i32::try_from(days).unwrap_or(i32::MAX);
        let old = db::with_client(&app.pool, |client| async move {
            generations::expired_made(&client, days, limit).await
        })
        .await?;
        expired = delete_listed(app, old).await?;
    }
    if expired + abandoned > 0 {
        tracing::info!(expired, abandoned, "generated images removed");
    }
    Ok((expired, abandoned))
}

/// Deletes the listed `(user, photo)`s as a person's delete does, a user at a time.
async fn delete_listed(app: &App, listed: Vec<(Uuid, Uuid)>) -> Result<usize, DbError> {
    let mut by_user: std::collections::BTreeMap<Uuid, Vec<Uuid>> = Default::default();
    for (user, image) in listed {
        by_user.entry(user).or_default().push(image);
    }
    let mut removed = 0;
    for (user_id, ids) in by_user {
        let mut client = app.pool.get().await?;
        let tx = client.transaction().await?;
        let deleted = deletions::delete_images(&tx, user_id, &ids).await?;
        tx.commit().await?;
        drop(client);
        removed += deleted.len();
        remove_objects_of(app, user_id, &deleted).await;
    }
    Ok(removed)
}
