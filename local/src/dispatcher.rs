//! The local stand-in for the job queue: each job is delivered to POST /api/jobs/process
//! as a Standard-Webhooks-signed request, retried with backoff like a push queue (a 503's
//! `Retry-After` sets the next wait). The same message id is kept on every attempt.

use std::time::Duration;

use async_trait::async_trait;
use momentarium_shared::adapter::queue::{JobMessage, JobQueue, SignedMessage};
use momentarium_shared::adapter::standard_webhooks::WebhookSecret;

#[derive(Clone)]
pub struct LocalDispatcher {
    http: reqwest::Client,
    url: String,
    secret: WebhookSecret,
    max_attempts: u32,
}

impl LocalDispatcher {
    pub fn new(url: String, secret: WebhookSecret, max_attempts: u32) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(600))
            .build()
            .unwrap_or_default();
        Self {
            http,
            url,
            secret,
            max_attempts: max_attempts.max(1),
        }
    }

    async fn deliver(&self, message: JobMessage) {
        let mut wait = Duration::from_secs(1);
        for attempt in 1..=self.max_attempts {
            let signed = SignedMessage::new(&self.secret, &message, chrono::Utc::now().timestamp());
            let request = self
                .http
                .post(&self.url)
                .header("content-type", "application/json");
            let request = signed
                .headers
                .pairs()
                .into_iter()
                .fold(request, |request, (name, value)| {
                    request.header(name, value)
                });
            let result = request.body(signed.body).send().await;
            match result {
                Ok(r) if r.status().is_success() => {
                    tracing::debug!(job_id = %message.job_id, status = r.status().as_u16(), "job delivered");
                    return;
                }
                Ok(r) if r.status().as_u16() == 503 || r.status().as_u16() == 429 => {
                    if let Some(secs) = r
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                    {
                        wait = Duration::from_secs(secs.min(60));
                    }
                    tracing::info!(job_id = %message.job_id, attempt, wait_s = wait.as_secs(), "job to be delivered again");
                }
                Ok(r) => {
                    tracing::error!(job_id = %message.job_id, status = r.status().as_u16(), "job delivery refused; not retrying");
                    return;
                }
                Err(e) => {
                    tracing::warn!(job_id = %message.job_id, attempt, error = %e, "job delivery failed")
                }
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(60));
        }
        tracing::error!(job_id = %message.job_id, "job not delivered after all attempts; the sweep will try again");
    }
}

#[async_trait]
impl JobQueue for LocalDispatcher {
    async fn enqueue(&self, message: &JobMessage) -> anyhow::Result<()> {
        let this = self.clone();
        let message = message.clone();
        tokio::spawn(async move { this.deliver(message).await });
        Ok(())
    }
}
