//! The person: their display name and the language their albums are written in.

use serde_json::json;

use crate::adapter::postgres as db;
use crate::app::App;
use crate::domain::Caller;
use crate::domain::language::Language;
use crate::error::ApiError;
use crate::repo::users::{self, Profile};

/// The longest display name, in characters.
pub const MAX_DISPLAY_NAME: usize = 100;

/// A change as asked for, before checks: `display_name` `Some(None)` clears the name.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub display_name: Option<Option<String>>,
    pub language: Option<String>,
}

pub async fn get_profile(app: &App, caller: &Caller) -> Result<Profile, ApiError> {
    let user_id = caller.user_id;
    db::with_client(&app.pool, |client| async move {
        users::find_profile(&client, user_id).await
    })
    .await?
    .ok_or(ApiError::NotFound { what: "account" })
}

fn check_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_DISPLAY_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(
            "invalid_display_name",
            format!(
                "A display name is 1 to {MAX_DISPLAY_NAME} characters, without control characters (null clears it)."
            ),
        ));
    }
    Ok(name.to_string())
}

#[tracing::instrument(skip(app, change), fields(user_id = %caller.user_id))]
pub async fn update_profile(
    app: &App,
    caller: &Caller,
    change: ProfileChange,
) -> Result<Profile, ApiError> {
    let name = match &change.display_name {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => Some(Some(check_name(raw)?)),
    };
    let language = change
        .language
        .as_deref()
        .map(|raw| {
            Language::parse(raw).ok_or_else(|| ApiError::Unprocessable {
                code: "unsupported_language",
                message: format!(
                    "`{}` is not a language albums can be written in; use one of en, de, fr, es.",
                    raw.chars().take(20).collect::<String>()
                ),
                details: Some(json!({"languages": Language::ALL.map(Language::code)})),
            })
        })
        .transpose()?;
    let user_id = caller.user_id;
    let updated = db::with_client(&app.pool, |client| {
        let name = name.clone();
        async move {
            users::update_profile(
                &client,
                user_id,
                name.as_ref().map(|n| n.as_deref()),
                language,
            )
            .await
        }
    })
    .await?
    .ok_or(ApiError::NotFound { what: "account" })?;
    tracing::info!(language = updated.language.code(), "profile updated");
    Ok(updated)
}
