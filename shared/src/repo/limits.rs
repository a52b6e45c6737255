//! Limits: per-minute request counters, daily quotas, tiers and budgets, what a month's AI
//! calls cost, and the notifications a budget sends.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::domain::limits::Tier;

/// What counting a request found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// No user has the subject yet.
    UnknownUser,
    /// Counted: the minute's count with this request, and the limit.
    Within {
        user_id: Uuid,
        used: i32,
        limit: i32,
    },
    /// Over the limit: not counted.
    Over { user_id: Uuid, limit: i32 },
}

/// Finds the user by their identity provider's `sub` and counts one request of `class`
/// in the minute `window` against their tier's limit, in one statement — the read every
/// request makes anyway, with the count folded in. Correct under concurrency: the
/// counter's row is locked while it counts, and a request over the limit is not counted.
pub async fn identify_and_count(
    client: &impl GenericClient,
    subject: &str,
    class: &str,
    window: DateTime<Utc>,
    free_limit: i32,
    premium_limit: i32,
) -> Result<Counted, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "WITH u AS (SELECT id, CASE tier WHEN 'premium' THEN $5::integer ELSE $4::integer END AS l \
                        FROM users WHERE subject = $1), \
                  counted AS (INSERT INTO rate_windows AS w (user_id, class, window_start, used) \
                        SELECT id, $2, $3, 1 FROM u WHERE l >= 1 \
                        ON CONFLICT (user_id, class, window_start) DO UPDATE SET used = w.used + 1 \
                        WHERE w.used < (SELECT l FROM u) \
                        RETURNING used) \
             SELECT u.id, u.l, (SELECT used FROM counted) FROM u",
        )
        .await?;
    let row = client
        .query_opt(
            &stmt,
            &[&subject, &class, &window, &free_limit, &premium_limit],
        )
        .await?;
    Ok(match row {
        None => Counted::UnknownUser,
        Some(r) => match r.get::<_, Option<i32>>(2) {
            Some(used) => Counted::Within {
                user_id: r.get(0),
                used,
                limit: r.get(1),
            },
            None => Counted::Over {
                user_id: r.get(0),
                limit: r.get(1),
            },
        },
    })
}

/// Takes `amount` of the daily quota `name` (period starting `period`), unless fewer are
/// left: one statement; two requests at once cannot both take the last unit. Returns the
/// amount used with this one, or `None` when it would pass the limit.
#[allow(clippy::too_many_arguments)]
pub async fn take_quota(
    client: &impl GenericClient,
    user_id: Uuid,
    name: &str,
    period: DateTime<Utc>,
    amount: i64,
    free_limit: i64,
    premium_limit: i64,
) -> Result<Option<i64>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "WITH lim AS (SELECT CASE tier WHEN 'premium' THEN $6::bigint ELSE $5::bigint END AS l \
                          FROM users WHERE id = $1) \
             INSERT INTO quota_usage AS q (user_id, name, period_start, used) \
             SELECT $1, $2, $3, $4 FROM lim WHERE $4 <= lim.l \
             ON CONFLICT (user_id, name, period_start) DO UPDATE SET used = q.used + EXCLUDED.used \
             WHERE q.used + EXCLUDED.used <= (SELECT l FROM lim) \
             RETURNING used",
        )
        .await?;
    Ok(client
        .query_opt(
            &stmt,
            &[
                &user_id,
                &name,
                &period,
                &amount,
                &free_limit,
                &premium_limit,
            ],
        )
        .await?
        .map(|r| r.get(0)))
}

pub async fn quota_used(
    client: &impl GenericClient,
    user_id: Uuid,
    name: &str,
    period: DateTime<Utc>,
) -> Result<i64, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT used FROM quota_usage WHERE user_id = $1 AND name = $2 AND period_start = $3",
        )
        .await?;
    Ok(client
        .query_opt(&stmt, &[&user_id, &name, &period])
        .await?
        .map_or(0, |r| r.get(0)))
}

/// The user's tier and budget override.
pub async fn tier(
    client: &impl GenericClient,
    user_id: Uuid,
) -> Result<(Tier, Option<f64>), tokio_postgres::Error> {
    tier_of(client, user_id, "").await
}

/// The same, holding the user's row until the transaction ends (`FOR NO KEY UPDATE`:
/// other such holders wait; foreign-key checks of their rows do not).
pub async fn lock_tier(
    client: &impl GenericClient,
    user_id: Uuid,
) -> Result<(Tier, Option<f64>), tokio_postgres::Error> {
    tier_of(client, user_id, " FOR NO KEY UPDATE").await
}

async fn tier_of(
    client: &impl GenericClient,
    user_id: Uuid,
    lock: &str,
) -> Result<(Tier, Option<f64>), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT tier, monthly_budget_usd::float8 FROM users WHERE id = $1{lock}"
        ))
        .await?;
    Ok(client
        .query_opt(&stmt, &[&user_id])
        .await?
        .map_or((Tier::Free, None), |r| {
            (Tier::parse(r.get(0)).unwrap_or_default(), r.get(1))
        }))
}

