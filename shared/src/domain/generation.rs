//! The image-generation port: a prompt and up to three reference images in, one picture
//! out. Gemini's image model (`adapter::gemini_images`) and OpenAI's Images API
//! (`adapter::openai_images`) are its providers; each answer is untrusted and ends in an
//! image, a sentence a person can act on, or a reason to try again later.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;

/// The longest prompt, in characters.
pub const MAX_PROMPT_CHARS: usize = 4000;
/// The most reference photos one request may name.
pub const MAX_REFERENCES: usize = 3;

/// Who makes the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Gemini,
    OpenAi,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Gemini, Provider::OpenAi];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gemini => "gemini",
            Self::OpenAi => "openai",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "gemini" => Some(Self::Gemini),
            "openai" => Some(Self::OpenAi),
            _ => None,
        }
    }

    /// The variable that turns this provider on.
    pub fn key_variable(self) -> &'static str {
        match self {
            Self::Gemini => "GEMINI_API_KEY",
            Self::OpenAi => "OPENAI_API_KEY",
        }
    }

    /// The aspect ratios the provider makes, the first its default.
    pub fn aspect_ratios(self) -> &'static [&'static str] {
        match self {
            Self::Gemini => &[
                "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
            ],
            // The sizes of GPT image models: 1024×1024, 1536×1024, 1024×1536.
            Self::OpenAi => &["1:1", "3:2", "2:3"],
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a generation makes a new picture or edits one of the caller's photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Generated,
    Edited,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Generated => "generated",
            Self::Edited => "edited",
        }
    }
}

/// A prompt as the request gave it, checked: 1–4,000 characters, not only blanks, no
/// control characters other than line breaks and tabs.
pub fn check_prompt(raw: &str) -> Result<String, String> {
    let chars = raw.chars().count();
    if raw.trim().is_empty() {
        return Err("The prompt is empty; describe the picture you want.".into());
    }
    if chars > MAX_PROMPT_CHARS {
        return Err(format!(
            "The prompt is {chars} characters; the limit is {MAX_PROMPT_CHARS}."
        ));
    }
    if raw
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("The prompt contains control characters.".into());
    }
    Ok(raw.trim().to_string())
}

/// One reference image as a provider is sent it.
#[derive(Debug, Clone)]
pub struct Reference {
    pub mime: &'static str,
    pub bytes: Vec<u8>,
}

/// What one generation asks a provider for.
#[derive(Debug, Clone)]
pub struct ImageRequest<'a> {
    pub prompt: &'a str,
    pub references: &'a [Reference],
    pub aspect_ratio: &'a str,
    /// When the answer must be in.
    pub deadline: Instant,
}

/// Tokens one provider call used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImageUsage {
    /// Text and image tokens of the request.
    pub input_tokens: i32,
    /// Of which image tokens (the references), where the provider says.
    pub input_image_tokens: i32,
    pub output_tokens: i32,
}

/// A picture a provider made, not yet checked (the caller sniffs and inspects the bytes).
#[derive(Debug, Clone)]
pub struct MadeImage {
    pub bytes: Vec<u8>,
    /// What the provider said the bytes are.
    pub declared_mime: String,
    /// Images the answer carried (only the first is kept).
    pub count: usize,
    pub usage: ImageUsage,
}

/// Why a provider made no picture.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GenerateError {
    /// 429, 5xx, a timeout, a dropped connection: try again later.
    #[error("the image provider is unavailable for now ({reason})")]
    Unavailable {
        reason: String,
        retry_after: Option<Duration>,
        usage: ImageUsage,
    },
    /// Will not get better by retrying: a block for safety, a refused request, an
    /// answer without a picture. `sentence` is for the person.
    #[error("{sentence}")]
    Refused { sentence: String, usage: ImageUsage },
}

impl GenerateError {
    /// The time one call may take: the provider's bound, within what is left before
    /// `deadline`; none when less than a second is left.
    pub fn time_for_call(deadline: Instant, bound: Duration) -> Result<Duration, Self> {
        let timeout = bound.min(deadline.saturating_duration_since(Instant::now()));
        if timeout < Duration::from_secs(1) {
            return Err(Self::Unavailable {
                reason: "no time left for the call".into(),
                retry_after: None,
                usage: ImageUsage::default(),
            });
        }
        Ok(timeout)
    }

    /// A call that got no answer: it timed out after `timeout`, or the connection failed.
    pub fn no_answer(timed_out: bool, timeout: Duration) -> Self {
        Self::Unavailable {
            reason: if timed_out {
                format!("no answer within {} s", timeout.as_secs())
            } else {
                "the connection failed".into()
            },
            retry_after: None,
            usage: ImageUsage::default(),
        }
    }

    pub fn usage(&self) -> ImageUsage {
        match self {
            Self::Unavailable { usage, .. } | Self::Refused { usage, .. } => *usage,
        }
    }
}

