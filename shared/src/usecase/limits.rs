//! Limits, enforced in the API (HTTP APIs have no per-user usage plans): requests per
//! minute by route class, photos organised and pictures made per day, bytes stored, and a
//! monthly AI budget — with the tier's numbers, and notifications at 80 % and 100 %.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use deadpool_postgres::GenericClient;

use crate::adapter::postgres::{self as db, DbError};
use crate::app::App;
use crate::domain::Caller;
use crate::domain::limits::{self, RouteClass, Tier, TierLimits};
use crate::error::ApiError;
use crate::repo::limits as repo;
use crate::usecase::identify_caller::identify_caller;

/// Where a caller stands against the per-minute limit of a route class: what the
/// `RateLimit` and `RateLimit-Policy` headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    pub class: RouteClass,
    pub limit: u32,
    pub remaining: u32,
    pub reset_secs: u64,
}

impl RateState {
    /// `"read";q=1200;w=60`
    pub fn policy(&self) -> String {
        format!("\"{}\";q={};w=60", self.class.as_str(), self.limit)
    }

    /// `"read";r=1187;t=42`
    pub fn current(&self) -> String {
        format!(
            "\"{}\";r={};t={}",
            self.class.as_str(),
            self.remaining,
            self.reset_secs
        )
    }
}

/// Who is calling (the user for a verified `subject`, created on first sight), with this
/// request counted against its class's per-minute limit: one statement on the hot path,
/// the user lookup every request makes with the count folded in. Over the limit: 429
/// naming the limit and when it resets, with the state for the headers.
pub async fn identify_and_count(
    app: &App,
    subject: String,
    class: RouteClass,
) -> Result<(Caller, Option<RateState>), (ApiError, Option<RateState>)> {
    if !app.config.usage.rate_limits {
        let caller = identify_caller(app, subject).await.map_err(|e| (e, None))?;
        return Ok((caller, None));
    }
    let now = Utc::now();
    let window = limits::minute_start(now);
    let reset_secs = limits::secs_until(now, window + chrono::Duration::seconds(60));
    let (free, premium) = tier_limits(app);
    let (free_l, premium_l) = (
        i32::try_from(free.per_minute(class)).unwrap_or(i32::MAX),
        i32::try_from(premium.per_minute(class)).unwrap_or(i32::MAX),
    );
    let count = |subject: String| async move {
        db::with_client(&app.pool, |client| {
            let subject = subject.clone();
            async move {
                repo::identify_and_count(
                    &client,
                    &subject,
                    class.as_str(),
                    window,
                    free_l,
                    premium_l,
                )
                .await
            }
        })
        .await
        .map_err(|e| (ApiError::from(e), None))
    };
    let mut counted = count(subject.clone()).await?;
    if counted == repo::Counted::UnknownUser {
        // First sight: the user is made, then counted like any other.
        identify_caller(app, subject.clone())
            .await
            .map_err(|e| (e, None))?;
        counted = count(subject.clone()).await?;
    }
    match counted {
        repo::Counted::Within {
            user_id,
            used,
            limit,
        } => {
            let limit = limit.unsigned_abs();
            Ok((
                Caller { user_id, subject },
                Some(RateState {
                    class,
                    limit,
                    remaining: limit.saturating_sub(used.unsigned_abs()),
                    reset_secs,
                }),
            ))
        }
        repo::Counted::Over { limit, user_id } => {
            let limit = limit.unsigned_abs();
            let (tier, _) = user_tier(app, user_id)
                .await
                .map_err(|e| (e.into(), None))?;
            let state = RateState {
                class,
                limit,
                remaining: 0,
                reset_secs,
            };
            tracing::info!(class = class.as_str(), limit, "rate limit reached");
            Err((
                ApiError::TooManyRequests {
                    code: "rate_limited",
                    message: format!(
                        "Too many requests: the {} tier allows {limit} {} requests a minute. Try again in {reset_secs} s.",
                        tier.as_str(),
                        class.as_str()
                    ),
                    retry_after_secs: reset_secs,
                    details: Some(json!({
                        "limit": format!("{}_per_minute", class.as_str()),
                        "quota": limit,
                        "resetsAt": window + chrono::Duration::seconds(60),
                    })),
                },
                Some(state),
            ))
        }
        repo::Counted::UnknownUser => Err((
            ApiError::internal(anyhow::anyhow!("a user just made was not found")),
            None,
        )),
    }
}

