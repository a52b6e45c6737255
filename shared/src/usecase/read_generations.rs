//! Reading the caller's generations: one, or their history newest first.

use uuid::Uuid;

use crate::adapter::postgres as db;
use crate::app::App;
use crate::domain::Caller;
use crate::error::ApiError;
use crate::repo::generations::{self, GenerationRow};
use crate::usecase::paging::Page;

/// The caller's generation; another user's is as absent as one that never existed.
pub async fn generation(
    app: &App,
    caller: &Caller,
    generation_id: Uuid,
) -> Result<GenerationRow, ApiError> {
    let user_id = caller.user_id;
    db::with_client(&app.pool, |client| async move {
        generations::find(&client, user_id, generation_id).await
    })
    .await?
    .ok_or(ApiError::NotFound { what: "generation" })
}

/// A page of the caller's generations, newest first, and the next page's cursor.
pub async fn list_generations(
    app: &App,
    caller: &Caller,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<(Vec<GenerationRow>, Option<String>), ApiError> {
    let page = Page::parse(cursor, limit)?;
    let (user_id, after, fetch) = (caller.user_id, page.after, page.limit + 1);
    let rows = db::with_client(&app.pool, |client| async move {
        generations::list(&client, user_id, after, fetch).await
    })
    .await?;
    Ok(page.cut(rows, |g| (g.created_at, g.job_id)))
}
