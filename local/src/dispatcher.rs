//! The local stand-in for the job queue: each job is delivered to POST /api/jobs/process
//! as a Standard-Webhooks-signed request, retried with backoff like a push queue (a 503's
//! `Retry-After` sets the next wait). The same message id is kept on every attempt.
//!
//! A few workers deliver, one job each at a time, from two lines: premium users' jobs
//! (high priority) are always taken before free users', as the second SQS queue and its
//! own event source mapping do on AWS.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use momentarium_shared::adapter::queue::{JobMessage, JobQueue, Priority, SignedMessage};
use momentarium_shared::adapter::standard_webhooks::WebhookSecret;
use tokio::sync::Notify;
use uuid::Uuid;

/// Jobs delivered at once by default.
pub const DEFAULT_WORKERS: usize = 4;

#[derive(Clone)]
pub struct LocalDispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    url: String,
    secret: WebhookSecret,
    max_attempts: u32,
    workers: usize,
    lines: Mutex<Lines>,
    ready: Notify,
}

#[derive(Default)]
struct Lines {
    high: VecDeque<Waiting>,
    normal: VecDeque<Waiting>,
    /// Jobs waiting in either line: the sweep's re-send of a job still waiting here is
    /// not queued twice.
    waiting: HashSet<Uuid>,
    started: bool,
}

#[derive(Clone)]
struct Waiting {
    message: JobMessage,
    priority: Priority,
    attempt: u32,
    wait: Duration,
}

/// What one delivery came to.
enum Delivered {
    Done,
    Again(Duration),
}

impl LocalDispatcher {
    pub fn new(url: String, secret: WebhookSecret, max_attempts: u32) -> Self {
        Self::with_workers(url, secret, max_attempts, DEFAULT_WORKERS)
    }

    pub fn with_workers(
        url: String,
        secret: WebhookSecret,
        max_attempts: u32,
        workers: usize,
    ) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(600))
            .build()
            .unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                http,
                url,
                secret,
                max_attempts: max_attempts.max(1),
                workers: workers.max(1),
                lines: Mutex::new(Lines::default()),
                ready: Notify::new(),
            }),
        }
    }

    fn push(&self, waiting: Waiting) {
        let start = {
            let Ok(mut lines) = self.inner.lines.lock() else {
                return;
            };
            if !lines.waiting.insert(waiting.message.job_id) {
                tracing::debug!(job_id = %waiting.message.job_id, "already waiting; not queued twice");
                return;
            }
            match waiting.priority {
                Priority::High => lines.high.push_back(waiting),
                Priority::Normal => lines.normal.push_back(waiting),
            }
            !std::mem::replace(&mut lines.started, true)
        };
        if start {
            for _ in 0..self.inner.workers {
                let this = self.clone();
                tokio::spawn(async move { this.work().await });
            }
        }
        self.inner.ready.notify_one();
    }

    /// The next job: the high line first.
    fn next(&self) -> Option<Waiting> {
        let mut lines = self.inner.lines.lock().ok()?;
        let next = lines
            .high
            .pop_front()
            .or_else(|| lines.normal.pop_front())?;
        lines.waiting.remove(&next.message.job_id);
        Some(next)
    }

    async fn work(self) {
        loop {
            match self.next() {
                Some(waiting) => self.deliver(waiting).await,
                None => self.inner.ready.notified().await,
            }
        }
    }

    async fn deliver(&self, mut waiting: Waiting) {
        let job_id = waiting.message.job_id;
        match self.deliver_once(&waiting).await {
            Delivered::Done => {}
            Delivered::Again(wait) if waiting.attempt < self.inner.max_attempts => {
                waiting.attempt += 1;
                waiting.wait = (wait * 2).min(Duration::from_secs(60));
                // The worker goes on with other jobs while this one waits its turn again.
                let this = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    this.push(waiting);
                });
            }
            Delivered::Again(_) => {
                tracing::error!(%job_id, "job not delivered after all attempts; the sweep will try again");
            }
        }
    }

    async fn deliver_once(&self, waiting: &Waiting) -> Delivered {
        let message = &waiting.message;
        let inner = &self.inner;
        let signed = SignedMessage::new(&inner.secret, message, chrono::Utc::now().timestamp());
        let request = inner
            .http
            .post(&inner.url)
            .header("content-type", "application/json");
        let request = signed
            .headers
            .pairs()
            .into_iter()
            .fold(request, |request, (name, value)| {
                request.header(name, value)
            });
        match request.body(signed.body).send().await {
            Ok(r) if r.status().is_success() => {
                tracing::debug!(job_id = %message.job_id, status = r.status().as_u16(), "job delivered");
                Delivered::Done
            }
            Ok(r) if r.status().as_u16() == 503 || r.status().as_u16() == 429 => {
                let wait = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .map_or(waiting.wait, |secs| Duration::from_secs(secs.min(60)));
                tracing::info!(job_id = %message.job_id, attempt = waiting.attempt, wait_s = wait.as_secs(), "job to be delivered again");
                Delivered::Again(wait)
            }
            Ok(r) => {
                tracing::error!(job_id = %message.job_id, status = r.status().as_u16(), "job delivery refused; not retrying");
                Delivered::Done
            }
            Err(e) => {
                tracing::warn!(job_id = %message.job_id, attempt = waiting.attempt, error = %e, "job delivery failed");
                Delivered::Again(waiting.wait)
            }
        }
    }
}

#[async_trait]
impl JobQueue for LocalDispatcher {
    async fn enqueue(&self, message: &JobMessage, priority: Priority) -> anyhow::Result<()> {
        self.push(Waiting {
            message: message.clone(),
            priority,
            attempt: 1,
            wait: Duration::from_secs(1),
        });
        Ok(())
    }
}
