//! Limits: per-minute request counters, daily quotas, tiers and budgets, what a month's AI
//! calls cost, and the notifications a budget sends.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::domain::limits::Tier;

/// Shards a user's minute of a class is cut into.
pub const RATE_SHARDS: i16 = 16;

/// Counts one request of `class` in the minute `window`, unless the user's tier allows no
/// more. On the hot path one statement: a unit from any shard with one left that no
/// concurrent request holds (`SKIP LOCKED`). The first request of a minute makes the
/// shards; when every shard with units is held at that instant, the request waits for
/// one. Correct under concurrency: a shard's row is locked while it counts, and the caps
/// add up to the limit. Returns the minute's count (as of this request) and the limit, or
/// `None` when over it.
pub async fn take_request(
    client: &impl GenericClient,
    user_id: Uuid,
    class: &str,
    window: DateTime<Utc>,
    free_limit: i32,
    premium_limit: i32,
) -> Result<Option<(i32, i32)>, tokio_postgres::Error> {
    let take = |lock: &'static str| {
        format!(
            "WITH pick AS (SELECT shard FROM rate_windows \
                 WHERE user_id = $1 AND class = $2 AND window_start = $3 AND used < cap \
                 ORDER BY random() LIMIT 1 FOR UPDATE {lock}) \
             UPDATE rate_windows w SET used = w.used + 1 FROM pick \
             WHERE w.user_id = $1 AND w.class = $2 AND w.window_start = $3 AND w.shard = pick.shard \
             RETURNING (SELECT sum(used)::integer + 1 FROM rate_windows \
                        WHERE user_id = $1 AND class = $2 AND window_start = $3), \
                       (SELECT sum(cap)::integer FROM rate_windows \
                        WHERE user_id = $1 AND class = $2 AND window_start = $3)"
        )
    };
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&user_id, &class, &window];
    let quick = client.prepare_cached(&take("SKIP LOCKED")).await?;
    if let Some(row) = client.query_opt(&quick, &params).await? {
        return Ok(Some((row.get(0), row.get(1))));
    }
    // The minute's shards, if this is its first request (a no-op otherwise).
    let make = client
        .prepare_cached(
            "INSERT INTO rate_windows (user_id, class, window_start, shard, cap, used) \
             SELECT $1, $2, $3, s, l / $6 + CASE WHEN s < l % $6 THEN 1 ELSE 0 END, 0 \
             FROM (SELECT CASE tier WHEN 'premium' THEN $5::integer ELSE $4::integer END AS l \
                   FROM users WHERE id = $1) lim, generate_series(0, $6 - 1) s \
             ON CONFLICT DO NOTHING",
        )
        .await?;
    client
        .execute(
            &make,
            &[
                &user_id,
                &class,
                &window,
                &free_limit,
                &premium_limit,
                &i32::from(RATE_SHARDS),
            ],
        )
        .await?;
    let patient = client.prepare_cached(&take("")).await?;
    Ok(client
        .query_opt(&patient, &params)
        .await?
        .map(|row| (row.get(0), row.get(1))))
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

/// Gives back what a request took and did not use (the job was not made).
pub async fn give_back_quota(
    client: &impl GenericClient,
    user_id: Uuid,
    name: &str,
    period: DateTime<Utc>,
    amount: i64,
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE quota_usage SET used = greatest(used - $4, 0) \
             WHERE user_id = $1 AND name = $2 AND period_start = $3",
        )
        .await?;
    client
        .execute(&stmt, &[&user_id, &name, &period, &amount])
        .await?;
    Ok(())
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
    let stmt = client
        .prepare_cached("SELECT tier, monthly_budget_usd::float8 FROM users WHERE id = $1")
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
    // The current minute's shards were cut for the old tier: made anew on the next request.
    let reset = client
        .prepare_cached(
            "DELETE FROM rate_windows WHERE user_id = (SELECT id FROM users WHERE subject = $1)",
        )
        .await?;
    client.execute(&reset, &[&subject]).await?;
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