fn tier_limits(app: &App) -> (TierLimits, TierLimits) {
    let tiers = &app.config.usage.tiers;
    (tiers.of(Tier::Free), tiers.of(Tier::Premium))
}

async fn user_tier(app: &App, user_id: Uuid) -> Result<(Tier, Option<f64>), DbError> {
    db::with_client(&app.pool, |client| async move {
        repo::tier(&client, user_id).await
    })
    .await
}

/// A daily quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    PhotosOrganised,
    Generations,
}

impl Quota {
    pub fn name(self) -> &'static str {
        match self {
            Self::PhotosOrganised => "photos_organised",
            Self::Generations => "generations",
        }
    }

    fn limit(self, l: &TierLimits) -> i64 {
        i64::from(match self {
            Self::PhotosOrganised => l.photos_per_day,
            Self::Generations => l.generations_per_day,
        })
    }

    fn what(self) -> &'static str {
        match self {
            Self::PhotosOrganised => "photos organised",
            Self::Generations => "pictures made",
        }
    }
}

/// Takes `amount` of today's `quota` (UTC days) inside the transaction that makes the
/// work (a rollback gives it back), or answers 429 saying how much is left and when the
/// day turns.
pub async fn take_quota(
    app: &App,
    client: &impl GenericClient,
    user_id: Uuid,
    quota: Quota,
    amount: i64,
) -> Result<(), ApiError> {
    let now = Utc::now();
    let period = limits::day_start(now);
    let (free, premium) = tier_limits(app);
    let (free_l, premium_l) = (quota.limit(&free), quota.limit(&premium));
    let taken = repo::take_quota(
        client,
        user_id,
        quota.name(),
        period,
        amount,
        free_l,
        premium_l,
    )
    .await
    .map_err(DbError::from)?;
    if taken.is_some() {
        return Ok(());
    }
    // On the transaction's own connection: a second from the pool while this one waits
    // could run the pool dry under a burst.
    let (tier, _) = repo::tier(client, user_id).await.map_err(DbError::from)?;
    let limit = quota.limit(&app.config.usage.tiers.of(tier));
    let used = repo::quota_used(client, user_id, quota.name(), period)
        .await
        .map_err(DbError::from)?;
    let resets = period + chrono::Duration::days(1);
    let retry = limits::secs_until(now, resets);
    Err(ApiError::TooManyRequests {
        code: "quota_exceeded",
        message: format!(
            "Today's {} quota is used: {used} of {limit} on the {} tier, and this asks for {amount}. It resets at midnight UTC, in {} h {} min.",
            quota.what(),
            tier.as_str(),
            retry / 3600,
            (retry % 3600) / 60
        ),
        retry_after_secs: retry,
        details: Some(json!({
            "limit": format!("{}_per_day", quota.name()),
            "quota": limit,
            "used": used,
            "requested": amount,
            "resetsAt": resets,
        })),
    })
}

/// Refuses uploads that would take the user past their tier's storage (bytes of photos
/// uploaded or promised). Call in the transaction that records the new uploads: it holds
/// the user's row, so two requests at once are checked one after the other.
pub async fn check_storage(
    app: &App,
    client: &impl GenericClient,
    user_id: Uuid,
    adding: i64,
) -> Result<(), ApiError> {
    let (tier, _) = repo::lock_tier(client, user_id)
        .await
        .map_err(DbError::from)?;
    let limit = i64::try_from(app.config.usage.tiers.of(tier).storage_bytes).unwrap_or(i64::MAX);
    let used = repo::stored_bytes(client, user_id)
        .await
        .map_err(DbError::from)?;
    if used.saturating_add(adding) <= limit {
        return Ok(());
    }
    Err(ApiError::TooManyRequests {
        code: "quota_exceeded",
        message: format!(
            "Your photos take {:.1} MB of the {:.1} MB the {} tier stores; these {:.1} MB do not fit. Delete photos to make room.",
            used as f64 / 1e6,
            limit as f64 / 1e6,
            tier.as_str(),
            adding as f64 / 1e6
        ),
        // Storage does not reset with time; a client may ask again after deleting.
        retry_after_secs: 3600,
        details: Some(json!({
            "limit": "storage_bytes",
            "quota": limit,
            "used": used,
            "requested": adding,
            "resetsAt": null,
        })),
    })
}

