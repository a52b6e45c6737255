//! Searching the caller's photos: the query read into dates, a place and words; keyword
//! and (with a Gemini key and pgvector) semantic rankings fused; "more like this"; the
//! caller's search history; and the photos' embeddings, written after organising.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDate, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::adapter::postgres::{self as db, DbError};
use crate::adapter::s3::ServeAs;
use crate::app::App;
use crate::domain::embedding::{
    EmbedError, EmbedTask, Embeddings, MAX_BATCH, estimated_tokens, photo_text,
};
use crate::domain::generation::ImageUsage;
use crate::domain::places;
use crate::domain::search::{self, MAX_LIMIT, MAX_QUERY_CHARS, PlaceFilter, RRF_K, Understood};
use crate::domain::{Caller, ContentType, ImageKey};
use crate::error::ApiError;
use crate::repo::search::{self as repo, Filters};
use crate::usecase::ai_costs::{CallRecord, record_call};

/// Each ranking of a search with words contributes at most this many candidates.
pub const POOL: usize = 200;
/// A search of filters alone (dates, a place, an album) pages this deep.
pub const FILTER_DEPTH: usize = 10_000;
/// How long a search waits for its query's embedding before answering from keywords.
pub const QUERY_EMBED_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a job's photos wait for their embeddings.
const DOCUMENT_EMBED_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_LIMIT: usize = 30;

#[derive(Debug, Clone, Default)]
pub struct SearchAsk {
    pub q: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub place: Option<String>,
    pub album: Option<String>,
    pub similar_to: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// The caller's local date, for "today", "this weekend"… (UTC's when absent).
    pub today: Option<String>,
}

/// How the results were ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Keyword and semantic rankings fused.
    Hybrid,
    /// Keywords and filters only.
    Keyword,
    /// Nearest to a photo's embedding.
    Similar,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hybrid => "hybrid",
            Self::Keyword => "keyword",
            Self::Similar => "similar",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub row: repo::ResultRow,
    pub url: String,
    pub thumb_url: Option<String>,
    pub preview_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SearchOutcome {
    pub understood: Understood,
    pub mode: Mode,
    /// Why the search is not semantic, when it could have been.
    pub mode_reason: Option<String>,
    pub hits: Vec<Hit>,
    /// Candidates found in all (at most [`POOL`] per ranking).
    pub total: usize,
    pub next_cursor: Option<String>,
}

fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, message)
}

fn parse_date(raw: &str, name: &str) -> Result<NaiveDate, ApiError> {
    search::parse_day(raw).ok_or_else(|| {
        bad(
            "invalid_date",
            format!(
                "`{name}` must be a date like 2025-05-10, in the years {} to {}.",
                search::YEARS.start(),
                search::YEARS.end()
            ),
        )
    })
}

fn parse_uuid(raw: &str, name: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| bad("invalid_id", format!("`{name}` must be a UUID.")))
}

/// Where a page starts, for which search, ranked how. Pages are the same ranking asked
/// again: a cursor from another search is refused, and one whose ranking can no longer
/// be made the same way (the embedding model stopped answering between pages) says so
/// rather than skip or repeat photos.
#[derive(Debug, Clone, PartialEq)]
struct Cursor {
    offset: usize,
    mode: Mode,
    search: String,
}