/// Sets a user's tier (and, when given, their budget override: `Some(None)` clears it).
/// `None` when no user has the subject.
pub async fn set_tier(
    client: &impl GenericClient,
    subject: &str,
    tier: Tier,
    budget: Option<Option<f64>>,
) -> Result<Option<(Tier, Option<f64>)>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE users SET tier = $2, \
                 monthly_budget_usd = CASE WHEN $3 THEN $4::float8::numeric(12, 2) ELSE monthly_budget_usd END \
             WHERE subject = $1 RETURNING tier, monthly_budget_usd::float8",
        )
        .await?;
    let set_budget = budget.is_some();
    let value = budget.flatten();
    let set = client
        .query_opt(&stmt, &[&subject, &tier.as_str(), &set_budget, &value])
        .await?
        .map(|r| (Tier::parse(r.get(0)).unwrap_or_default(), r.get(1)));
    // A new budget is told about anew: this month's 80 % and 100 % notices were about the
    // old one.
    let renew = client
        .prepare_cached(
            "DELETE FROM notifications WHERE user_id = (SELECT id FROM users WHERE subject = $1) \
             AND period = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM')",
        )
        .await?;
    client.execute(&renew, &[&subject]).await?;
    Ok(set)
}

/// What the user's AI calls since `since` cost, in dollars.
pub async fn spent_since(
    client: &impl GenericClient,
    user_id: Uuid,
    since: DateTime<Utc>,
) -> Result<f64, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT coalesce(sum(cost_usd), 0)::float8 FROM ai_calls \
             WHERE user_id = $1 AND created_at >= $2",
        )
        .await?;
    Ok(client.query_one(&stmt, &[&user_id, &since]).await?.get(0))
}

/// The user's AI calls since `since`, by purpose.
#[derive(Debug, Clone)]
pub struct CallSums {
    pub purpose: String,
    pub calls: i64,
    pub failed: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub images: i64,
    pub cost_usd: f64,
}

pub async fn calls_since(
    client: &impl GenericClient,
    user_id: Uuid,
    since: DateTime<Utc>,
) -> Result<Vec<CallSums>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT purpose, count(*), count(*) FILTER (WHERE NOT ok), \
                 coalesce(sum(input_tokens), 0)::bigint, coalesce(sum(output_tokens), 0)::bigint, \
                 coalesce(sum(images), 0)::bigint, coalesce(sum(cost_usd), 0)::float8 \
             FROM ai_calls WHERE user_id = $1 AND created_at >= $2 \
             GROUP BY purpose ORDER BY purpose",
        )
        .await?;
    Ok(client
        .query(&stmt, &[&user_id, &since])
        .await?
        .iter()
        .map(|r| CallSums {
            purpose: r.get(0),
            calls: r.get(1),
            failed: r.get(2),
            input_tokens: r.get(3),
            output_tokens: r.get(4),
            images: r.get(5),
            cost_usd: r.get(6),
        })
        .collect())
}

/// Bytes the user's photos take (uploaded ones, and those promised by upload URLs).
pub async fn stored_bytes(
    client: &impl GenericClient,
    user_id: Uuid,
) -> Result<i64, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT coalesce(sum(coalesce(size_bytes, declared_size)), 0)::bigint FROM images \
             WHERE user_id = $1 AND status <> 'rejected'",
        )
        .await?;
    Ok(client.query_one(&stmt, &[&user_id]).await?.get(0))
}

/// Records a notification once per `period`; true when this call recorded it.
pub async fn notify(
    client: &impl GenericClient,
    user_id: Uuid,
    kind: &str,
    period: &str,
    message: &str,
) -> Result<bool, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO notifications (user_id, kind, period, message) VALUES ($1, $2, $3, $4) \
             ON CONFLICT ON CONSTRAINT notifications_once DO NOTHING",
        )
        .await?;
    Ok(client
        .execute(&stmt, &[&user_id, &kind, &period, &message])
        .await?
        == 1)
}

/// The user's notifications of `period`, oldest first.
pub async fn notifications(
    client: &impl GenericClient,
    user_id: Uuid,
    period: &str,
) -> Result<Vec<(String, String, DateTime<Utc>)>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT kind, message, created_at FROM notifications \
             WHERE user_id = $1 AND period = $2 ORDER BY created_at, id",
        )
        .await?;
    Ok(client
        .query(&stmt, &[&user_id, &period])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// Forgets per-minute counters of minutes before `before`.
pub async fn forget_windows(
    client: &impl GenericClient,
    before: DateTime<Utc>,
) -> Result<u64, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached("DELETE FROM rate_windows WHERE window_start < $1")
        .await?;
    client.execute(&stmt, &[&before]).await
}
