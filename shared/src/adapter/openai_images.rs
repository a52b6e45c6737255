//! OpenAI's Images API as an [`ImageGenerator`]: `POST /v1/images/generations` (JSON) for
//! a prompt alone, `POST /v1/images/edits` (multipart, `image[]` parts) with references.
//! GPT image models always answer base64 (`b64_json`).

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::adapter::image_client::ImageClient;
use crate::domain::generation::{
    GenerateError, ImageGenerator, ImageRequest, ImageUsage, MadeImage, Provider,
};

pub struct OpenAiImages(ImageClient);

impl OpenAiImages {
    pub fn new(api_key: SecretString, base_url: &str, model: &str, timeout: Duration) -> Self {
        Self(ImageClient::new(api_key, base_url, model, timeout))
    }
}

/// The size a GPT image model makes for an aspect ratio.
pub fn size_for(aspect_ratio: &str) -> &'static str {
    match aspect_ratio {
        "3:2" => "1536x1024",
        "2:3" => "1024x1536",
        _ => "1024x1024",
    }
}

/// The JSON body of a generation without references.
pub fn generation_body(model: &str, request: &ImageRequest<'_>) -> Value {
    json!({
        "model": model,
        "prompt": request.prompt,
        "n": 1,
        "size": size_for(request.aspect_ratio),
        "quality": "medium",
        "output_format": "png",
    })
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    data: Vec<Datum>,
    output_format: Option<String>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Datum {
    b64_json: Option<String>,
}

#[derive(Deserialize, Default)]
struct Usage {
    #[serde(default)]
    input_tokens: i32,
    #[serde(default)]
    output_tokens: i32,
    input_tokens_details: Option<InputDetails>,
}

#[derive(Deserialize, Default)]
struct InputDetails {
    #[serde(default)]
    image_tokens: i32,
}

/// Reads a 200 answer.
pub fn parse_response(body: &[u8]) -> Result<MadeImage, GenerateError> {
    let answer: Answer = serde_json::from_slice(body).map_err(|e| GenerateError::Refused {
        sentence: format!("OpenAI's answer could not be read ({e})."),
        usage: ImageUsage::default(),
    })?;
    let u = answer.usage.unwrap_or_default();
    let usage = ImageUsage {
        input_tokens: u.input_tokens.max(0),
        input_image_tokens: u
            .input_tokens_details
            .map_or(0, |d| d.image_tokens.clamp(0, u.input_tokens.max(0))),
        output_tokens: u.output_tokens.max(0),
    };
    let count = answer.data.len();
    let Some(first) = answer.data.into_iter().next() else {
        return Err(GenerateError::Refused {
            sentence: "OpenAI returned no picture. Try again, or rephrase the prompt.".into(),
            usage,
        });
    };
    let bytes = first
        .b64_json
        .as_deref()
        .and_then(|d| STANDARD.decode(d.trim()).ok())
        .filter(|b| !b.is_empty())
        .ok_or_else(|| GenerateError::Refused {
            sentence: "OpenAI's picture arrived without its data. Try again.".into(),
            usage,
        })?;
    let format = answer.output_format.unwrap_or_else(|| "png".into());
    Ok(MadeImage {
        bytes,
        declared_mime: format!("image/{format}"),
        count,
        usage,
    })
}

/// Classifies an error answer (`{"error": {"message", "type", "code"}}`).
pub fn classify_error(status: u16, retry_after: Option<Duration>, body: &[u8]) -> GenerateError {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let error = &parsed["error"];
    let message: String = error["message"]
        .as_str()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    let code = error["code"].as_str().unwrap_or("");
    let usage = ImageUsage::default();
    match (status, code) {
        (_, "moderation_blocked") | (_, "content_policy_violation") => GenerateError::Refused {
            sentence: "OpenAI would not make this picture: its safety system blocked the request. Rephrase the prompt and try again.".into(),
            usage,
        },
        (429, "insufficient_quota" | "billing_hard_limit_reached") => GenerateError::Refused {
            sentence: format!("OpenAI refused: the account's quota is used up ({message}). The operator must add credit."),
            usage,
        },
        (401 | 403, _) => GenerateError::Refused {
            sentence: "OpenAI refused the API key (OPENAI_API_KEY). The operator must check it.".into(),
            usage,
        },
        (408 | 409 | 429 | 500..=599, _) => GenerateError::Unavailable {
            reason: format!("HTTP {status} {code}: {message}").trim_end_matches(": ").to_string(),
            retry_after,
            usage,
        },
        _ => GenerateError::Refused {
            sentence: format!("OpenAI refused the request (HTTP {status}: {message})."),
            usage,
        },
    }
}

#[async_trait]
impl ImageGenerator for OpenAiImages {
    fn provider(&self) -> Provider {
        Provider::OpenAi
    }

    fn model(&self) -> &str {
        &self.0.model
    }

    #[tracing::instrument(skip_all, fields(model = %self.0.model, references = request.references.len()))]
    async fn generate(&self, request: ImageRequest<'_>) -> Result<MadeImage, GenerateError> {
        let timeout = GenerateError::time_for_call(request.deadline, self.0.timeout)?;
        let builder = if request.references.is_empty() {
            self.0
                .http
                .post(format!("{}/v1/images/generations", self.0.base_url))
                .json(&generation_body(&self.0.model, &request))
        } else {
            let mut form = reqwest::multipart::Form::new()
                .text("model", self.0.model.clone())
                .text("prompt", request.prompt.to_string())
                .text("n", "1")
                .text("size", size_for(request.aspect_ratio))
                .text("quality", "medium")
                .text("output_format", "png");
            for (i, reference) in request.references.iter().enumerate() {
                let extension = reference.mime.trim_start_matches("image/");
                let part = reqwest::multipart::Part::bytes(reference.bytes.clone())
                    .file_name(format!("reference-{}.{extension}", i + 1))
                    .mime_str(reference.mime)
                    .map_err(|e| GenerateError::Refused {
                        sentence: format!("A reference could not be sent ({e})."),
                        usage: ImageUsage::default(),
                    })?;
                form = form.part("image[]", part);
            }
            self.0
                .http
                .post(format!("{}/v1/images/edits", self.0.base_url))
                .multipart(form)
        };
        let unavailable = |e: reqwest::Error| GenerateError::no_answer(e.is_timeout(), timeout);
        let response = builder
            .bearer_auth(self.0.api_key.expose_secret())
            .timeout(timeout)
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0 && *s < 3600.0)
            .map(Duration::from_secs_f64);
        let body = response.bytes().await.map_err(unavailable)?;
        if status == 200 {
            parse_response(&body)
        } else {
            Err(classify_error(status, retry_after, &body))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moderation_quota_and_outages_are_told_apart() {
        let blocked = br#"{"error": {"message": "safety", "type": "image_generation_user_error", "code": "moderation_blocked"}}"#;
        assert!(matches!(
            classify_error(400, None, blocked),
            GenerateError::Refused { .. }
        ));
        let quota = br#"{"error": {"message": "quota", "type": "insufficient_quota", "code": "insufficient_quota"}}"#;
        assert!(matches!(
            classify_error(429, None, quota),
            GenerateError::Refused { .. }
        ));
        let busy = br#"{"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}}"#;
        assert!(matches!(
            classify_error(429, Some(Duration::from_secs(7)), busy),
            GenerateError::Unavailable { retry_after: Some(d), .. } if d == Duration::from_secs(7)
        ));
        assert!(matches!(
            classify_error(503, None, b"not json"),
            GenerateError::Unavailable { .. }
        ));
    }

    #[test]
    fn usage_splits_image_tokens_from_text() {
        let body = br#"{"created": 1, "data": [{"b64_json": "AQID"}], "usage": {"input_tokens": 350, "output_tokens": 1056, "total_tokens": 1406, "input_tokens_details": {"text_tokens": 50, "image_tokens": 300}}}"#;
        let made = parse_response(body).unwrap();
        assert_eq!(made.usage.input_image_tokens, 300);
        assert_eq!(made.declared_mime, "image/png");
    }
}
