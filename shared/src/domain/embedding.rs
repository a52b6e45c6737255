//! Text embeddings for semantic search: the port, and the rules every answer must pass
//! (one vector per text, the right size, finite, not zero), since a model's answer is
//! untrusted.

use std::time::Duration;

use crate::domain::places::Place;

/// Stored dimensions: gemini-embedding-001 truncated (Matryoshka) to 768.
pub const DIMENSIONS: usize = 768;
/// Texts per `batchEmbedContents` call (the API refuses more).
pub const MAX_BATCH: usize = 100;

/// What a text is for: photos are documents, searches are queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedTask {
    Document,
    Query,
}

impl EmbedTask {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Document => "RETRIEVAL_DOCUMENT",
            Self::Query => "RETRIEVAL_QUERY",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    /// One unit-length vector per text, in order.
    pub vectors: Vec<Vec<f32>>,
    /// Input tokens: the provider does not report them for embeddings, so they are
    /// estimated at four characters a token.
    pub input_tokens: u32,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmbedError {
    #[error("the embedding model is unavailable for now ({0})")]
    Unavailable(String),
    #[error("the embedding model refused the request ({0})")]
    Refused(String),
    #[error("the embedding model's answer was unusable ({0})")]
    Unusable(String),
}

#[async_trait::async_trait]
pub trait Embedder: Send + Sync {
    fn model(&self) -> &str;
    /// At most [`MAX_BATCH`] texts, answered within `timeout`.
    async fn embed(
        &self,
        texts: &[String],
        task: EmbedTask,
        timeout: Duration,
    ) -> Result<Embeddings, EmbedError>;
}

/// Scales `v` to unit length; `None` for a vector of the wrong size, with a
/// non-finite value, or of zero length.
pub fn normalised(mut v: Vec<f32>) -> Option<Vec<f32>> {
    if v.len() != DIMENSIONS || v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let norm = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if !norm.is_finite() || norm < 1e-12 {
        return None;
    }
    for x in &mut v {
        *x = (f64::from(*x) / norm) as f32;
    }
    Some(v)
}

/// The estimate of input tokens for texts: four characters a token.
pub fn estimated_tokens(texts: &[String]) -> u32 {
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    u32::try_from(chars.div_ceil(4)).unwrap_or(u32::MAX)
}

/// What a photo's embedding is made from: its caption, tags, place and album.
pub fn photo_text(
    caption: Option<&str>,
    tags: &[String],
    place: Option<&Place>,
    album_title: Option<&str>,
) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(c) = caption.filter(|c| !c.trim().is_empty()) {
        parts.push(c.trim().to_string());
    }
    if !tags.is_empty() {
        parts.push(format!("Tags: {}.", tags.join(", ")));
    }
    if let Some(p) = place {
        parts.push(format!("Place: {}.", p.described()));
    }
    if let Some(a) = album_title.filter(|a| !a.trim().is_empty()) {
        parts.push(format!("Album: {}.", a.trim()));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_checked_and_scaled() {
        let mut v = vec![0.0f32; DIMENSIONS];
        v[0] = 3.0;
        v[1] = 4.0;
        let n = normalised(v).unwrap();
        assert!((n[0] - 0.6).abs() < 1e-6 && (n[1] - 0.8).abs() < 1e-6);
        assert_eq!(normalised(vec![0.0; DIMENSIONS]), None);
        assert_eq!(normalised(vec![1.0; 3]), None);
        let mut bad = vec![1.0f32; DIMENSIONS];
        bad[5] = f32::NAN;
        assert_eq!(normalised(bad), None);
    }

    #[test]
    fn a_photo_reads_as_one_sentence_per_fact() {
        let place = Place {
            name: Some("Westerland".into()),
            region: Some("Schleswig-Holstein".into()),
            country_code: "DE".into(),
        };
        assert_eq!(
            photo_text(
                Some("Dunes at sunset"),
                &["beach".into(), "sunset".into()],
                Some(&place),
                Some("Sylt weekend")
            ),
            "Dunes at sunset Tags: beach, sunset. Place: Westerland, Germany (Schleswig-Holstein). Album: Sylt weekend."
        );
        assert_eq!(photo_text(None, &[], None, None), "");
    }
}
