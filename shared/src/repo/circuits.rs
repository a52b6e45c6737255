//! Circuit breakers, one row per provider.

use deadpool_postgres::GenericClient;

/// What a caller may do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Call as usual.
    Closed,
    /// This caller makes the one trial call of a half-open circuit.
    Trial,
    /// Do not call: the circuit is open (or another caller's trial is under way) for
    /// about this many more seconds.
    Open { retry_after_secs: u32 },
}

/// Whether `name` may be called, taking the trial of a circuit whose cooldown has passed
/// (one statement: exactly one caller gets it).
pub async fn admit(
    client: &impl GenericClient,
    name: &str,
    cooldown_secs: f64,
) -> Result<Admission, tokio_postgres::Error> {
    let trial = client
        .prepare_cached(
            "UPDATE circuits SET state = 'half_open', trial_at = now(), updated_at = now() \
             WHERE name = $1 AND ( \
                 (state = 'open' AND opened_at + make_interval(secs => $2) <= now()) OR \
                 (state = 'half_open' AND trial_at + make_interval(secs => $2) <= now())) \
             RETURNING 1",
        )
        .await?;
    if client
        .query_opt(&trial, &[&name, &cooldown_secs])
        .await?
        .is_some()
    {
        return Ok(Admission::Trial);
    }
    let stmt = client
        .prepare_cached(
            "SELECT state, greatest(1, ceil(extract(epoch FROM \
                 coalesce(trial_at, opened_at) + make_interval(secs => $2) - now())))::integer \
             FROM circuits WHERE name = $1",
        )
        .await?;
    Ok(
        match client.query_opt(&stmt, &[&name, &cooldown_secs]).await? {
            Some(row) if row.get::<_, String>(0) != "closed" => Admission::Open {
                retry_after_secs: row.get::<_, i32>(1).max(1).unsigned_abs(),
            },
            _ => Admission::Closed,
        },
    )
}

/// What recording an outcome did to the circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    None,
    Opened,
    Closed,
}

/// Records a call's outcome: a success closes the circuit; a failure counts, and opens
/// it at `threshold` failures in a row, or at once after a failed trial.
pub async fn record(
    client: &impl GenericClient,
    name: &str,
    success: bool,
    threshold: i32,
    error: Option<&str>,
) -> Result<Change, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "WITH before AS (SELECT state FROM circuits WHERE name = $1 FOR UPDATE), \
             upsert AS ( \
                 INSERT INTO circuits AS c (name, state, failures, opened_at, last_error) \
                 VALUES ($1, CASE WHEN $2 OR $3 > 1 THEN 'closed' ELSE 'open' END, \
                         CASE WHEN $2 THEN 0 ELSE 1 END, \
                         CASE WHEN $2 OR $3 > 1 THEN NULL ELSE now() END, $4) \
                 ON CONFLICT (name) DO UPDATE SET \
                   failures = CASE WHEN $2 THEN 0 ELSE c.failures + 1 END, \
                   state = CASE WHEN $2 THEN 'closed' \
                                WHEN c.state = 'half_open' OR c.failures + 1 >= $3 THEN 'open' \
                                ELSE c.state END, \
                   opened_at = CASE WHEN $2 THEN NULL \
                                    WHEN c.state = 'half_open' OR (c.state = 'closed' AND c.failures + 1 >= $3) THEN now() \
                                    ELSE c.opened_at END, \
                   trial_at = CASE WHEN $2 THEN NULL ELSE c.trial_at END, \
                   last_error = coalesce($4, c.last_error), updated_at = now() \
                 RETURNING c.state) \
             SELECT (SELECT state FROM before), (SELECT state FROM upsert)",
        )
        .await?;
    let row = client
        .query_one(&stmt, &[&name, &success, &threshold, &error])
        .await?;
    let before: Option<String> = row.get(0);
    let after: String = row.get(1);
    let was_open = before.as_deref().is_some_and(|s| s != "closed");
    Ok(match (was_open, after.as_str()) {
        (false, "open") => Change::Opened,
        (true, "closed") => Change::Closed,
        // A failed trial: open again (it was already counted as open).
        _ => Change::None,
    })
}

/// The circuit's state (`closed` when it has never been used).
pub async fn state(
    client: &impl GenericClient,
    name: &str,
) -> Result<String, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached("SELECT state FROM circuits WHERE name = $1")
        .await?;
    Ok(client
        .query_opt(&stmt, &[&name])
        .await?
        .map_or_else(|| "closed".to_string(), |r| r.get(0)))
}

/// The circuits not closed now (open, or half-open with a trial under way).
pub async fn not_closed(client: &impl GenericClient) -> Result<Vec<String>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached("SELECT name FROM circuits WHERE state <> 'closed' ORDER BY name")
        .await?;
    Ok(client
        .query(&stmt, &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Seconds until the circuit lets a call through, when it is open (or a trial is under
/// way); `None` when a call may go now. Reads only: a request that will be queued asks
/// this, and the worker that runs it takes the trial.
pub async fn closed_for(
    client: &impl GenericClient,
    name: &str,
    cooldown_secs: f64,
) -> Result<Option<u32>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT greatest(1, ceil(extract(epoch FROM \
                 coalesce(trial_at, opened_at) + make_interval(secs => $2) - now())))::integer \
             FROM circuits WHERE name = $1 AND state <> 'closed' \
               AND coalesce(trial_at, opened_at) + make_interval(secs => $2) > now()",
        )
        .await?;
    Ok(client
        .query_opt(&stmt, &[&name, &cooldown_secs])
        .await?
        .map(|r| r.get::<_, i32>(0).max(1).unsigned_abs()))
}
