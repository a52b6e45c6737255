//! Google Gemini `generateContent` over reqwest: one request per job with every photo as
//! an `inline_data` part, structured output, and the error classes that decide retries.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::GeminiConfig;
use crate::domain::language::Language;
use crate::domain::organiser::{OrganiseError, Organised, Organiser, Request};
use crate::domain::plan;

/// One photo as the model sees it: its number, the prepared bytes, and what EXIF says.
#[derive(Debug, Clone)]
pub struct ModelPhoto {
    /// 1-based, as the prompt numbers them.
    pub number: usize,
    pub mime: &'static str,
    pub bytes: Vec<u8>,
    /// E.g. `taken 2025-05-10 09:40 (UTC+02:00) at 52.4559, 13.3063, Google Pixel 8`.
    pub context: String,
}

/// Tokens one call used (the domain's type: the organiser port sums them).
pub use crate::domain::organiser::Usage;

/// The model's answer: the JSON text it produced, and what it cost.
#[derive(Debug, Clone)]
pub struct ModelAnswer {
    pub text: String,
    pub usage: Usage,
    pub model_version: Option<String>,
    /// Calls made, retries included.
    pub calls: u32,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeminiError {
    /// Worth another try later: 429, 500, 503, 504, a timeout, a connection failure.
    #[error("the model is unavailable for now ({reason})")]
    Unavailable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Will not get better by retrying: 400, 403, 404, a quota for the day, a block.
    #[error("the model refused the request ({reason})")]
    Refused { reason: String },
    /// The answer ended for another reason than STOP, or carried no text.
    #[error("the model's answer was unusable ({reason})")]
    Unusable { reason: String },
}

impl GeminiError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

pub struct GeminiClient {
    http: reqwest::Client,
    api_key: SecretString,
    config: GeminiConfig,
}

const PROMPT: &str = "You are organising a person's batch of photos into a small gallery of themed albums.\n\
Look at every photo. Group them into albums by event, place, time and subject, so that each album tells one story \
(an outing, a meal, a walk on the beach). Prefer a few meaningful albums over many tiny ones; a single photo may be \
its own album only when it fits nowhere else. Put EVERY photo in EXACTLY ONE album, using the photo numbers given below.\n\
For each album write a creative, specific title (at most 60 characters, no quotes or emoji) and a one- or two-sentence \
description, and choose the photo that best represents it as its cover.\n\
For each photo write a short caption (one sentence, at most 120 characters) describing what is in it, and up to five \
lowercase one-word or two-word tags.\n\
The time and place beside a photo come from its EXIF data and may be missing; use them to tell outings apart.";

/// The structured-output schema (OpenAPI subset, `responseSchema`).
pub fn response_schema() -> Value {
    json!({
        "type": "OBJECT",
        "properties": {
            "albums": {
                "type": "ARRAY",
                "items": {
                    "type": "OBJECT",
                    "properties": {
                        "title": {"type": "STRING"},
                        "description": {"type": "STRING"},
                        "cover": {"type": "INTEGER"},
                        "photos": {"type": "ARRAY", "items": {"type": "INTEGER"}}
                    },
                    "required": ["title", "description", "cover", "photos"],
                    "propertyOrdering": ["title", "description", "cover", "photos"]
                }
            },
            "photos": {
                "type": "ARRAY",
                "items": {
                    "type": "OBJECT",
                    "properties": {
                        "photo": {"type": "INTEGER"},
                        "caption": {"type": "STRING"},
                        "tags": {"type": "ARRAY", "items": {"type": "STRING"}}
                    },
                    "required": ["photo", "caption", "tags"],
                    "propertyOrdering": ["photo", "caption", "tags"]
                }
            }
        },
        "required": ["albums", "photos"],
        "propertyOrdering": ["albums", "photos"]
    })
}

/// The request body for a batch.
pub fn request_body(photos: &[ModelPhoto], language: Language) -> Value {
    let mut parts = vec![json!({"text": format!(
        "{PROMPT}\nWrite every title, description, caption and tag in {}.\nThere are {} photos.",
        language.english_name(),
        photos.len()
    )})];
    for photo in photos {
        parts.push(json!({"text": format!("Photo {}: {}", photo.number, photo.context)}));
        parts.push(json!({"inline_data": {"mime_type": photo.mime, "data": STANDARD.encode(&photo.bytes)}}));
    }
    json!({
        "contents": [{"role": "user", "parts": parts}],
        "generationConfig": {
            "responseMimeType": "application/json",
            "responseSchema": response_schema(),
            "temperature": 0.4,
            "maxOutputTokens": 16384
        }
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    #[serde(default)]
    candidates: Vec<Candidate>,
    prompt_feedback: Option<PromptFeedback>,
    usage_metadata: Option<UsageMetadata>,
    model_version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Debug, Deserialize)]
struct Part {
    text: Option<String>,
    #[serde(default)]
    thought: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    block_reason: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: i32,
    #[serde(default)]
    candidates_token_count: i32,
    #[serde(default)]
    thoughts_token_count: i32,
    #[serde(default)]
    total_token_count: i32,
}

/// Reads a successful response body into the answer, or says why it is unusable.
pub fn parse_response(body: &[u8]) -> Result<ModelAnswer, GeminiError> {
    let response: Response = serde_json::from_slice(body).map_err(|e| GeminiError::Unusable {
        reason: format!("the response was not the documented shape: {e}"),
    })?;
    let usage = response.usage_metadata.unwrap_or_default();
    let usage = Usage {
        prompt: usage.prompt_token_count,
        output: usage.candidates_token_count,
        thoughts: usage.thoughts_token_count,
        total: usage.total_token_count,
    };
    if let Some(reason) = response.prompt_feedback.and_then(|f| f.block_reason) {
        return Err(GeminiError::Refused {
            reason: format!("the prompt was blocked ({reason})"),
        });
    }
    let candidate =
        response
            .candidates
            .into_iter()
            .next()
            .ok_or_else(|| GeminiError::Unusable {
                reason: "no candidates".into(),
            })?;
    let finish = candidate
        .finish_reason
        .unwrap_or_else(|| "UNSPECIFIED".into());
    if finish != "STOP" {
        // SAFETY and its kin will say the same again; MAX_TOKENS might not, but a retry
        // with the same input is as likely to run out again.
        return Err(GeminiError::Unusable {
            reason: format!("finishReason {finish}"),
        });
    }
    let text: String = candidate
        .content
        .map(|c| c.parts)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| !p.thought)
        .filter_map(|p| p.text)
        .collect();
    if text.trim().is_empty() {
        return Err(GeminiError::Unusable {
            reason: "the answer had no text".into(),
        });
    }
    Ok(ModelAnswer {
        text,
        usage,
        model_version: response.model_version,
        calls: 1,
    })
}

/// Classifies an error response (status and Google's `{"error": …}` body).
pub fn classify_error(status: u16, body: &[u8]) -> GeminiError {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let error = &parsed["error"];
    let message = error["message"]
        .as_str()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect::<String>();
    let status_name = error["status"].as_str().unwrap_or("");
    let details = error["details"].as_array().cloned().unwrap_or_default();
    let mut retry_after = None;
    let mut daily_quota = false;
    for detail in &details {
        let kind = detail["@type"].as_str().unwrap_or("");
        if kind.ends_with("google.rpc.RetryInfo") {
            retry_after = detail["retryDelay"].as_str().and_then(parse_duration);
        }
        if kind.ends_with("google.rpc.QuotaFailure") {
            let text = detail.to_string().to_ascii_lowercase();
            daily_quota |=
                text.contains("perday") || text.contains("per_day") || text.contains("per day");
        }
    }
    let reason = format!("HTTP {status} {status_name}: {message}")
        .trim_end_matches(": ")
        .to_string();
    match status {
        429 if daily_quota => GeminiError::Refused {
            reason: format!("{reason} (the daily quota is used up)"),
        },
        429 | 500 | 502 | 503 | 504 => GeminiError::Unavailable {
            reason,
            retry_after,
        },
        _ => GeminiError::Refused { reason },
    }
}

/// `"38s"`, `"0.5s"` → a duration.
fn parse_duration(raw: &str) -> Option<Duration> {
    let secs: f64 = raw.trim().strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

impl GeminiClient {
    /// `None` without an API key: the offline organiser is used instead.
    pub fn from_config(config: &GeminiConfig) -> Option<Self> {
        let api_key = config.api_key.clone()?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .ok()?;
        Some(Self {
            http,
            api_key,
            config: config.clone(),
        })
    }

    pub fn model(&self) -> &str {
        &self.config.model
    }

    fn url(&self) -> String {
        format!(
            "{}/v1beta/models/{}:generateContent",
            self.config.base_url, self.config.model
        )
    }

    /// One call, bounded by `timeout`.
    async fn call_once(&self, body: &[u8], timeout: Duration) -> Result<ModelAnswer, GeminiError> {
        let response = self
            .http
            .post(self.url())
            .header("x-goog-api-key", self.api_key.expose_secret())
            .header("content-type", "application/json")
            .timeout(timeout)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| GeminiError::Unavailable {
                reason: if e.is_timeout() {
                    format!("no answer within {}s", timeout.as_secs())
                } else {
                    "the connection failed".into()
                },
                retry_after: None,
            })?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| GeminiError::Unavailable {
                reason: if e.is_timeout() {
                    format!("no answer within {}s", timeout.as_secs())
                } else {
                    "the answer was cut off".into()
                },
                retry_after: None,
            })?;
        if status == 200 {
            parse_response(&bytes)
        } else {
            Err(classify_error(status, &bytes))
        }
    }