/// An image provider.
#[async_trait]
pub trait ImageGenerator: Send + Sync {
    fn provider(&self) -> Provider;
    fn model(&self) -> &str;
    async fn generate(&self, request: ImageRequest<'_>) -> Result<MadeImage, GenerateError>;
}

/// What a model costs, in US dollars per million tokens (and per image, for providers
/// that charge so).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelPrice {
    #[serde(default)]
    pub input_per_million: f64,
    /// Image tokens of the request, when priced apart from text (else `input`).
    #[serde(default)]
    pub image_input_per_million: Option<f64>,
    #[serde(default)]
    pub output_per_million: f64,
    #[serde(default)]
    pub per_image: f64,
}

/// Prices by model id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PriceTable(pub HashMap<String, ModelPrice>);

impl PriceTable {
    /// Published list prices (USD) as of 2026-11, for the models Momentarium uses by
    /// default. `AI_PRICES` adds to or replaces them.
    pub fn published() -> Self {
        let mut t = HashMap::new();
        let price = |input, image_input, output| ModelPrice {
            input_per_million: input,
            image_input_per_million: image_input,
            output_per_million: output,
            per_image: 0.0,
        };
        t.insert("gemini-2.5-flash".into(), price(0.30, None, 2.50));
        t.insert("gemini-2.5-flash-lite".into(), price(0.10, None, 0.40));
        // Image output at $30 per million tokens; 1,290 tokens an image ≈ $0.039.
        t.insert("gemini-2.5-flash-image".into(), price(0.30, None, 30.0));
        t.insert("gemini-embedding-001".into(), price(0.15, None, 0.0));
        // Text in $5, image in $8, image out $32 per million (medium 1024×1024 ≈ $0.034).
        t.insert("gpt-image-1.5".into(), price(5.0, Some(8.0), 32.0));
        Self(t)
    }

    /// The published table with `json`'s entries (`{"model": {"inputPerMillion": …}}`)
    /// laid over it.
    pub fn with_overrides(json: &str) -> Result<Self, String> {
        let extra: HashMap<String, ModelPrice> =
            serde_json::from_str(json).map_err(|e| format!("not a price table: {e}"))?;
        let mut table = Self::published();
        for (model, price) in extra {
            let values = [
                price.input_per_million,
                price.image_input_per_million.unwrap_or(0.0),
                price.output_per_million,
                price.per_image,
            ];
            if values.iter().any(|v| !v.is_finite() || *v < 0.0) {
                return Err(format!("the prices of `{model}` must be non-negative"));
            }
            table.0.insert(model, price);
        }
        Ok(table)
    }

    /// What a call cost, in dollars: zero for a model with no price (logged by the caller).
    pub fn cost(&self, model: &str, usage: ImageUsage, images: u32) -> Option<f64> {
        let p = self.0.get(model)?;
        let text_in = f64::from((usage.input_tokens - usage.input_image_tokens).max(0));
        let image_in = f64::from(usage.input_image_tokens.max(0));
        let image_rate = p.image_input_per_million.unwrap_or(p.input_per_million);
        Some(
            (text_in * p.input_per_million
                + image_in * image_rate
                + f64::from(usage.output_tokens.max(0)) * p.output_per_million)
                / 1_000_000.0
                + f64::from(images) * p.per_image,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_checked_by_characters_not_bytes() {
        assert!(check_prompt(&"é".repeat(MAX_PROMPT_CHARS)).is_ok());
        assert!(check_prompt(&"a".repeat(MAX_PROMPT_CHARS + 1)).is_err());
        assert!(check_prompt("   \n ").is_err());
        assert!(check_prompt("a\u{0}b").is_err());
        assert_eq!(check_prompt("  a fox\n").unwrap(), "a fox");
    }

    #[test]
    fn costs_follow_the_table_to_the_cent() {
        let t = PriceTable::published();
        let gemini = ImageUsage {
            input_tokens: 20,
            input_image_tokens: 0,
            output_tokens: 1290,
        };
        let c = t.cost("gemini-2.5-flash-image", gemini, 1).unwrap();
        assert!((c - (20.0 * 0.30 + 1290.0 * 30.0) / 1e6).abs() < 1e-12);
        let openai = ImageUsage {
            input_tokens: 350,
            input_image_tokens: 300,
            output_tokens: 1056,
        };
        let c = t.cost("gpt-image-1.5", openai, 1).unwrap();
        assert!((c - (50.0 * 5.0 + 300.0 * 8.0 + 1056.0 * 32.0) / 1e6).abs() < 1e-12);
        assert_eq!(t.cost("unknown-model", openai, 1), None);
    }

    #[test]
    fn overrides_replace_and_refuse_negative_prices() {
        let t = PriceTable::with_overrides(
            r#"{"gpt-image-2": {"outputPerMillion": 30, "perImage": 0.01}}"#,
        )
        .unwrap();
        assert!(t.0.contains_key("gpt-image-2") && t.0.contains_key("gpt-image-1.5"));
        assert!(PriceTable::with_overrides(r#"{"m": {"inputPerMillion": -1}}"#).is_err());
        assert!(PriceTable::with_overrides(r#"{"m": {"typo": 1}}"#).is_err());
    }
}