/// Which search a cursor belongs to: its words and filters, hashed.
fn fingerprint(ask: &SearchAsk) -> String {
    let mut h = Sha256::new();
    for part in [
        &ask.q,
        &ask.from,
        &ask.to,
        &ask.place,
        &ask.album,
        &ask.similar_to,
        &ask.today,
    ] {
        h.update(part.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
    }
    h.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn parse_cursor(raw: Option<&str>, ask: &SearchAsk) -> Result<Option<Cursor>, ApiError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let invalid = || {
        bad(
            "invalid_cursor",
            "This cursor is not one this search gave out.",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.split(':');
    let (Some(offset), Some(mode), Some(search), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let offset: usize = offset.parse().map_err(|_| invalid())?;
    let mode = [Mode::Hybrid, Mode::Keyword, Mode::Similar]
        .into_iter()
        .find(|m| m.as_str() == mode)
        .ok_or_else(invalid)?;
    if offset > FILTER_DEPTH || search != fingerprint(ask) {
        return Err(invalid());
    }
    Ok(Some(Cursor {
        offset,
        mode,
        search: search.to_string(),
    }))
}

fn cursor_at(offset: usize, mode: Mode, ask: &SearchAsk) -> String {
    URL_SAFE_NO_PAD.encode(format!("{offset}:{}:{}", mode.as_str(), fingerprint(ask)))
}

/// The ranking changed under a cursor.
fn changed(mode: Mode) -> ApiError {
    ApiError::Conflict {
        code: "search_changed",
        message: format!(
            "The first page was ranked {}, and this one could not be; search again from the first page.",
            match mode {
                Mode::Hybrid => "by words and meaning",
                Mode::Keyword => "by words",
                Mode::Similar => "by likeness",
            }
        ),
    }
}

/// Explicit filters, checked, laid over what the query said.
fn apply_explicit(
    ask: &SearchAsk,
    understood: &mut Understood,
    known: &std::collections::HashMap<String, String>,
) -> Result<(), ApiError> {
    if let Some(from) = ask.from.as_deref().filter(|s| !s.is_empty()) {
        understood.from = Some(parse_date(from, "from")?);
    }
    if let Some(to) = ask.to.as_deref().filter(|s| !s.is_empty()) {
        understood.to = Some(parse_date(to, "to")?);
    }
    if let (Some(f), Some(t)) = (understood.from, understood.to)
        && f > t
    {
        return Err(ApiError::Unprocessable {
            code: "invalid_range",
            message: format!("`from` ({f}) is after `to` ({t})."),
            details: None,
        });
    }
    if let Some(place) = ask
        .place
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        // Checked (length, control characters) before the lookup in `search`.
        understood.place = Some(match places::country_for_name(place) {
            Some(code) if known.get(&place.to_lowercase()).is_none() => PlaceFilter {
                name: None,
                country_code: Some(code.to_string()),
            },
            _ => PlaceFilter {
                name: Some(
                    known
                        .get(&place.to_lowercase())
                        .cloned()
                        .unwrap_or_else(|| place.to_string()),
                ),
                country_code: None,
            },
        });
    }
    if let Some(album) = ask.album.as_deref().filter(|s| !s.is_empty()) {
        understood.album = Some(parse_uuid(album, "album")?);
    }
    Ok(())
}

fn filters_for(user_id: Uuid, u: &Understood) -> Filters {
    Filters {
        user_id,
        from: u.from,
        to: u.to,
        hours: u.part_of_day.map(|p| p.hours()),
        place: u.place.as_ref().and_then(|p| p.name.clone()),
        country_code: u.place.as_ref().and_then(|p| p.country_code.clone()),
        album: u.album,
        except: None,
        exclude: search::excluded(&u.text),
    }
}

/// Records one embedding call, answered or not, with its (estimated) input tokens, as
/// every model call is; a failure to record is logged, the search or job goes on.
async fn record_embedding(
    app: &App,
    user_id: Uuid,
    job_id: Option<Uuid>,
    model: &str,
    texts: &[String],
    answer: &Result<Embeddings, EmbedError>,
) {
    let tokens = answer
        .as_ref()
        .map_or_else(|_| estimated_tokens(texts), |a| a.input_tokens);
    let call = CallRecord {
        user_id,
        job_id,
        purpose: "embed",
        provider: "gemini",
        model,
        error: answer.as_ref().err().map(ToString::to_string),
        usage: ImageUsage {
            input_tokens: i32::try_from(tokens).unwrap_or(i32::MAX),
            ..ImageUsage::default()
        },
        images: 0,
    };
    if let Err(e) = record_call(app, call).await {
        tracing::warn!(error = %e, "an embedding call was not recorded");
    }
}

/// GET /api/search
#[tracing::instrument(skip(app, ask), fields(user_id = %caller.user_id))]
pub async fn search(app: &App, caller: &Caller, ask: SearchAsk) -> Result<SearchOutcome, ApiError> {
    let q = ask.q.clone().unwrap_or_default();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::Unprocessable {
            code: "query_too_long",
            message: format!("A search is at most {MAX_QUERY_CHARS} characters."),
            details: Some(serde_json::json!({"maxChars": MAX_QUERY_CHARS})),
        });
    }
    if q.contains('\0') {
        return Err(bad("invalid_query", "The search contains a NUL character."));
    }
    let limit = match ask.limit.as_deref() {
        None | Some("") => DEFAULT_LIMIT,
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| bad("invalid_limit", format!("`limit` is 1 to {MAX_LIMIT}.")))?,
    };
    if let Some(place) = ask.place.as_deref() {
        if place.chars().count() > 200 {
            return Err(bad("invalid_place", "`place` is at most 200 characters."));
        }
        if place.chars().any(char::is_control) {
            return Err(bad(
                "invalid_place",
                "`place` may not contain control characters.",
            ));
        }
    }
    let cursor = parse_cursor(ask.cursor.as_deref(), &ask)?;
    let today = match ask.today.as_deref().filter(|t| !t.is_empty()) {
        Some(raw) => parse_date(raw, "today")?,
        None => Utc::now().date_naive(),
    };
    let user_id = caller.user_id;

    if let Some(similar) = ask.similar_to.as_deref().filter(|s| !s.is_empty()) {
        let image_id = parse_uuid(similar, "similarTo")?;
        return similar_to(app, caller, &ask, image_id, limit, cursor).await;
    }

    let mut candidates = search::place_candidates(&q);
    if let Some(place) = ask
        .place
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        // The explicit place is looked for among the caller's places first.
        candidates.push(place.to_lowercase());
    }
    let known = db::with_client(&app.pool, |client| {
        let candidates = candidates.clone();
        async move { repo::known_places(&client, user_id, &candidates).await }
    })
    .await?;
    let mut understood = search::understand(&q, today, &known);
    apply_explicit(&ask, &mut understood, &known)?;
    let offset = cursor.as_ref().map_or(0, |c| c.offset);
    let filters = filters_for(user_id, &understood);
    let text = understood.text.trim().to_string();
    let has_words = !text.is_empty() && {
        let text = text.clone();
        db::with_client(&app.pool, |client| {
            let text = text.clone();
            async move { repo::has_lexemes(&client, &text).await }
        })
        .await?
    };

    // Filters alone page deep, newest first; words rank a pool of candidates.
    let depth = if text.is_empty() {
        (offset + limit + 1).min(FILTER_DEPTH + 1)
    } else {
        POOL
    };
    let keyword = {
        let (filters, text) = (filters.clone(), text.clone());
        db::with_client(&app.pool, |client| {
            let (filters, text) = (filters.clone(), text.clone());
            async move {
                let mut client = client;
                repo::keyword(
                    &mut client,
                    &filters,
                    has_words.then_some(text.as_str()),
                    depth as i64,
                )
                .await
            }
        })
        .await?
    };

    // The semantic side: only for words, and only where it can be asked.
    let (mode, mode_reason, ranked, total) = if text.is_empty() {
        let total = if keyword.len() < depth {
            keyword.len()
        } else {
            let filters = filters.clone();
            db::with_client(&app.pool, |client| {
                let filters = filters.clone();
                async move { repo::count(&client, &filters, FILTER_DEPTH as i64).await }
            })
            .await? as usize
        };
        (Mode::Keyword, None, keyword, total)
    } else {
        match semantic(app, caller, &filters, &text).await {
            Ok(near) => {
                // Words that are all stop words ("where were we") give the keyword side
                // nothing to match: it must not add the newest photos to the meaning's.
                let keyword = if has_words { keyword } else { Vec::new() };
                let fused: Vec<Uuid> = search::fuse(&[&keyword, &near], RRF_K)
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect();
                let total = fused.len();
                (Mode::Hybrid, None, fused, total)
            }
            Err(reason) => {
                let total = keyword.len();
                (Mode::Keyword, Some(reason), keyword, total)
            }
        }
    };
    if let Some(c) = &cursor
        && c.mode != mode
    {
        return Err(changed(c.mode));
    }
    let outcome = page(
        app,
        caller,
        &ask,
        Ranked {
            understood,
            mode,
            mode_reason,
            ids: ranked,
            total,
        },
        limit,
        offset,
    )
    .await?;
    if offset == 0 && !q.trim().is_empty() {
        let (q, total) = (q.trim().to_string(), outcome.total as i32);
        let remembered = db::with_client(&app.pool, |client| {
            let q = q.clone();
            async move { repo::remember(&client, user_id, &q, total).await }
        })
        .await;
        if let Err(e) = remembered {
            tracing::warn!(error = %e, "the search was not added to the history");
        }
    }
    tracing::info!(
        mode = outcome.mode.as_str(),
        total = outcome.total,
        dated = outcome.understood.from.is_some(),
        placed = outcome.understood.place.is_some(),
        "searched"
    );
    Ok(outcome)
}

