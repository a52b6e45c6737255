//! A small client for Momentarium's HTTP API, used by `organize` exactly as any other
//! client would use it.

use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

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

    async fn read(response: reqwest::Response) -> anyhow::Result<Value> {
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status >= 400 {
            return Err(ApiFailure {
                status,
                code: body["error"]["code"]
                    .as_str()
                    .unwrap_or("unknown")
                    .to_string(),
                message: body["error"]["message"]
                    .as_str()
                    .unwrap_or("the server gave no reason")
                    .to_string(),
                details: body["error"]["details"].clone(),
            }
            .into());
        }
        Ok(body)
    }

    pub async fn post(
        &self,
        path: &str,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> anyhow::Result<Value> {
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

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        Self::read(response).await
    }

    /// PUTs bytes to a presigned upload with exactly the headers it was signed for.
    pub async fn put(&self, ticket: &Value, bytes: Vec<u8>) -> anyhow::Result<()> {
        let url = ticket["url"]
            .as_str()
            .context("upload ticket without url")?;
        let mut request = self.http.put(url).timeout(Duration::from_secs(300));
        if let Some(headers) = ticket["headers"].as_object() {
            for (name, value) in headers {
                // reqwest sets Content-Length from the body itself.
                if name != "content-length"
                    && let Some(v) = value.as_str()
                {
                    request = request.header(name.as_str(), v);
                }
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
    ) -> anyhow::Result<Vec<Value>> {
        let files: Vec<Value> = files
            .iter()
            .map(|(name, ct, size)| json!({"filename": name, "contentType": ct, "size": size}))
            .collect();
        let body = self
            .post("/api/uploads/generate-urls", &json!({"files": files}), None)
            .await?;
        Ok(body["uploads"].as_array().cloned().unwrap_or_default())
    }
}
