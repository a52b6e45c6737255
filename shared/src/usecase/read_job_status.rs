//! Reading a job's status.

use uuid::Uuid;

use crate::adapter::postgres as db;
use crate::app::App;
use crate::domain::Caller;
use crate::error::ApiError;
use crate::repo::jobs::{self, JobRow};

/// The caller's job; another user's is as absent as one that never existed.
pub async fn job_status(app: &App, caller: &Caller, job_id: Uuid) -> Result<JobRow, ApiError> {
    let user_id = caller.user_id;
    db::with_client(&app.pool, |client| async move {
        jobs::find(&client, user_id, job_id).await
    })
    .await?
    .ok_or(ApiError::NotFound { what: "job" })
}