/// The caller's photos nearest the query's embedding, or why there are none.
async fn semantic(
    app: &App,
    caller: &Caller,
    filters: &Filters,
    text: &str,
) -> Result<Vec<Uuid>, String> {
    let Some(embedder) = app.embedder() else {
        return Err("no embedding model is configured (GEMINI_API_KEY)".into());
    };
    if !app.has_vectors().await {
        return Err("this database has no pgvector".into());
    }
    let positive = search::positive_text(text);
    if positive.is_empty() {
        return Err("the search has only excluded words".into());
    }
    let texts = [positive];
    let answer = embedder
        .embed(&texts, EmbedTask::Query, QUERY_EMBED_TIMEOUT)
        .await;
    record_embedding(app, caller.user_id, None, embedder.model(), &texts, &answer).await;
    let vector = match answer {
        Ok(mut a) if a.vectors.len() == 1 => a.vectors.remove(0),
        Ok(_) => return Err("the embedding model's answer was unusable".into()),
        Err(e) => {
            tracing::warn!(error = %e, "no query embedding; answering from keywords");
            // A fixed sentence: the provider's own message stays in the logs.
            return Err(match e {
                EmbedError::Unavailable(_) => {
                    "the embedding model is unavailable or did not answer in time"
                }
                EmbedError::Refused(_) => "the embedding model refused the search",
                EmbedError::Unusable(_) => "the embedding model's answer was unusable",
            }
            .into());
        }
    };
    let mut client = app
        .pool
        .get()
        .await
        .map_err(|e| format!("the database: {e}"))?;
    repo::semantic(
        &mut client,
        filters,
        &vector,
        app.config.gemini.search_max_distance,
        POOL as i64,
    )
    .await
    .map_err(|e| {
        tracing::warn!(error = %e, "the semantic query failed; answering from keywords");
        "the semantic query failed".to_string()
    })
}