    /// Calls the model, retrying unavailability with exponential backoff and full jitter
    /// (or the server's `RetryInfo` delay), never past `deadline`.
    #[tracing::instrument(skip_all, fields(model = %self.config.model, photos = photos.len()))]
    pub async fn generate(
        &self,
        photos: &[ModelPhoto],
        language: Language,
        deadline: Instant,
    ) -> Result<ModelAnswer, GeminiError> {
        let body = serde_json::to_vec(&request_body(photos, language)).unwrap_or_default();
        tracing::info!(request_bytes = body.len(), "calling the model");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining < Duration::from_secs(1) {
                return Err(GeminiError::Unavailable {
                    reason: "no time left for another try".into(),
                    retry_after: None,
                });
            }
            let timeout = self.config.request_timeout.min(remaining);
            match self.call_once(&body, timeout).await {
                Ok(mut answer) => {
                    answer.calls = attempt;
                    return Ok(answer);
                }
                Err(e) if e.is_retryable() && attempt < self.config.max_attempts => {
                    let GeminiError::Unavailable { retry_after, .. } = &e else {
                        return Err(e);
                    };
                    let backoff = Duration::from_millis(500 * 2u64.pow(attempt - 1))
                        .min(Duration::from_secs(20));
                    let wait = retry_after.unwrap_or_else(|| {
                        Duration::from_millis(
                            rand::rng().random_range(0..=backoff.as_millis() as u64),
                        )
                    });
                    if Instant::now() + wait + Duration::from_secs(1) >= deadline {
                        tracing::warn!(error = %e, wait_ms = wait.as_millis() as u64, "the wait would pass the deadline");
                        return Err(e);
                    }
                    tracing::warn!(error = %e, attempt, wait_ms = wait.as_millis() as u64, "model unavailable; retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Gemini as an [`Organiser`]: the photos it can be shown, numbered, in one request; an
/// answer it cannot read is asked for once more; the plan repaired so every photo of the
/// batch is in exactly one album (photos it was not shown join "More Moments").
pub struct GeminiOrganiser {
    pub client: std::sync::Arc<GeminiClient>,
}

#[async_trait::async_trait]
impl Organiser for GeminiOrganiser {
    fn wants_pixels(&self) -> bool {
        true
    }

    async fn organise(&self, request: Request<'_>) -> Result<Organised, OrganiseError> {
        // The model numbers only the photos it is shown; map its numbers back to the batch.
        let mut shown = Vec::new();
        let mut photos = Vec::new();
        for (index, p) in request.photos.iter().enumerate() {
            if let Some((mime, bytes)) = &p.pixels {
                shown.push(index);
                photos.push(ModelPhoto {
                    number: shown.len(),
                    mime,
                    bytes: bytes.clone(),
                    context: p.context.clone(),
                });
            }
        }
        if photos.is_empty() {
            return Err(OrganiseError::Unusable {
                reason: "none of the photos could be prepared for the model".into(),
                usage: None,
            });
        }
        let mut usage = Usage::default();
        for read in 1..=2 {
            let answer = self
                .client
                .generate(&photos, request.language, request.deadline)
                .await
                .map_err(|e| match e {
                    GeminiError::Unavailable { retry_after, .. } => OrganiseError::Transient {
                        reason: e.to_string(),
                        retry_after,
                    },
                    other => OrganiseError::Unusable {
                        reason: other.to_string(),
                        usage: None,
                    },
                })?;
            usage.add(answer.usage);
            match plan::parse_answer(&answer.text) {
                Ok(raw) => {
                    let (model_plan, repairs) = plan::repair(raw, photos.len());
                    if repairs != plan::Repairs::default() {
                        tracing::warn!(?repairs, "the model's plan needed repairs");
                    }
                    return Ok(Organised {
                        plan: plan::remap(model_plan, &shown, request.photos.len()),
                        organizer: "gemini",
                        model: Some(
                            answer
                                .model_version
                                .unwrap_or_else(|| self.client.model().to_string()),
                        ),
                        fallback_reason: None,
                        usage: Some(usage),
                    });
                }
                Err(why) if read == 1 => {
                    tracing::warn!(%why, "the model's answer could not be read; asking once more");
                }
                Err(why) => {
                    return Err(OrganiseError::Unusable {
                        reason: format!("the model's answer could not be read twice: {why}"),
                        usage: Some(usage),
                    });
                }
            }
        }
        Err(OrganiseError::Unusable {
            reason: "the model's answer could not be read".into(),
            usage: Some(usage),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_info_and_daily_quotas_are_read_from_error_details() {
        let body = br#"{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED",
            "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}}"#;
        assert_eq!(
            classify_error(429, body),
            GeminiError::Unavailable {
                reason: "HTTP 429 RESOURCE_EXHAUSTED: Resource exhausted".into(),
                retry_after: Some(Duration::from_millis(1500)),
            }
        );
        let daily = br#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED",
            "details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}"#;
        assert!(matches!(
            classify_error(429, daily),
            GeminiError::Refused { .. }
        ));
        assert!(classify_error(503, b"").is_retryable());
        assert!(classify_error(504, b"not json").is_retryable());
        for status in [400, 403, 404] {
            assert!(!classify_error(status, b"{}").is_retryable(), "{status}");
        }
    }

    #[test]
    fn responses_other_than_stop_or_without_text_are_unusable() {
        let stop = br#"{"candidates":[{"content":{"parts":[{"text":"{\"albums\":[]}"}]},"finishReason":"STOP"}],
            "usageMetadata":{"promptTokenCount":1290,"candidatesTokenCount":80,"totalTokenCount":1370}}"#;
        let answer = parse_response(stop).unwrap();
        assert_eq!(answer.text, r#"{"albums":[]}"#);
        assert_eq!(answer.usage.prompt, 1290);
        for body in [
            br#"{"candidates":[{"finishReason":"SAFETY"}]}"#.as_slice(),
            br#"{"candidates":[{"content":{"parts":[{"text":"{\"alb"}]},"finishReason":"MAX_TOKENS"}]}"#,
            br#"{"candidates":[{"content":{"parts":[]},"finishReason":"STOP"}]}"#,
            br#"{"candidates":[]}"#,
            b"[]",
        ] {
            assert!(matches!(parse_response(body), Err(GeminiError::Unusable { .. })));
        }
        let blocked = br#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"}}"#;
        assert!(matches!(
            parse_response(blocked),
            Err(GeminiError::Refused { .. })
        ));
    }

    #[test]
    fn the_request_numbers_photos_and_sends_plain_base64() {
        let body = request_body(
            &[ModelPhoto {
                number: 1,
                mime: "image/jpeg",
                bytes: vec![0xFF, 0xD8, 0xFF],
                context: "taken 2025-05-10 09:40".into(),
            }],
            Language::De,
        );
        let parts = body["contents"][0]["parts"].as_array().unwrap();
        assert!(parts[0]["text"].as_str().unwrap().contains("in German"));
        assert_eq!(parts[1]["text"], "Photo 1: taken 2025-05-10 09:40");
        assert_eq!(parts[2]["inline_data"]["data"], "/9j/");
        assert_eq!(
            body["generationConfig"]["responseMimeType"],
            "application/json"
        );
        assert!(body["generationConfig"].get("responseJsonSchema").is_none());
    }
}
