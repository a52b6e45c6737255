//! Renditions for photos that have none — uploaded by `organize` (whose jobs do not wait
//! for them), or before renditions existed — made in the background by a process with
//! time to spare (`serve`'s sweep), a few each round, so the web app's grid never has to
//! show an original. On AWS the processor makes them when a job includes the photo.

use uuid::Uuid;

use crate::adapter::postgres::{self as db, DbError};
use crate::app::App;
use crate::domain::ContentType;
use crate::repo::images;
use crate::usecase::run_job::{Trouble, fetch_and_prepare, renderable};

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BackfillReport {
    pub made: usize,
    /// Photos whose renditions could not be made (unreadable, over the memory bound,
    /// gone from storage, or storage trouble): not asked for again by this process.
    pub failed: Vec<Uuid>,
}

/// Makes the renditions of up to `limit` photos that have none, leaving out `skip`.
pub async fn backfill_renditions(
    app: &App,
    skip: &[Uuid],
    limit: i64,
) -> Result<BackfillReport, DbError> {
    let types: Vec<&str> = [
        ContentType::Jpeg,
        ContentType::Png,
        ContentType::Webp,
        ContentType::Heic,
        ContentType::Heif,
    ]
    .into_iter()
    .map(ContentType::as_str)
    .filter(|t| renderable(t))
    .collect();
    let photos = db::with_client(&app.pool, |client| {
        let types = types.clone();
        async move { images::without_renditions(&client, &types, skip, limit).await }
    })
    .await?;
    let mut report = BackfillReport::default();
    for photo in photos {
        let id = photo.id;
        match fetch_and_prepare(app, photo).await {
            // The model's copy is a rendition only when they were made (a HEIC this build
            // cannot decode comes back as itself).
            Ok(Some(ready)) if matches!(ready.model_input, Some(("image/jpeg", _))) => {
                report.made += 1
            }
            Ok(_) => report.failed.push(id),
            Err(Trouble::Transient(why, _) | Trouble::Permanent(why) | Trouble::Rested(why, _)) => {
                tracing::warn!(image_id = %id, %why, "renditions not made");
                report.failed.push(id);
            }
            Err(Trouble::LostLease) => report.failed.push(id),
        }
    }
    if report.made > 0 || !report.failed.is_empty() {
        tracing::info!(
            made = report.made,
            failed = report.failed.len(),
            "renditions backfilled"
        );
    }
    Ok(report)
}
