//! `/api/jobs`, `/api/jobs/{jobId}/status` and `/api/jobs/{jobId}/events`: the caller's
//! jobs, and where one stands, read once or followed as it changes.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use uuid::Uuid;

use super::extract::{PageQuery, parse_id};
use crate::app::App;
use crate::contract::{JobList, JobStatusBody, ProcessAccepted};
use crate::domain::Caller;
use crate::domain::{JobKind, JobStatus};
use crate::error::ApiError;
use crate::repo::jobs::JobRow;
use crate::usecase::{cancel_job, read_job_status};

/// How often a followed job is read again: often just after a change (a job that moves
/// tends to move again: a small batch organised offline is done in well under a second),
/// then less often, up to the slowest pace. What a change can wait before it is pushed.
const FOLLOW_FASTEST: Duration = Duration::from_millis(25);
const FOLLOW_SLOWEST: Duration = Duration::from_millis(400);
/// How long one event stream stays open before the client is asked to reopen it.
const STREAM_FOR: Duration = Duration::from_secs(10 * 60);
/// What a client waits before reopening a stream that ended with the job unfinished
/// (behind API Gateway, after every event: polling, at the pace the status endpoint asks).
const REOPEN_AFTER: Duration = Duration::from_millis(2_500);

/// GET /api/jobs/{jobId}/status
pub async fn job_status(
    State(app): State<App>,
    caller: Caller,
    Path(job_id): Path<String>,
) -> Result<Json<JobStatusBody>, ApiError> {
    let job = read_job_status::job_status(&app, &caller, parse_id(&job_id, "job")?).await?;
    Ok(Json(status_body(job)))
}

/// POST /api/jobs/{jobId}/cancel: the job as it is now, cancelled.
pub async fn cancel(
    State(app): State<App>,
    caller: Caller,
    Path(job_id): Path<String>,
) -> Result<Json<JobStatusBody>, ApiError> {
    let job = cancel_job::cancel_job(&app, &caller, parse_id(&job_id, "job")?).await?;
    Ok(Json(status_body(job)))
}

/// POST /api/jobs/{jobId}/retry: 202 with the new job that organises the same photos.
pub async fn retry(
    State(app): State<App>,
    caller: Caller,
    Path(job_id): Path<String>,
) -> Result<(axum::http::StatusCode, Json<ProcessAccepted>), ApiError> {
    let accepted = cancel_job::retry_job(&app, &caller, parse_id(&job_id, "job")?).await?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(accepted.into())))
}

/// GET /api/jobs
pub async fn list_jobs(
    State(app): State<App>,
    caller: Caller,
    page: PageQuery,
) -> Result<Json<JobList>, ApiError> {
    let (rows, next_cursor) =
        read_job_status::list_jobs(&app, &caller, page.cursor.as_deref(), page.limit).await?;
    Ok(Json(JobList {
        jobs: rows.into_iter().map(status_body).collect(),
        next_cursor,
    }))
}

/// GET /api/jobs/{jobId}/events: server-sent events, one `status` event (the status
/// body) each time the job changes — queued, preparing, asking the model, writing,
/// completed or failed, attempts and the fallback reason included. Where the process can
/// hold a response open (`serve`) the stream follows the job to its end; behind API
/// Gateway it answers the current state once with `retry:`, and an EventSource-style
/// client reopens it: the same client code either way.
pub async fn job_events(
    State(app): State<App>,
    caller: Caller,
    Path(job_id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let job_id = parse_id(&job_id, "job")?;
    // An unknown job is a 404 before any stream starts.
    let first = read_job_status::job_status(&app, &caller, job_id).await?;
    let follow = app.live_events;
    let state = Follow {
        app,
        caller,
        job_id,
        pending: Some(status_body(first)),
        last: None,
        until: tokio::time::Instant::now() + STREAM_FOR,
        wait: FOLLOW_FASTEST,
        done: false,
        follow,
    };
    Ok(Sse::new(futures::stream::unfold(state, next_event)).keep_alive(KeepAlive::default()))
}

struct Follow {
    app: App,
    caller: Caller,
    job_id: Uuid,
    /// A state read but not yet sent.
    pending: Option<JobStatusBody>,
    /// The last state sent, as sent.
    last: Option<String>,
    until: tokio::time::Instant,
    /// The pause before the next read.
    wait: Duration,
    done: bool,
    follow: bool,
}

/// The next event of a followed job: its state when it differs from the last one sent.
async fn next_event(mut s: Follow) -> Option<(Result<Event, Infallible>, Follow)> {
    if s.done {
        return None;
    }
    loop {
        let body = match s.pending.take() {
            Some(body) => body,
            None => {
                if !s.follow || tokio::time::Instant::now() >= s.until {
                    s.done = true;
                    // Ask the client to come back: the job is not finished.
                    return Some((
                        Ok(Event::default().comment("reopen").retry(REOPEN_AFTER)),
                        s,
                    ));
                }
                tokio::time::sleep(s.wait).await;
                s.wait = (s.wait * 3 / 2).min(FOLLOW_SLOWEST);
                match read_job_status::job_status(&s.app, &s.caller, s.job_id).await {
                    Ok(job) => status_body(job),
                    Err(e) => {
                        // Gone (deleted) or the database away: say so and end; the client
                        // reopens and gets the status code.
                        tracing::warn!(job_id = %s.job_id, error = ?e, "following a job stopped");
                        s.done = true;
                        return Some((
                            Ok(Event::default().comment("unavailable").retry(REOPEN_AFTER)),
                            s,
                        ));
                    }
                }
            }
        };
        let json = serde_json::to_string(&body).unwrap_or_default();
        if s.last.as_deref() == Some(json.as_str()) {
            continue;
        }
        let finished = matches!(
            body.status,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled
        );
        s.last = Some(json.clone());
        s.done = finished;
        s.wait = FOLLOW_FASTEST;
        let mut event = Event::default().event("status").data(json);
        if !finished && !s.follow {
            event = event.retry(REOPEN_AFTER);
            s.done = true;
        }
        return Some((Ok(event), s));
    }
}

/// The status body of a job.
fn status_body(job: JobRow) -> JobStatusBody {
    JobStatusBody {
        job_id: job.id,
        kind: job.kind,
        status: job.status,
        gallery_id: job.gallery_id,
        image_count: job.image_ids.len(),
        image_ids: job.image_ids,
        attempts: job.attempts,
        created_at: job.created_at,
        started_at: job.started_at,
        completed_at: job.completed_at,
        error: job.error,
        result_url: match (job.status, job.kind, job.gallery_id) {
            (JobStatus::Completed, JobKind::Organise, Some(gallery)) => {
                Some(format!("/api/galleries/{gallery}"))
            }
            (JobStatus::Completed, JobKind::Generate, _) => {
                Some(format!("/api/generations/{}", job.id))
            }
            _ => None,
        },
        organizer: job.organizer,
        fallback_reason: job.fallback_reason,
        stage: job.stage,
    }
}