/// "More like this": nearest to the photo's own embedding; without one (or when the
/// vector query fails), photos that share its tags, town or caption words.
async fn similar_to(
    app: &App,
    caller: &Caller,
    ask: &SearchAsk,
    image_id: Uuid,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<SearchOutcome, ApiError> {
    let user_id = caller.user_id;
    let offset = cursor.as_ref().map_or(0, |c| c.offset);
    let vectors = app.has_vectors().await;
    let source = db::with_client(&app.pool, |client| async move {
        repo::embedding_sources(&client, user_id, &[image_id], vectors).await
    })
    .await?
    .into_iter()
    .next()
    .ok_or(ApiError::NotFound { what: "image" })?;
    let filters = Filters {
        user_id,
        except: Some(image_id),
        ..Filters::default()
    };
    let stored = if vectors {
        db::with_client(&app.pool, |client| async move {
            repo::embedding_of(&client, user_id, image_id).await
        })
        .await?
    } else {
        None
    };
    let mut reason = if vectors {
        "this photo has no embedding yet"
    } else {
        "this database has no pgvector"
    };
    if let Some(vector) = stored {
        let mut client = app.pool.get().await.map_err(DbError::from)?;
        let near = repo::semantic(
            &mut client,
            &filters,
            &vector,
            app.config.gemini.search_max_distance,
            POOL as i64,
        )
        .await;
        drop(client);
        match near {
            Ok(near) => {
                if let Some(c) = &cursor
                    && c.mode != Mode::Similar
                {
                    return Err(changed(c.mode));
                }
                let total = near.len();
                let ranked = Ranked {
                    understood: Understood::default(),
                    mode: Mode::Similar,
                    mode_reason: None,
                    ids: near,
                    total,
                };
                return page(app, caller, ask, ranked, limit, offset).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "the vector query failed; answering from keywords");
                reason = "the semantic query failed";
            }
        }
    }
    if let Some(c) = &cursor
        && c.mode != Mode::Keyword
    {
        return Err(changed(c.mode));
    }
    // Keywords: any of its tags, its town, its caption's words.
    let mut words: Vec<String> = source.tags.clone();
    if let Some(name) = source.place.as_ref().and_then(|p| p.name.clone()) {
        words.push(name);
    }
    if let Some(caption) = &source.caption {
        words.extend(
            caption
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() > 3)
                .map(str::to_string),
        );
    }
    let words: Vec<String> = words
        .into_iter()
        .map(|w| w.replace(['"', '-'], " "))
        .filter(|w| !w.trim().is_empty())
        .take(24)
        .collect();
    let ids = if words.is_empty() {
        Vec::new()
    } else {
        let text = words.join(" or ");
        db::with_client(&app.pool, |client| {
            let (filters, text) = (filters.clone(), text.clone());
            async move {
                let mut client = client;
                repo::keyword(&mut client, &filters, Some(&text), POOL as i64).await
            }
        })
        .await?
    };
    let total = ids.len();
    let ranked = Ranked {
        understood: Understood::default(),
        mode: Mode::Keyword,
        mode_reason: Some(reason.to_string()),
        ids,
        total,
    };
    page(app, caller, ask, ranked, limit, offset).await
}

