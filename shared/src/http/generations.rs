//! `/api/generations` and `/api/images/{imageId}/edits`: making pictures from a prompt
//! (and the caller's photos), and their history.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

use super::extract::{ApiJson, PageQuery, parse_id};
use crate::app::App;
use crate::contract::{
    EditRequest, Generation, GenerationAccepted, GenerationList, GenerationRequest,
};
use crate::domain::Caller;
use crate::error::ApiError;
use crate::repo::generations::GenerationRow;
use crate::usecase::read_generations;
use crate::usecase::request_generation::{self, GenerationAsk};
use crate::usecase::request_processing::{JobAccepted, parse_idempotency_key};

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    headers
        .get("idempotency-key")
        .map(|value| {
            parse_idempotency_key(value.to_str().map_err(|_| {
                ApiError::bad_request(
                    "invalid_idempotency_key",
                    "The Idempotency-Key header must be ASCII.",
                )
            })?)
        })
        .transpose()
}

fn accepted(job: JobAccepted) -> (StatusCode, Json<GenerationAccepted>) {
    (
        StatusCode::ACCEPTED,
        Json(GenerationAccepted {
            generation_id: job.job_id,
            status: job.status,
            status_url: format!("/api/generations/{}", job.job_id),
        }),
    )
}

/// POST /api/generations
pub async fn create_generation(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<GenerationRequest>,
) -> Result<(StatusCode, Json<GenerationAccepted>), ApiError> {
    let key = idempotency_key(&headers)?;
    let ask = GenerationAsk {
        prompt: body.prompt,
        reference_ids: body.reference_image_ids,
        aspect_ratio: body.aspect_ratio,
        provider: body.provider,
    };
    let job =
        request_generation::request_generation(&app, &caller, ask, None, key.as_deref()).await?;
    Ok(accepted(job))
}

/// POST /api/images/{imageId}/edits
pub async fn create_edit(
    State(app): State<App>,
    caller: Caller,
    Path(image_id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<EditRequest>,
) -> Result<(StatusCode, Json<GenerationAccepted>), ApiError> {
    let source = parse_id(&image_id, "image")?;
    let key = idempotency_key(&headers)?;
    let ask = GenerationAsk {
        prompt: body.prompt,
        reference_ids: body.reference_image_ids,
        aspect_ratio: body.aspect_ratio,
        provider: body.provider,
    };
    let job =
        request_generation::request_generation(&app, &caller, ask, Some(source), key.as_deref())
            .await
            .map_err(|e| match e {
                // The photo edited is the path's: a 404 for it names the image, not a list.
                ApiError::NotFoundMany { ids, .. } if ids.contains(&source) => {
                    ApiError::NotFound { what: "image" }
                }
                other => other,
            })?;
    Ok(accepted(job))
}

/// GET /api/generations/{generationId}
pub async fn get_generation(
    State(app): State<App>,
    caller: Caller,
    Path(generation_id): Path<String>,
) -> Result<Json<Generation>, ApiError> {
    let row = read_generations::generation(&app, &caller, parse_id(&generation_id, "generation")?)
        .await?;
    Ok(Json(body(row)))
}

/// GET /api/generations[?limit=&cursor=]
pub async fn list_generations(
    State(app): State<App>,
    caller: Caller,
    page: PageQuery,
) -> Result<Json<GenerationList>, ApiError> {
    let (rows, next_cursor) =
        read_generations::list_generations(&app, &caller, page.cursor.as_deref(), page.limit)
            .await?;
    Ok(Json(GenerationList {
        generations: rows.into_iter().map(body).collect(),
        next_cursor,
    }))
}

fn body(g: GenerationRow) -> Generation {
    let image_id = g.has_result.then_some(g.image_id);
    Generation {
        generation_id: g.job_id,
        origin: if g.source_image_id.is_some() {
            "edited"
        } else {
            "generated"
        }
        .into(),
        prompt: g.prompt,
        provider: g.provider,
        model: g.model,
        aspect_ratio: g.aspect_ratio,
        status: g.status,
        stage: g.stage,
        error: g.error,
        reference_image_ids: g.reference_ids,
        source_image_id: g.source_image_id,
        image_id,
        image_url: image_id.map(|id| format!("/api/images/{id}/content")),
        attempts: g.attempts,
        calls: g.calls,
        input_tokens: g.input_tokens,
        output_tokens: g.output_tokens,
        cost_usd: g.cost_usd,
        created_at: g.created_at,
        started_at: g.started_at,
        completed_at: g.completed_at,
    }
}