/// A user's monthly AI budget and what this month has cost so far.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub tier: Tier,
    pub limit_usd: f64,
    pub spent_usd: f64,
    pub month_start: DateTime<Utc>,
    pub resets_at: DateTime<Utc>,
}

impl Budget {
    pub fn exhausted(&self) -> bool {
        self.spent_usd >= self.limit_usd
    }

    /// `ok`, `warning` (80 % or more) or `exhausted`.
    pub fn state(&self) -> &'static str {
        if self.exhausted() {
            "exhausted"
        } else if self.spent_usd >= 0.8 * self.limit_usd {
            "warning"
        } else {
            "ok"
        }
    }

    pub fn period(&self) -> String {
        self.month_start.format("%Y-%m").to_string()
    }
}

pub async fn budget(app: &App, user_id: Uuid) -> Result<Budget, DbError> {
    let now = Utc::now();
    let month_start = limits::month_start(now);
    let (tier, own) = user_tier(app, user_id).await?;
    let spent = db::with_client(&app.pool, |client| async move {
        repo::spent_since(&client, user_id, month_start).await
    })
    .await?;
    Ok(Budget {
        tier,
        limit_usd: own.unwrap_or(app.config.usage.tiers.of(tier).monthly_budget_usd),
        spent_usd: spent,
        month_start,
        resets_at: limits::next_month(now),
    })
}

/// 429 when the month's AI budget is used up: until the month turns or it is raised.
pub async fn ensure_budget_left(app: &App, user_id: Uuid) -> Result<(), ApiError> {
    let b = budget(app, user_id).await?;
    if !b.exhausted() {
        return Ok(());
    }
    let retry = limits::secs_until(Utc::now(), b.resets_at);
    Err(ApiError::TooManyRequests {
        code: "budget_exhausted",
        message: format!(
            "This month's AI budget is used: {} of {}. It renews on {} (UTC), or when it is raised.",
            usd(b.spent_usd),
            usd(b.limit_usd),
            b.resets_at.format("%-d %B %Y")
        ),
        retry_after_secs: retry,
        details: Some(json!({
            "limit": "monthly_budget_usd",
            "quota": b.limit_usd,
            "used": b.spent_usd,
            "resetsAt": b.resets_at,
        })),
    })
}

/// After a call was recorded: at 80 % and at 100 % of the budget the person is told, once
/// a month each (stored, logged, and published to the alert topic where there is one).
pub async fn after_call(app: &App, user_id: Uuid) -> Result<(), DbError> {
    let b = budget(app, user_id).await?;
    let (kind, message) = match b.state() {
        "exhausted" => (
            "budget_exhausted",
            format!(
                "This month's AI budget of {} is used ({}). Organising continues without the model and pictures cannot be made until {}.",
                usd(b.limit_usd),
                usd(b.spent_usd),
                b.resets_at.format("%-d %B %Y")
            ),
        ),
        "warning" => (
            "budget_warning",
            format!(
                "80 % of this month's AI budget is used: {} of {}.",
                usd(b.spent_usd),
                usd(b.limit_usd)
            ),
        ),
        _ => return Ok(()),
    };
    let period = b.period();
    let mut kinds = vec![kind];
    // Crossing both at once tells both.
    if kind == "budget_exhausted" {
        kinds.insert(0, "budget_warning");
    }
    for k in kinds {
        let text = if k == kind {
            message.clone()
        } else {
            format!(
                "80 % of this month's AI budget is used: {} of {}.",
                usd(b.spent_usd),
                usd(b.limit_usd)
            )
        };
        let recorded = db::with_client(&app.pool, |client| {
            let (period, text) = (period.clone(), text.clone());
            async move { repo::notify(&client, user_id, k, &period, &text).await }
        })
        .await?;
        if recorded {
            tracing::warn!(%user_id, kind = k, spent_usd = b.spent_usd, budget_usd = b.limit_usd, "budget notification");
            crate::adapter::alerts::publish(app, user_id, k, &text).await;
        }
    }
    Ok(())
}

