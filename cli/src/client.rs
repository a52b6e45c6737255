//! A small client for Momentarium's HTTP API, used by `organize` exactly as any other
//! client would use it.

use std::time::Duration;

use anyhow::{Context, bail};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use momentarium_shared::contract::{
    ErrorBody, FileRequest, JobStatusBody, UploadRequest, UploadResponse, UploadTicket,
};
use momentarium_shared::domain::JobStatus;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// An API error, with the server's code and sentence.
#[derive(Debug)]
pub struct ApiFailure {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub details: Value,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (HTTP {}, {})", self.message, self.status, self.code)
    }
}

impl std::error::Error for ApiFailure {}

impl ApiClient {
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap_or_default(),
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    /// Reads a contract body, or the contract's error shape as an [`ApiFailure`].
    async fn read<T: DeserializeOwned>(response: reqwest::Response) -> anyhow::Result<T> {
        let status = response.status().as_u16();
        let bytes = response.bytes().await.context("reading the answer")?;
        if status >= 400 {
            let failure = match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(body) => ApiFailure {
                    status,
                    code: body.error.code,
                    message: body.error.message,
                    details: body.error.details.unwrap_or(Value::Null),
                },
                Err(_) => ApiFailure {
                    status,
                    code: "unknown".into(),
                    message: "the server gave no reason".into(),
                    details: Value::Null,
                },
            };
            return Err(failure.into());
        }
        serde_json::from_slice(&bytes)
            .with_context(|| format!("the answer (HTTP {status}) is not the documented shape"))
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        idempotency_key: Option<&str>,
    ) -> anyhow::Result<T> {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        Self::read(response).await
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        Self::read(response).await
    }

    /// GET with query parameters (encoded here).
    pub async fn get_with<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> anyhow::Result<T> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .query(query)
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        Self::read(response).await
    }

    /// Follows a job through `GET /api/jobs/{jobId}/events`, calling `on_status` with each
    /// state pushed, until the job is completed, failed or cancelled; returns that last
    /// state. A stream that ends early (behind API Gateway after every event, or cut by a
    /// timeout) is reopened after the `retry:` the server asked for.
    pub async fn follow_job(
        &self,
        job: uuid::Uuid,
        mut on_status: impl FnMut(&JobStatusBody),
    ) -> anyhow::Result<JobStatusBody> {
        let path = format!("/api/jobs/{job}/events");
        let mut reopen_after = Duration::from_millis(2_500);
        loop {
            let response = self
                .http
                .get(format!("{}{path}", self.base))
                .bearer_auth(&self.token)
                .header("accept", "text/event-stream")
                .send()
                .await
                .with_context(|| format!("GET {path}"))?;
            if !response.status().is_success() {
                return Self::read(response).await;
            }
            let mut events = response.bytes_stream().eventsource();
            while let Some(event) = events.next().await {
                let Ok(event) = event else {
                    break; // cut short: reopen
                };
                if let Some(retry) = event.retry {
                    reopen_after = retry;
                }
                if event.event != "status" {
                    continue;
                }
                let status: JobStatusBody = serde_json::from_str(&event.data)
                    .context("a job event that is not the documented shape")?;
                on_status(&status);
                if matches!(
                    status.status,
                    JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled
                ) {
                    return Ok(status);
                }
            }
            tokio::time::sleep(reopen_after).await;
        }
    }

    /// The bytes at a presigned GET (a rendition the server made).
    pub async fn download(&self, url: &str) -> anyhow::Result<Vec<u8>> {
        let response = self
            .http
            .get(url)
            .timeout(Duration::from_secs(60))
            .send()
            .await?
            .error_for_status()?;
        Ok(response.bytes().await?.to_vec())
    }

    pub async fn put(&self, ticket: &UploadTicket, bytes: Vec<u8>) -> anyhow::Result<()> {
        let mut request = self.http.put(&ticket.url).timeout(Duration::from_secs(300));
        for (name, value) in &ticket.headers {
            // reqwest sets Content-Length from the body itself.
            if name != "content-length" {
                request = request.header(name.as_str(), value.as_str());
            }
        }
        let response = request
            .body(bytes)
            .send()
            .await
            .context("uploading a photo")?;
        if !response.status().is_success() {
            bail!(
                "the storage refused an upload (HTTP {}): {}",
                response.status().as_u16(),
                response
                    .text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect::<String>()
            );
        }
        Ok(())
    }

    pub async fn generate_urls(
        &self,
        files: &[(String, &'static str, u64)],
    ) -> anyhow::Result<Vec<UploadTicket>> {
        let request = UploadRequest {
            files: files
                .iter()
                .map(|(name, ct, size)| FileRequest {
                    filename: name.clone(),
                    content_type: ct.to_string(),
                    size: i64::try_from(*size).unwrap_or(i64::MAX),
                })
                .collect(),
        };
        let body: UploadResponse = self
            .post("/api/uploads/generate-urls", &request, None)
            .await?;
        Ok(body.uploads)
    }
}
