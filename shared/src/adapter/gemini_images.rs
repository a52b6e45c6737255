//! Gemini's image model (`gemini-2.5-flash-image` and successors) as an
//! [`ImageGenerator`]: `generateContent` with the prompt and the references as
//! `inlineData` parts, `responseModalities: ["IMAGE"]` and `imageConfig.aspectRatio`.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::adapter::gemini::{GeminiError, classify_error};
use crate::adapter::image_client::ImageClient;
use crate::domain::generation::{
    GenerateError, ImageGenerator, ImageRequest, ImageUsage, MadeImage, Provider,
};

pub struct GeminiImages(ImageClient);

impl GeminiImages {
    pub fn new(api_key: SecretString, base_url: &str, model: &str, timeout: Duration) -> Self {
        Self(ImageClient::new(api_key, base_url, model, timeout))
    }
}

/// The request body: the prompt, then each reference as an inline image.
pub fn request_body(request: &ImageRequest<'_>) -> Value {
    let mut parts = vec![json!({"text": request.prompt})];
    for reference in request.references {
        parts.push(json!({"inlineData": {
            "mimeType": reference.mime,
            "data": STANDARD.encode(&reference.bytes),
        }}));
    }
    json!({
        "contents": [{"role": "user", "parts": parts}],
        "generationConfig": {
            "responseModalities": ["IMAGE"],
            "imageConfig": {"aspectRatio": request.aspect_ratio},
        },
    })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Response {
    #[serde(default)]
    candidates: Vec<Candidate>,
    prompt_feedback: Option<Feedback>,
    usage_metadata: Option<UsageMetadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part {
    text: Option<String>,
    /// A thinking model's interim output (draft images included): not the answer.
    #[serde(default)]
    thought: bool,
    #[serde(alias = "inline_data")]
    inline_data: Option<Inline>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Inline {
    #[serde(alias = "mime_type")]
    mime_type: Option<String>,
    data: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Feedback {
    block_reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: i32,
    #[serde(default)]
    candidates_token_count: i32,
    /// Billed as output.
    #[serde(default)]
    thoughts_token_count: i32,
}

/// Reads a 200 answer: the first image part, or why there is none.
pub fn parse_response(body: &[u8]) -> Result<MadeImage, GenerateError> {
    let response: Response = serde_json::from_slice(body).map_err(|e| GenerateError::Refused {
        sentence: format!("The image provider's answer could not be read ({e})."),
        usage: ImageUsage::default(),
    })?;
    let meta = response.usage_metadata.unwrap_or_default();
    let usage = ImageUsage {
        input_tokens: meta.prompt_token_count.max(0),
        input_image_tokens: 0,
        output_tokens: meta.candidates_token_count.max(0) + meta.thoughts_token_count.max(0),
    };
    if let Some(reason) = response.prompt_feedback.and_then(|f| f.block_reason) {
        return Err(GenerateError::Refused {
            sentence: format!("Gemini declined this prompt ({reason}). Rephrase it and try again."),
            usage,
        });
    }
    let mut images = Vec::new();
    let mut said = String::new();
    let mut finish = None;
    for candidate in response.candidates {
        finish = finish.or(candidate.finish_reason);
        for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
            if part.thought {
                continue;
            }
            if let Some(inline) = part.inline_data {
                images.push(inline);
            } else if let Some(text) = part.text {
                said.push_str(&text);
            }
        }
    }
    let count = images.len();
    let Some(first) = images.into_iter().next() else {
        let finish = finish.unwrap_or_else(|| "UNSPECIFIED".into());
        let sentence = match finish.as_str() {
            "IMAGE_SAFETY"
            | "SAFETY"
            | "PROHIBITED_CONTENT"
            | "BLOCKLIST"
            | "SPII"
            | "IMAGE_PROHIBITED_CONTENT" => format!(
                "Gemini would not make this picture for safety reasons ({finish}). Rephrase the prompt and try again."
            ),
            _ if !said.trim().is_empty() => format!(
                "Gemini answered in words instead of a picture: \"{}\". Try a more concrete prompt.",
                said.trim().chars().take(200).collect::<String>()
            ),
            _ => {
                format!("Gemini returned no picture ({finish}). Try again, or rephrase the prompt.")
            }
        };
        return Err(GenerateError::Refused { sentence, usage });
    };
    let bytes = first
        .data
        .as_deref()
        .and_then(|d| STANDARD.decode(d.trim()).ok())
        .filter(|b| !b.is_empty())
        .ok_or_else(|| GenerateError::Refused {
            sentence: "Gemini's picture arrived damaged (not base64). Try again.".into(),
            usage,
        })?;
    Ok(MadeImage {
        bytes,
        declared_mime: first.mime_type.unwrap_or_default(),
        count,
        usage,
    })
}

fn from_gemini(e: GeminiError) -> GenerateError {
    match e {
        GeminiError::Unavailable {
            reason,
            retry_after,
        } => GenerateError::Unavailable {
            reason,
            retry_after,
            usage: ImageUsage::default(),
        },
        GeminiError::Refused { reason } | GeminiError::Unusable { reason } => {
            GenerateError::Refused {
                sentence: format!("Gemini refused the request ({reason})."),
                usage: ImageUsage::default(),
            }
        }
    }
}

#[async_trait]
impl ImageGenerator for GeminiImages {
    fn provider(&self) -> Provider {
        Provider::Gemini
    }

    fn model(&self) -> &str {
        &self.0.model
    }

    #[tracing::instrument(skip_all, fields(model = %self.0.model, references = request.references.len()))]
    async fn generate(&self, request: ImageRequest<'_>) -> Result<MadeImage, GenerateError> {
        let timeout = GenerateError::time_for_call(request.deadline, self.0.timeout)?;
        let url = format!(
            "{}/v1beta/models/{}:generateContent",
            self.0.base_url, self.0.model
        );
        let unavailable = |e: reqwest::Error| GenerateError::no_answer(e.is_timeout(), timeout);
        let response = self
            .0
            .http
            .post(url)
            .header("x-goog-api-key", self.0.api_key.expose_secret())
            .timeout(timeout)
            .json(&request_body(&request))
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(unavailable)?;
        if status == 200 {
            parse_response(&body)
        } else {
            Err(from_gemini(classify_error(status, &body)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_a_safety_finish_and_words_alone_are_refusals_with_sentences() {
        let blocked = br#"{"promptFeedback": {"blockReason": "SAFETY"}}"#;
        assert!(
            matches!(parse_response(blocked), Err(GenerateError::Refused { sentence, .. }) if sentence.contains("SAFETY"))
        );
        let safety = br#"{"candidates": [{"finishReason": "IMAGE_SAFETY"}]}"#;
        assert!(
            matches!(parse_response(safety), Err(GenerateError::Refused { sentence, .. }) if sentence.contains("safety"))
        );
        let words = br#"{"candidates": [{"content": {"parts": [{"text": "I can't draw that"}]}, "finishReason": "STOP"}]}"#;
        assert!(
            matches!(parse_response(words), Err(GenerateError::Refused { sentence, .. }) if sentence.contains("I can't draw that"))
        );
    }

    #[test]
    fn draft_images_of_a_thinking_model_are_not_the_answer_and_thoughts_are_billed() {
        let body = br#"{"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "AAAA"}, "thought": true}, {"inlineData": {"mimeType": "image/png", "data": "AQID"}}]}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 1290, "thoughtsTokenCount": 200}}"#;
        let made = parse_response(body).unwrap();
        assert_eq!((made.bytes, made.count), (vec![1, 2, 3], 1));
        assert_eq!(made.usage.output_tokens, 1490);
    }

    #[test]
    fn the_first_of_several_images_is_taken_and_counted() {
        let two = br#"{"candidates": [{"content": {"parts": [{"text": "here"}, {"inlineData": {"mimeType": "image/png", "data": "AQID"}}, {"inlineData": {"mimeType": "image/png", "data": "BAUG"}}]}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 1290}}"#;
        let made = parse_response(two).unwrap();
        assert_eq!((made.bytes, made.count), (vec![1, 2, 3], 2));
        assert_eq!(made.usage.output_tokens, 1290);
    }
}
