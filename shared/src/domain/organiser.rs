//! The organiser port: a batch of photos in, an album plan out. Gemini is one organiser
//! (`adapter::gemini::GeminiOrganiser`), the offline one here is another, and
//! [`WithFallback`] wraps a primary so that a model that cannot be used never strands a
//! job: the offline organiser steps in, with the reason recorded.
//!
//! Coming providers (image generation, embeddings, a notifier) follow the same shape: a
//! trait in the domain's terms, adapters under `adapter/`, a strict protocol server in
//! `tests/`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::domain::language::Language;
use crate::domain::plan::{self, PhotoFacts, Plan};
use crate::domain::prepare;

/// One photo of a batch as an organiser sees it.
#[derive(Debug, Clone)]
pub struct BatchPhoto {
    /// Time, place; the offline organiser's whole input.
    pub facts: PhotoFacts,
    /// One line of context for a model (`taken 2025-05-10 09:40 (UTC+02:00) at …`).
    pub context: String,
    /// The prepared image for a model (MIME type and bytes), when there is one.
    pub pixels: Option<(&'static str, Vec<u8>)>,
}

/// What one organiser call asks for.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub photos: &'a [BatchPhoto],
    /// When the answer must be in (the caller keeps time to write it).
    pub deadline: Instant,
    /// Which delivery of the job this is (1 for the first).
    pub attempt: i32,
    /// The job's last delivery: no later try will come, so give an answer now.
    pub last_attempt: bool,
    /// What the titles, descriptions, captions and tags are written in.
    pub language: Language,
}

/// Tokens a model call used, summed over the calls of one organising.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt: i32,
    pub output: i32,
    pub thoughts: i32,
    pub total: i32,
}

impl Usage {
    pub fn add(&mut self, other: Usage) {
        self.prompt += other.prompt;
        self.output += other.output;
        self.thoughts += other.thoughts;
        self.total += other.total;
    }
}

/// A plan every photo of the batch is in exactly once, and who made it.
#[derive(Debug, Clone)]
pub struct Organised {
    pub plan: Plan,
    /// `gemini`, `offline`.
    pub organizer: &'static str,
    pub model: Option<String>,
    /// Why the primary organiser was not used, when it was not.
    pub fallback_reason: Option<String>,
    /// Model tokens, when a model was asked (also when its answer was not used).
    pub usage: Option<Usage>,
}

/// Why an organiser gave no plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrganiseError {
    /// Worth another try later (busy, timed out); `retry_after` when the provider said.
    #[error("{reason}")]
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// This organiser cannot do this batch (refused, unreadable twice, nothing to show).
    #[error("{reason}")]
    Unusable {
        reason: String,
        usage: Option<Usage>,
    },
}

#[async_trait]
pub trait Organiser: Send + Sync {
    /// Whether it looks at the photos' pixels; when no organiser does, no photo is
    /// fetched at all.
    fn wants_pixels(&self) -> bool;

    async fn organise(&self, request: Request<'_>) -> Result<Organised, OrganiseError>;
}

/// Albums from EXIF alone (time gaps and distance), with colours placing photos that have
/// no time. Always answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Offline;

impl Offline {
    pub fn plan(
        photos: &[BatchPhoto],
        language: Language,
        fallback_reason: Option<String>,
    ) -> Organised {
        // Colours cost a decode each, so they come from the prepared copies and only
        // when some photo has no time.
        let need_colours = photos.iter().any(|p| p.facts.taken_at.is_none());
        let facts: Vec<PhotoFacts> = photos
            .iter()
            .map(|p| PhotoFacts {
                colour: match &p.pixels {
                    Some(("image/jpeg", prepared)) if need_colours => {
                        prepare::colour_signature(prepared)
                    }
                    _ => None,
                },
                ..p.facts.clone()
            })
            .collect();
        Organised {
            plan: plan::offline_plan(&facts, language),
            organizer: "offline",
            model: None,
            fallback_reason,
            usage: None,
        }
    }
}

#[async_trait]
impl Organiser for Offline {
    fn wants_pixels(&self) -> bool {
        false
    }

    async fn organise(&self, request: Request<'_>) -> Result<Organised, OrganiseError> {
        Ok(Self::plan(request.photos, request.language, None))
    }
}

/// A primary organiser with the offline one behind it: what the primary cannot do is
/// organised offline with the reason recorded; what it could do later is given back for
/// a later delivery, except on the last one, which falls back rather than fail.
pub struct WithFallback {
    pub primary: Arc<dyn Organiser>,
}

#[async_trait]
impl Organiser for WithFallback {
    fn wants_pixels(&self) -> bool {
        self.primary.wants_pixels()
    }

    async fn organise(&self, request: Request<'_>) -> Result<Organised, OrganiseError> {
        match self.primary.organise(request).await {
            Ok(organised) => Ok(organised),
            Err(OrganiseError::Transient { reason, .. }) if request.last_attempt => {
                tracing::warn!(%reason, "the model is still unavailable on the last delivery; organising offline");
                Ok(Offline::plan(
                    request.photos,
                    request.language,
                    Some(format!("{reason}, after {} deliveries", request.attempt)),
                ))
            }
            Err(transient @ OrganiseError::Transient { .. }) => Err(transient),
            Err(OrganiseError::Unusable { reason, usage }) => {
                tracing::warn!(%reason, "the model cannot be used for this batch; organising offline");
                let mut organised = Offline::plan(request.photos, request.language, Some(reason));
                organised.usage = usage;
                Ok(organised)
            }
        }
    }
}
