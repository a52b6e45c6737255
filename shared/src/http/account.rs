//! `/api/me`: the caller's account.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::extract::ApiJson;
use super::identity::CallerSubject;
use crate::app::App;
use crate::contract::{
    AiUsage, BudgetBody, Me, MeChange, NotificationBody, QuotaBody, RateLimitBody, UsageBody,
};
use crate::domain::Caller;
use crate::domain::language::Language;
use crate::domain::limits::RouteClass;
use crate::error::ApiError;
use crate::repo::users::Profile;
use crate::usecase::profile::{self, ProfileChange};
use crate::usecase::{delete_photos, limits};

fn me(p: Profile) -> Me {
    Me {
        subject: p.subject,
        display_name: p.display_name,
        language: p.language.code().into(),
        languages: Language::ALL.iter().map(|l| l.code().to_string()).collect(),
        created_at: p.created_at,
    }
}

/// GET /api/usage
pub async fn get_usage(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<UsageBody>, ApiError> {
    let r = limits::usage_report(&app, caller.user_id).await?;
    let quota = |name: &str, limit: i64, used: i64, resets_at| QuotaBody {
        name: name.into(),
        limit,
        used,
        left: (limit - used).max(0),
        resets_at,
    };
    let day = Some(r.day_resets_at);
    Ok(Json(UsageBody {
        month: r.budget.period(),
        tier: r.budget.tier.as_str().into(),
        total_cost_usd: r.calls.iter().map(|c| c.cost_usd).sum(),
        ai: r
            .calls
            .into_iter()
            .map(|c| AiUsage {
                kind: c.purpose,
                calls: c.calls,
                failed_calls: c.failed,
                input_tokens: c.input_tokens,
                output_tokens: c.output_tokens,
                images: c.images,
                cost_usd: c.cost_usd,
            })
            .collect(),
        budget: BudgetBody {
            monthly_usd: r.budget.limit_usd,
            spent_usd: r.budget.spent_usd,
            left_usd: (r.budget.limit_usd - r.budget.spent_usd).max(0.0),
            state: r.budget.state().into(),
            resets_at: r.budget.resets_at,
        },
        quotas: vec![
            quota(
                "photos_organised_per_day",
                i64::from(r.limits.photos_per_day),
                r.photos_today,
                day,
            ),
            quota(
                "generations_per_day",
                i64::from(r.limits.generations_per_day),
                r.generations_today,
                day,
            ),
            quota(
                "storage_bytes",
                i64::try_from(r.limits.storage_bytes).unwrap_or(i64::MAX),
                r.stored_bytes,
                None,
            ),
        ],
        rate_limits: [RouteClass::Read, RouteClass::Write, RouteClass::Ai]
            .into_iter()
            .map(|class| RateLimitBody {
                class: class.as_str().into(),
                per_minute: r.limits.per_minute(class),
            })
            .collect(),
        notifications: r
            .notifications
            .into_iter()
            .map(|(kind, message, created_at)| NotificationBody {
                kind,
                message,
                created_at,
            })
            .collect(),
    }))
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
