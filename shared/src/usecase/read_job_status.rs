//! Reading a job's status.

use uuid::Uuid;

use crate::adapter::postgres as db;
use crate::app::App;
use crate::domain::Caller;
use crate::error::ApiError;
use crate::repo::jobs::{self, JobRow};
use crate::usecase::paging::Page;

/// The caller's job; another user's is as absent as one that never existed.
pub async fn job_status(app: &App, caller: &Caller, job_id: Uuid) -> Result<JobRow, ApiError> {
    let user_id = caller.user_id;
    db::with_client(&app.pool, |client| async move {
        jobs::find(&client, user_id, job_id).await
    })
    .await?
    .ok_or(ApiError::NotFound { what: "job" })
}

/// A page of the caller's jobs (every kind), newest first, and the next page's cursor.
pub async fn list_jobs(
    app: &App,
    caller: &Caller,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<(Vec<JobRow>, Option<String>), ApiError> {
    let page = Page::parse(cursor, limit)?;
    let (user_id, after, fetch) = (caller.user_id, page.after, page.limit + 1);
    // One extra row says whether another page exists.
    let rows = db::with_client(&app.pool, |client| async move {
        jobs::list(&client, user_id, after, fetch).await
    })
    .await?;
    Ok(page.cut(rows, |j| (j.created_at, j.id)))
}
