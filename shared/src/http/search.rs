//! `/api/search` and `/api/search/history`: finding the caller's photos again.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};

use crate::app::App;
use crate::contract::{HistoryCleared, PastSearch, SearchHistory, SearchHit, SearchResults};
use crate::domain::Caller;
use crate::error::ApiError;
use crate::usecase::search::{self, SearchAsk};

const PARAMETERS: [&str; 9] = [
    "q",
    "from",
    "to",
    "place",
    "album",
    "similarTo",
    "limit",
    "cursor",
    "today",
];

/// GET /api/search
pub async fn search(
    State(app): State<App>,
    caller: Caller,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<SearchResults>, ApiError> {
    let Query(params) = params.map_err(|_| {
        ApiError::bad_request("invalid_query", "The query string could not be read.")
    })?;
    let mut seen: HashMap<&str, String> = HashMap::new();
    for (name, value) in &params {
        let Some(known) = PARAMETERS.iter().find(|p| **p == name.as_str()) else {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!(
                    "Unknown parameter `{}`; use {}.",
                    name.chars().take(40).collect::<String>(),
                    PARAMETERS.join(", ")
                ),
            ));
        };
        if seen.insert(known, value.clone()).is_some() {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("`{known}` is given twice."),
            ));
        }
    }
    let ask = SearchAsk {
        q: seen.remove("q"),
        from: seen.remove("from"),
        to: seen.remove("to"),
        place: seen.remove("place"),
        album: seen.remove("album"),
        similar_to: seen.remove("similarTo"),
        limit: seen.remove("limit"),
        cursor: seen.remove("cursor"),
        today: seen.remove("today"),
    };
    let query = ask.q.clone().unwrap_or_default();
    let outcome = search::search(&app, &caller, ask).await?;
    Ok(Json(SearchResults {
        query,
        understood: outcome.understood,
        mode: outcome.mode.as_str().to_string(),
        mode_reason: outcome.mode_reason,
        total: outcome.total,
        results: outcome
            .hits
            .into_iter()
            .map(|h| SearchHit {
                image_id: h.row.image_id,
                filename: h.row.filename,
                caption: h.row.caption,
                tags: h.row.tags,
                place: h.row.place,
                taken_at: h.row.taken_at,
                offset_minutes: h.row.offset_minutes,
                width: h.row.width,
                height: h.row.height,
                camera_model: h.row.camera_model,
                gallery_id: h.row.gallery_id,
                album_id: h.row.album_id,
                album_title: h.row.album_title,
                url: h.url,
                thumb_url: h.thumb_url,
                preview_url: h.preview_url,
            })
            .collect(),
        next_cursor: outcome.next_cursor,
    }))
}

/// GET /api/search/history
pub async fn history(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<SearchHistory>, ApiError> {
    let searches = search::history(&app, &caller)
        .await?
        .into_iter()
        .map(|h| PastSearch {
            query: h.query,
            result_count: h.result_count,
            searched_at: h.searched_at,
        })
        .collect();
    Ok(Json(SearchHistory { searches }))
}

/// DELETE /api/search/history
pub async fn forget_history(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<HistoryCleared>, ApiError> {
    let deleted = search::forget_history(&app, &caller).await?;
    Ok(Json(HistoryCleared { deleted }))
}
