//! `/api/me`: the caller's account.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::extract::ApiJson;
use super::identity::CallerSubject;
use crate::app::App;
use crate::contract::{Me, MeChange};
use crate::domain::Caller;
use crate::domain::language::Language;
use crate::error::ApiError;
use crate::repo::users::Profile;
use crate::usecase::delete_photos;
use crate::usecase::profile::{self, ProfileChange};

fn me(p: Profile) -> Me {
    Me {
        subject: p.subject,
        display_name: p.display_name,
        language: p.language.code().into(),
        languages: Language::ALL.iter().map(|l| l.code().to_string()).collect(),
        created_at: p.created_at,
    }
}

/// GET /api/me
pub async fn get_me(State(app): State<App>, caller: Caller) -> Result<Json<Me>, ApiError> {
    Ok(Json(me(profile::get_profile(&app, &caller).await?)))
}

/// PATCH /api/me
pub async fn patch_me(
    State(app): State<App>,
    caller: Caller,
    ApiJson(body): ApiJson<MeChange>,
) -> Result<Json<Me>, ApiError> {
    let change = ProfileChange {
        display_name: body.display_name,
        language: body.language,
    };
    Ok(Json(me(
        profile::update_profile(&app, &caller, change).await?
    )))
}

/// DELETE /api/me: 204, then everything of the caller is gone; a second call is a 404.
pub async fn delete_me(
    State(app): State<App>,
    CallerSubject(subject): CallerSubject,
) -> Result<StatusCode, ApiError> {
    delete_photos::delete_account(&app, &subject).await?;
    Ok(StatusCode::NO_CONTENT)
}
