//! The sweep: nothing stays stranded. Jobs pending but never sent (the send failed) or
//! sent long ago and never picked up are sent again; claims whose worker died (expired
//! lease) are sent again so a worker takes them over; jobs out of attempts are failed;
//! objects of deleted photos whose removal failed are removed; uploads never completed, or
//! rejected, are removed after a day; generated pictures after `GENERATED_RETENTION_DAYS`.

use crate::adapter::postgres as db;
use crate::app::App;
use crate::domain::JobKind;
use crate::repo::{deliveries, jobs};
use crate::usecase::delete_photos;
use crate::usecase::request_processing::enqueue;

/// At most this many objects of deleted photos are removed per sweep (bounded work).
const OBJECTS_PER_SWEEP: i64 = 1_000;
/// At most this many older photos are made searchable per sweep.
const SEARCHABLE_PER_SWEEP: i64 = 1_000;
/// At most this many expired uploads are removed per sweep.
const UPLOADS_PER_SWEEP: i64 = 200;
use crate::usecase::run_delivery::REMEMBER_FOR;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub resent: usize,
    pub failed: usize,
    /// Handled delivery ids old enough to forget (a replay of them is stale anyway).
    pub deliveries_forgotten: u64,
    /// Objects of deleted photos removed now (their first removal had failed), and those
    /// still waiting.
    pub objects_removed: usize,
    pub objects_left: usize,
    /// Uploads never completed, or rejected, older than a day: removed (rows and objects).
    pub uploads_expired: usize,
    /// Generated and edited images past `GENERATED_RETENTION_DAYS`: removed.
    pub generated_expired: usize,
    /// Results a generation stored and then ended without (a crash, then a failure or a
    /// cancel): removed.
    pub generated_abandoned: usize,
    /// Photos given their place and search document (uploaded before search existed).
    pub made_searchable: usize,
}

/// One pass over at most `limit` stranded jobs.
#[tracing::instrument(skip(app))]
pub async fn sweep_jobs(app: &App, limit: i64) -> Result<SweepReport, db::DbError> {
    let older_than = app.config.processor.sweep_after;
    let stranded = db::with_client(&app.pool, |client| async move {
        jobs::stranded(&client, older_than, limit).await
    })
    .await?;
    let max = app.config.processor.max_job_attempts as i32;
    let mut report = SweepReport::default();
    for job in stranded {
        if job.attempts >= max {
            let sentence = match job.kind {
                JobKind::Organise => format!(
                    "We could not finish organising these photos after {max} tries. Please try again later."
                ),
                JobKind::Generate => format!(
                    "The picture could not be made after {max} tries. Please try again later."
                ),
            };
            let failed = db::with_client(&app.pool, |client| {
                let sentence = sentence.clone();
                async move { jobs::fail(&client, job.id, None, &sentence).await }
            })
            .await?;
            report.failed += usize::from(failed);
        } else {
            enqueue(app, job.id, job.kind, job.user_id).await;
            report.resent += 1;
        }
    }
    report.deliveries_forgotten = db::with_client(&app.pool, |client| async move {
        deliveries::forget_older_than(&client, REMEMBER_FOR).await
    })
    .await?;
    let before = chrono::Utc::now() - chrono::Duration::minutes(10);
    db::with_client(&app.pool, |client| async move {
        crate::repo::limits::forget_windows(&client, before).await
    })
    .await?;
    report.uploads_expired = delete_photos::expire_uploads(app, UPLOADS_PER_SWEEP).await?;
    (report.generated_expired, report.generated_abandoned) =
        delete_photos::expire_made(app, UPLOADS_PER_SWEEP).await?;
    report.made_searchable = crate::usecase::search::backfill(app, SEARCHABLE_PER_SWEEP).await?;
    let removal = delete_photos::remove_queued_objects(app, OBJECTS_PER_SWEEP).await?;
    report.objects_removed = removal.removed;
    report.objects_left = removal.left;
    tracing::info!(?report, "sweep finished");
    Ok(report)
}