/// A search's ranking, before its page is cut.
struct Ranked {
    understood: Understood,
    mode: Mode,
    mode_reason: Option<String>,
    ids: Vec<Uuid>,
    /// Every match (filters alone: counted up to [`FILTER_DEPTH`]).
    total: usize,
}

async fn page(
    app: &App,
    caller: &Caller,
    ask: &SearchAsk,
    ranked: Ranked,
    limit: usize,
    offset: usize,
) -> Result<SearchOutcome, ApiError> {
    let Ranked {
        understood,
        mode,
        mode_reason,
        ids: ranked,
        total,
    } = ranked;
    let ids: Vec<Uuid> = ranked.iter().skip(offset).take(limit).copied().collect();
    let next_cursor = (offset + ids.len() < ranked.len() && offset + ids.len() < FILTER_DEPTH)
        .then(|| cursor_at(offset + ids.len(), mode, ask));
    let user_id = caller.user_id;
    let rows = if ids.is_empty() {
        Vec::new()
    } else {
        db::with_client(&app.pool, |client| {
            let ids = ids.clone();
            async move { repo::results(&client, user_id, &ids).await }
        })
        .await?
    };
    let storage = app.storage()?;
    let urls = storage.url_signer().await.map_err(ApiError::internal)?;
    let hits = rows
        .into_iter()
        .map(|row| {
            let key = ImageKey::new(user_id, row.image_id);
            let url = urls
                .original(
                    &key,
                    ServeAs {
                        content_type: ContentType::parse(&row.content_type),
                    },
                )
                .map_err(ApiError::internal)?;
            let (thumb_url, preview_url) = urls
                .grid_and_preview(&key, row.renditions)
                .map_err(ApiError::internal)?;
            Ok(Hit {
                row,
                url,
                thumb_url,
                preview_url,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(SearchOutcome {
        understood,
        mode,
        mode_reason,
        hits,
        total,
        next_cursor,
    })
}

/// GET /api/search/history: the caller's latest distinct queries.
pub async fn history(app: &App, caller: &Caller) -> Result<Vec<repo::HistoryRow>, ApiError> {
    let user_id = caller.user_id;
    Ok(db::with_client(&app.pool, |client| async move {
        repo::history(&client, user_id, 20).await
    })
    .await?)
}

/// DELETE /api/search/history
pub async fn forget_history(app: &App, caller: &Caller) -> Result<u64, ApiError> {
    let user_id = caller.user_id;
    Ok(db::with_client(&app.pool, |client| async move {
        repo::forget(&client, user_id).await
    })
    .await?)
}

/// Embeds the photos among `ids` whose words changed since they were last embedded (all
/// of them after organising), 100 a call. Best effort: search works from keywords
/// without them, so a failure is logged and the photos wait for the next change.
/// Returns how many were stored.
#[tracing::instrument(skip(app, ids), fields(photos = ids.len()))]
pub async fn embed_photos(app: &App, user_id: Uuid, job_id: Option<Uuid>, ids: &[Uuid]) -> usize {
    let Some(embedder) = app.embedder() else {
        return 0;
    };
    if ids.is_empty() || !app.has_vectors().await {
        return 0;
    }
    let sources = match db::with_client(&app.pool, |client| {
        let ids = ids.to_vec();
        async move { repo::embedding_sources(&client, user_id, &ids, true).await }
    })
    .await
    {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "photos not embedded");
            return 0;
        }
    };
    let todo: Vec<(Uuid, String, Vec<u8>)> = sources
        .iter()
        .filter_map(|s| {
            let text = photo_text(
                s.caption.as_deref(),
                &s.tags,
                s.place.as_ref(),
                s.album_title.as_deref(),
            );
            let sha = Sha256::digest(format!("{}\n{text}", embedder.model()).as_bytes()).to_vec();
            (!text.is_empty() && s.embedded_sha.as_deref() != Some(sha.as_slice()))
                .then_some((s.image_id, text, sha))
        })
        .collect();
    let mut stored = 0;
    for chunk in todo.chunks(MAX_BATCH) {
        let texts: Vec<String> = chunk.iter().map(|(_, t, _)| t.clone()).collect();
        let answer = embedder
            .embed(&texts, EmbedTask::Document, DOCUMENT_EMBED_TIMEOUT)
            .await;
        record_embedding(app, user_id, job_id, embedder.model(), &texts, &answer).await;
        let vectors = match answer {
            Ok(a) if a.vectors.len() == chunk.len() => a.vectors,
            Ok(_) => {
                tracing::warn!("the embedding answer did not match the photos; skipped");
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, photos = chunk.len(), "photos not embedded");
                continue;
            }
        };
        let rows: Vec<(Uuid, Vec<u8>, Vec<f32>)> = chunk
            .iter()
            .zip(vectors)
            .map(|((id, _, sha), v)| (*id, sha.clone(), v))
            .collect();
        match db::with_client(&app.pool, |client| {
            let rows = rows.clone();
            let model = embedder.model().to_string();
            async move { repo::store_embeddings(&client, user_id, &model, &rows).await }
        })
        .await
        {
            Ok(n) => stored += n as usize,
            Err(e) => tracing::warn!(error = %e, "embeddings not stored"),
        }
    }
    tracing::info!(stored, "photos embedded");
    stored
}

/// Makes searchable, a batch at a time, the photos uploaded before places and search
/// existed (and any whose refresh was cut short): the place from their GPS, then the
/// search document. Returns how many.
pub async fn backfill(app: &App, limit: i64) -> Result<usize, DbError> {
    let rows = db::with_client(&app.pool, |client| async move {
        repo::unsearchable(&client, limit).await
    })
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = rows.iter().map(|(id, _, _)| *id).collect();
    let located: Vec<(Uuid, Option<f64>, Option<f64>)> = rows;
    let found: Vec<(Uuid, places::Place)> = tokio::task::spawn_blocking(move || {
        located
            .into_iter()
            .filter_map(|(id, lat, lon)| {
                let (lat, lon) = lat.zip(lon)?;
                places::locate(lat, lon).map(|p| (id, p))
            })
            .collect()
    })
    .await
    .unwrap_or_default();
    let mut client = app.pool.get().await.map_err(DbError::from)?;
    repo::make_searchable(&mut client, &found, &ids).await?;
    tracing::info!(
        photos = ids.len(),
        placed = found.len(),
        "photos made searchable"
    );
    Ok(ids.len())
}
