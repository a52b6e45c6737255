//! Gemini text embeddings (`batchEmbedContents`): up to 100 texts a call, truncated to
//! 768 dimensions and normalised here (only the full 3,072 come normalised).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::adapter::gemini::{GeminiError, classify_error};
use crate::domain::embedding::{
    DIMENSIONS, EmbedError, EmbedTask, Embedder, Embeddings, MAX_BATCH, estimated_tokens,
    normalised,
};

pub struct GeminiEmbedder {
    http: reqwest::Client,
    api_key: SecretString,
    base_url: String,
    model: String,
}

impl GeminiEmbedder {
    pub fn new(api_key: SecretString, base_url: &str, model: &str) -> Option<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .ok()?;
        Some(Self {
            http,
            api_key,
            base_url: base_url.trim_end_matches('/').to_string(),
            model: model.to_string(),
        })
    }
}

/// The request body: one `EmbedContentRequest` per text, each naming the model.
pub fn request_body(model: &str, texts: &[String], task: EmbedTask) -> Value {
    let requests: Vec<Value> = texts
        .iter()
        .map(|t| {
            json!({
                "model": format!("models/{model}"),
                "content": {"parts": [{"text": t}]},
                "taskType": task.as_str(),
                "outputDimensionality": DIMENSIONS,
            })
        })
        .collect();
    json!({ "requests": requests })
}

/// Reads `{"embeddings": [{"values": […]}, …]}`: exactly one usable vector per text.
pub fn parse_response(body: &[u8], expected: usize) -> Result<Vec<Vec<f32>>, EmbedError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| EmbedError::Unusable("the answer is not JSON".into()))?;
    let list = v["embeddings"]
        .as_array()
        .ok_or_else(|| EmbedError::Unusable("the answer has no embeddings".into()))?;
    if list.len() != expected {
        return Err(EmbedError::Unusable(format!(
            "{} embeddings for {expected} texts",
            list.len()
        )));
    }
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            let values: Vec<f32> = e["values"]
                .as_array()
                .ok_or_else(|| EmbedError::Unusable(format!("embedding {i} has no values")))?
                .iter()
                .map(|x| x.as_f64().map(|x| x as f32))
                .collect::<Option<Vec<f32>>>()
                .ok_or_else(|| EmbedError::Unusable(format!("embedding {i} is not numbers")))?;
            // A longer vector (the full 3,072) is truncated as the API would.
            let values = if values.len() > DIMENSIONS {
                values[..DIMENSIONS].to_vec()
            } else {
                values
            };
            normalised(values).ok_or_else(|| {
                EmbedError::Unusable(format!(
                    "embedding {i} is not {DIMENSIONS} finite numbers of some length"
                ))
            })
        })
        .collect()
}

#[async_trait::async_trait]
impl Embedder for GeminiEmbedder {
    fn model(&self) -> &str {
        &self.model
    }

    #[tracing::instrument(skip_all, fields(model = %self.model, texts = texts.len(), task = task.as_str()))]
    async fn embed(
        &self,
        texts: &[String],
        task: EmbedTask,
        timeout: Duration,
    ) -> Result<Embeddings, EmbedError> {
        if texts.is_empty() || texts.len() > MAX_BATCH {
            return Err(EmbedError::Refused(format!(
                "{} texts: 1 to {MAX_BATCH} a call",
                texts.len()
            )));
        }
        let url = format!(
            "{}/v1beta/models/{}:batchEmbedContents",
            self.base_url, self.model
        );
        let response = self
            .http
            .post(url)
            .header("x-goog-api-key", self.api_key.expose_secret())
            .json(&request_body(&self.model, texts, task))
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| {
                EmbedError::Unavailable(if e.is_timeout() {
                    format!("no answer within {} ms", timeout.as_millis())
                } else {
                    "the connection failed".into()
                })
            })?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|_| EmbedError::Unavailable("the answer was cut off".into()))?;
        if status != 200 {
            return Err(match classify_error(status, &body) {
                GeminiError::Unavailable { reason, .. } => EmbedError::Unavailable(reason),
                GeminiError::Refused { reason } | GeminiError::Unusable { reason } => {
                    EmbedError::Refused(reason)
                }
            });
        }
        let vectors = parse_response(&body, texts.len())?;
        Ok(Embeddings {
            vectors,
            input_tokens: estimated_tokens(texts),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_answers_are_refused() {
        let one = |n: usize, x: f64| json!({"values": vec![x; n]});
        let ok = json!({"embeddings": [one(768, 0.5), one(3072, 1.0)]}).to_string();
        let v = parse_response(ok.as_bytes(), 2).unwrap();
        assert_eq!(v.len(), 2);
        assert!(v.iter().all(|e| e.len() == DIMENSIONS));
        let norm: f32 = v[1].iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        for (body, n) in [
            ("not json".to_string(), 1),
            (json!({"embeddings": [one(768, 0.5)]}).to_string(), 2),
            (json!({"embeddings": [one(12, 0.5)]}).to_string(), 1),
            (json!({"embeddings": [one(768, 0.0)]}).to_string(), 1),
            (json!({"embeddings": [{"values": ["a"]}]}).to_string(), 1),
            (json!({}).to_string(), 1),
        ] {
            assert!(
                matches!(
                    parse_response(body.as_bytes(), n),
                    Err(EmbedError::Unusable(_))
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn every_request_names_its_model_and_size() {
        let body = request_body("gemini-embedding-001", &["a".into()], EmbedTask::Query);
        let r = &body["requests"][0];
        assert_eq!(r["model"], "models/gemini-embedding-001");
        assert_eq!(r["taskType"], "RETRIEVAL_QUERY");
        assert_eq!(r["outputDimensionality"], 768);
        assert_eq!(r["content"]["parts"][0]["text"], "a");
    }
}