/// Dollars as a person reads them: `$12.50`, `$0.50`, `$0.0387` (below a dollar, to a
/// hundredth of a cent where it matters).
pub fn usd(x: f64) -> String {
    let fine = (x * 1e4).round() / 1e4;
    if fine.abs() >= 1.0 {
        return format!("${x:.2}");
    }
    let mut s = format!("{fine:.4}");
    while s.ends_with('0') && s.len() > s.find('.').map_or(0, |dot| dot + 3) {
        s.pop();
    }
    format!("${s}")
}

/// Sets a user's tier, and their own budget when given (`Some(None)` goes back to the
/// tier's). For operators only: `momentarium user set-tier` and the admin function.
pub async fn set_tier(
    app: &App,
    subject: &str,
    tier: Tier,
    budget: Option<Option<f64>>,
) -> Result<(Tier, Option<f64>), ApiError> {
    if let Some(Some(b)) = budget
        && !(b.is_finite() && b >= 0.0)
    {
        return Err(ApiError::unprocessable(
            "invalid_budget",
            "A budget is a non-negative number of dollars.",
        ));
    }
    // A user who has not signed in yet gets the tier from their first request on.
    let set = db::with_client(&app.pool, |client| async move {
        crate::repo::users::ensure(&client, subject).await?;
        repo::set_tier(&client, subject, tier, budget).await
    })
    .await?
    .ok_or(ApiError::NotFound { what: "user" })?;
    tracing::info!(tier = tier.as_str(), budget = ?set.1, "tier set");
    Ok(set)
}

/// `GET /api/usage`: this month's AI calls, tokens and dollars by kind, the quotas and
/// the budget left, and the notifications of the month.
#[derive(Debug, Clone)]
pub struct UsageReport {
    pub budget: Budget,
    pub limits: TierLimits,
    pub calls: Vec<repo::CallSums>,
    pub photos_today: i64,
    pub generations_today: i64,
    pub stored_bytes: i64,
    pub day_resets_at: DateTime<Utc>,
    pub notifications: Vec<(String, String, DateTime<Utc>)>,
}

pub async fn usage_report(app: &App, user_id: Uuid) -> Result<UsageReport, ApiError> {
    let budget = budget(app, user_id).await?;
    let limits = app.config.usage.tiers.of(budget.tier);
    let day = limits::day_start(Utc::now());
    let (month, period) = (budget.month_start, budget.period());
    let (calls, photos, generations, stored, notes) = db::with_client(&app.pool, |client| {
        let period = period.clone();
        async move {
            Ok((
                repo::calls_since(&client, user_id, month).await?,
                repo::quota_used(&client, user_id, Quota::PhotosOrganised.name(), day).await?,
                repo::quota_used(&client, user_id, Quota::Generations.name(), day).await?,
                repo::stored_bytes(&client, user_id).await?,
                repo::notifications(&client, user_id, &period).await?,
            ))
        }
    })
    .await?;
    Ok(UsageReport {
        budget,
        limits,
        calls,
        photos_today: photos,
        generations_today: generations,
        stored_bytes: stored,
        day_resets_at: day + chrono::Duration::days(1),
        notifications: notes,
    })
}

#[cfg(test)]
mod tests {
    use super::usd;

    #[test]
    fn dollars_read_as_a_person_writes_them() {
        assert_eq!(usd(12.5), "$12.50");
        assert_eq!(usd(0.5), "$0.50");
        assert_eq!(usd(0.038706), "$0.0387");
        assert_eq!(usd(0.99996), "$1.00");
        assert_eq!(usd(0.00001), "$0.00");
        assert_eq!(usd(0.0), "$0.00");
    }
}
