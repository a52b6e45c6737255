//! `/api/me`: the caller's account.

use axum::extract::State;
use axum::http::StatusCode;

use super::identity::CallerSubject;
use crate::app::App;
use crate::error::ApiError;
use crate::usecase::delete_photos;

/// DELETE /api/me: 204, then everything of the caller is gone; a second call is a 404.
pub async fn delete_me(
    State(app): State<App>,
    CallerSubject(subject): CallerSubject,
) -> Result<StatusCode, ApiError> {
    delete_photos::delete_account(&app, &subject).await?;
    Ok(StatusCode::NO_CONTENT)
}
