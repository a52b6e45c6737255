//! Search: the keyword side (the `search_doc` tsvector with `websearch_to_tsquery`), the
//! semantic side (pgvector's HNSW index), the filters both share, the rows a result page
//! shows, embeddings, and the caller's search history.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use pgvector::Vector;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::domain::places::Place;
use crate::repo::images::place_from;

/// What both sides filter on; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub user_id: Uuid,
    /// Local days, inclusive.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Local hours `[start, end)`; `start > end` wraps past midnight.
    pub hours: Option<(i32, i32)>,
    /// A town or region (case-insensitive).
    pub place: Option<String>,
    pub country_code: Option<String>,
    pub album: Option<Uuid>,
    /// Leave this photo out (the one "more like this" starts from).
    pub except: Option<Uuid>,
    /// Leave out photos matching this `websearch_to_tsquery` input (the query's `-words`).
    pub exclude: Option<String>,
}

/// The photo's wall-clock time where it was taken.
const LOCAL_TIME: &str = "((i.taken_at AT TIME ZONE 'UTC') \
     + make_interval(mins => coalesce(i.taken_at_offset_minutes, 0)::int))";

type Params = Vec<Box<dyn ToSql + Sync + Send>>;

/// The WHERE conditions for `filters` over `images i`, appending their parameters.
fn conditions(filters: &Filters, params: &mut Params) -> Vec<String> {
    let push = |params: &mut Params, value: Box<dyn ToSql + Sync + Send>| {
        params.push(value);
        format!("${}", params.len())
    };
    let mut out = vec![
        format!("i.user_id = {}", push(params, Box::new(filters.user_id))),
        "i.status = 'uploaded'".to_string(),
    ];
    // A UTC window around the local days keeps the (user_id, taken_at) index useful;
    // the local time decides (offsets reach ±18 h).
    if let Some(from) = filters.from {
        let day = from.and_hms_opt(0, 0, 0).unwrap_or_default();
        let p = push(params, Box::new(day));
        let utc = push(
            params,
            Box::new(day.and_utc() - chrono::Duration::hours(18)),
        );
        out.push(format!("i.taken_at >= {utc} AND {LOCAL_TIME} >= {p}"));
    }
    if let Some(to) = filters.to {
        let next = (to + chrono::Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default();
        let p = push(params, Box::new(next));
        let utc = push(
            params,
            Box::new(next.and_utc() + chrono::Duration::hours(18)),
        );
        out.push(format!("i.taken_at < {utc} AND {LOCAL_TIME} < {p}"));
    }
    if let Some((start, end)) = filters.hours {
        let (a, b) = (
            push(params, Box::new(f64::from(start))),
            push(params, Box::new(f64::from(end))),
        );
        let hour = format!("extract(hour FROM {LOCAL_TIME})::float8");
        out.push(if start <= end {
            format!("{hour} >= {a} AND {hour} < {b}")
        } else {
            format!("({hour} >= {a} OR {hour} < {b})")
        });
    }
    if let Some(place) = &filters.place {
        let p = push(params, Box::new(place.to_lowercase()));
        out.push(format!("(lower(i.place) = {p} OR lower(i.region) = {p})"));
    }
    if let Some(cc) = &filters.country_code {
        let p = push(params, Box::new(cc.to_ascii_uppercase()));
        out.push(format!("i.country_code = {p}"));
    }
    if let Some(album) = filters.album {
        let p = push(params, Box::new(album));
        out.push(format!(
            "EXISTS (SELECT 1 FROM album_images ai WHERE ai.image_id = i.id AND ai.album_id = {p})"
        ));
    }
    if let Some(except) = filters.except {
        let p = push(params, Box::new(except));
        out.push(format!("i.id <> {p}"));
    }
    if let Some(exclude) = &filters.exclude {
        let p = push(params, Box::new(exclude.clone()));
        out.push(format!(
            "NOT (coalesce(i.search_doc, ''::tsvector) @@ websearch_to_tsquery('english', {p}))"
        ));
    }
    out
}

fn refs(params: &Params) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// Whether `text` leaves any word to match once stop words are gone ("the" does not).
pub async fn has_lexemes(
    client: &impl GenericClient,
    text: &str,
) -> Result<bool, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached("SELECT numnode(websearch_to_tsquery('english', $1)) > 0")
        .await?;
    client.query_one(&stmt, &[&text]).await?.try_get(0)
}

/// Matches ranked by text relevance at most: a common word among a large library is
/// ranked among its newest this many matches (ranking every one of 30,000 costs
/// 150 ms; see docs/PERFORMANCE.md, "Search").
pub const RANKED_MATCHES: i64 = 2_000;

/// Runs `sql` in a transaction with custom plans: the cost of a user's filter depends on
/// how many photos that user has, which a cached generic plan cannot know (it picked a
/// scan of every vector of a 100,000-photo user over the HNSW index, 760 ms against 60).
async fn query_custom(
    client: &mut deadpool_postgres::Object,
    settings: &str,
    sql: &str,
    params: &Params,
) -> Result<Vec<Uuid>, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.batch_execute(settings).await?;
    let stmt = tx.prepare_cached(sql).await?;
    let ids = tx
        .query(&stmt, &refs(params))
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect();
    tx.commit().await?;
    ids
}

/// The caller's photos matching the filters and (when given) the words, best first:
/// by text rank among the newest [`RANKED_MATCHES`] matches, then newest; without
/// words, newest first.
pub async fn keyword(
    client: &mut deadpool_postgres::Object,
    filters: &Filters,
    text: Option<&str>,
    limit: i64,
) -> Result<Vec<Uuid>, tokio_postgres::Error> {
    let mut params: Params = Vec::new();
    let mut conds = conditions(filters, &mut params);
    let sql = match text {
        Some(text) => {
            params.push(Box::new(text.to_string()));
            let q = format!("websearch_to_tsquery('english', ${})", params.len());
            conds.push(format!("i.search_doc @@ {q}"));
            params.push(Box::new(RANKED_MATCHES));
            let cap = params.len();
            params.push(Box::new(limit));
            format!(
                "SELECT id FROM ( \
                     SELECT i.id, i.taken_at, i.search_doc FROM images i WHERE {} \
                     ORDER BY i.taken_at DESC NULLS LAST, i.id LIMIT ${cap}) m \
                 ORDER BY ts_rank_cd(m.search_doc, {q}) DESC, m.taken_at DESC NULLS LAST, m.id \
                 LIMIT ${}",
                conds.join(" AND "),
                params.len()
            )
        }
        None => {
            params.push(Box::new(limit));
            format!(
                "SELECT i.id FROM images i WHERE {} \
                 ORDER BY i.taken_at DESC NULLS LAST, i.id LIMIT ${}",
                conds.join(" AND "),
                params.len()
            )
        }
    };
    query_custom(
        client,
        "SET LOCAL plan_cache_mode = force_custom_plan",
        &sql,
        &params,
    )
    .await
}

/// How many of the caller's photos match the filters, counting no further than `cap`.
pub async fn count(
    client: &impl GenericClient,
    filters: &Filters,
    cap: i64,
) -> Result<i64, tokio_postgres::Error> {
    let mut params: Params = Vec::new();
    let conds = conditions(filters, &mut params);
    params.push(Box::new(cap));
    let sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM images i WHERE {} LIMIT ${}) m",
        conds.join(" AND "),
        params.len()
    );
    let stmt = client.prepare_cached(&sql).await?;
    client.query_one(&stmt, &refs(&params)).await?.try_get(0)
}

/// The caller's photos nearest to `vector` (cosine), filtered, no farther than
/// `max_distance`; pgvector's iterative index scan keeps looking past other users'
/// neighbours.
pub async fn semantic(
    client: &mut deadpool_postgres::Object,
    filters: &Filters,
    vector: &[f32],
    max_distance: f64,
    limit: i64,
) -> Result<Vec<Uuid>, tokio_postgres::Error> {
    let mut params: Params = Vec::new();
    let conds = conditions(filters, &mut params);
    params.push(Box::new(Vector::from(vector.to_vec())));
    let v = params.len();
    params.push(Box::new(limit));
    let l = params.len();
    params.push(Box::new(max_distance));
    let sql = format!(
        "WITH near AS MATERIALIZED ( \
             SELECT i.id, e.embedding <=> ${v} AS distance \
             FROM image_embeddings e JOIN images i ON i.id = e.image_id \
             WHERE e.user_id = $1 AND {} \
             ORDER BY e.embedding <=> ${v} LIMIT ${l}) \
         SELECT id FROM near WHERE distance <= ${} ORDER BY distance, id",
        conds.join(" AND "),
        params.len()
    );
    query_custom(
        client,
        "SET LOCAL plan_cache_mode = force_custom_plan; \
         SET LOCAL hnsw.iterative_scan = relaxed_order; SET LOCAL hnsw.ef_search = 100",
        &sql,
        &params,
    )
    .await
}

/// The stored embedding of one of the caller's photos.
pub async fn embedding_of(
    client: &impl GenericClient,
    user_id: Uuid,
    image_id: Uuid,
) -> Result<Option<Vec<f32>>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT embedding FROM image_embeddings WHERE image_id = $2 AND user_id = $1",
        )
        .await?;
    Ok(client
        .query_opt(&stmt, &[&user_id, &image_id])
        .await?
        .map(|r| r.try_get::<_, Vector>(0))
        .transpose()?
        .map(|v| v.to_vec()))
}

/// Whether the embeddings table exists (pgvector was there when migrating).
pub async fn has_vectors(client: &impl GenericClient) -> Result<bool, tokio_postgres::Error> {
    client
        .query_one("SELECT to_regclass('image_embeddings') IS NOT NULL", &[])
        .await?
        .try_get(0)
}

/// Which of the lowercase `candidates` name a town or region of the caller's photos,
/// with the name as stored. One index probe per candidate.
pub async fn known_places(
    client: &impl GenericClient,
    user_id: Uuid,
    candidates: &[String],
) -> Result<HashMap<String, String>, tokio_postgres::Error> {
    if candidates.is_empty() {
        return Ok(HashMap::new());
    }
    let stmt = client
        .prepare_cached(
            "SELECT c, coalesce( \
                 (SELECT i.place FROM images i WHERE i.user_id = $1 AND i.place IS NOT NULL \
                    AND lower(i.place) = c LIMIT 1), \
                 (SELECT i.region FROM images i WHERE i.user_id = $1 AND i.region IS NOT NULL \
                    AND lower(i.region) = c LIMIT 1)) \
             FROM unnest($2::text[]) AS c",
        )
        .await?;
    let mut out = HashMap::new();
    for row in client.query(&stmt, &[&user_id, &candidates]).await? {
        if let Some(name) = row.try_get::<_, Option<String>>(1)? {
            out.insert(row.try_get(0)?, name);
        }
    }
    Ok(out)
}

/// One result as a page shows it.
#[derive(Debug, Clone)]
pub struct ResultRow {
    pub image_id: Uuid,
    pub filename: String,
    pub caption: Option<String>,
    pub tags: Vec<String>,
    pub place: Option<Place>,
    pub taken_at: Option<DateTime<Utc>>,
    pub offset_minutes: Option<i16>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub camera_model: Option<String>,
    pub content_type: String,
    pub renditions: bool,
    /// The newest gallery holding it, and its album there.
    pub gallery_id: Option<Uuid>,
    pub album_id: Option<Uuid>,
    pub album_title: Option<String>,
}

/// The rows for `ids`, in the order of `ids` (ids not the caller's are left out).
pub async fn results(
    client: &impl GenericClient,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<ResultRow>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT i.id, i.original_filename, i.caption, i.tags, i.place, i.region, i.country_code, \
                    i.taken_at, i.taken_at_offset_minutes, i.width, i.height, i.camera_model, \
                    coalesce(i.detected_content_type, i.declared_content_type), i.renditions, \
                    a.gallery_id, a.id, a.title \
             FROM unnest($2::uuid[]) WITH ORDINALITY AS r(id, ord) \
             JOIN images i ON i.id = r.id AND i.user_id = $1 \
             LEFT JOIN LATERAL ( \
                 SELECT al.gallery_id, al.id, al.title FROM album_images ai \
                 JOIN albums al ON al.id = ai.album_id \
                 WHERE ai.image_id = i.id ORDER BY al.created_at DESC LIMIT 1) a ON true \
             ORDER BY r.ord",
        )
        .await?;
    client
        .query(&stmt, &[&user_id, &ids])
        .await?
        .iter()
        .map(|r| {
            Ok(ResultRow {
                image_id: r.try_get(0)?,
                filename: r.try_get(1)?,
                caption: r.try_get(2)?,
                tags: r.try_get(3)?,
                place: place_from(r, 4, 5, 6)?,
                taken_at: r.try_get(7)?,
                offset_minutes: r.try_get(8)?,
                width: r.try_get(9)?,
                height: r.try_get(10)?,
                camera_model: r.try_get(11)?,
                content_type: r.try_get(12)?,
                renditions: r.try_get(13)?,
                gallery_id: r.try_get(14)?,
                album_id: r.try_get(15)?,
                album_title: r.try_get(16)?,
            })
        })
        .collect()
}

/// A photo's words as its embedding reads them.
#[derive(Debug, Clone)]
pub struct EmbeddingSource {
    pub image_id: Uuid,
    pub caption: Option<String>,
    pub tags: Vec<String>,
    pub place: Option<Place>,
    pub album_title: Option<String>,
    /// SHA-256 of the text last embedded, if any.
    pub embedded_sha: Option<Vec<u8>>,
}

/// The words of the caller's photos among `ids`; `embedded`: also the SHA-256 of the
/// text last embedded (only where the embeddings table exists).
pub async fn embedding_sources(
    client: &impl GenericClient,
    user_id: Uuid,
    ids: &[Uuid],
    embedded: bool,
) -> Result<Vec<EmbeddingSource>, tokio_postgres::Error> {
    let sha = if embedded {
        "(SELECT e.source_sha FROM image_embeddings e WHERE e.image_id = i.id)"
    } else {
        "NULL::bytea"
    };
    let sql = format!(
        "SELECT i.id, i.caption, i.tags, i.place, i.region, i.country_code, a.title, {sha} \
         FROM images i \
         LEFT JOIN LATERAL ( \
             SELECT al.title FROM album_images ai JOIN albums al ON al.id = ai.album_id \
             WHERE ai.image_id = i.id ORDER BY al.created_at DESC LIMIT 1) a ON true \
         WHERE i.user_id = $1 AND i.id = ANY($2) AND i.status = 'uploaded' \
         ORDER BY i.id"
    );
    let stmt = client.prepare_cached(&sql).await?;
    client
        .query(&stmt, &[&user_id, &ids])
        .await?
        .iter()
        .map(|r| {
            Ok(EmbeddingSource {
                image_id: r.try_get(0)?,
                caption: r.try_get(1)?,
                tags: r.try_get(2)?,
                place: place_from(r, 3, 4, 5)?,
                album_title: r.try_get(6)?,
                embedded_sha: r.try_get(7)?,
            })
        })
        .collect()
}

/// Stores embeddings (a photo embedded again replaces its vector); a photo deleted
/// meanwhile is skipped, not an error.
pub async fn store_embeddings(
    client: &impl GenericClient,
    user_id: Uuid,
    model: &str,
    rows: &[(Uuid, Vec<u8>, Vec<f32>)],
) -> Result<u64, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO image_embeddings (image_id, user_id, model, source_sha, embedding) \
             SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM images WHERE id = $1 AND user_id = $2) \
             ON CONFLICT (image_id) DO UPDATE SET model = excluded.model, \
                 source_sha = excluded.source_sha, embedding = excluded.embedding, created_at = now()",
        )
        .await?;
    let mut stored = 0;
    for (id, sha, vector) in rows {
        let vector = Vector::from(vector.clone());
        stored += client
            .execute(&stmt, &[id, &user_id, &model, sha, &vector])
            .await?;
    }
    Ok(stored)
}

/// Notes a query in the caller's history.
pub async fn remember(
    client: &impl GenericClient,
    user_id: Uuid,
    query: &str,
    result_count: i32,
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO search_history (user_id, query, result_count) VALUES ($1, $2, $3)",
        )
        .await?;
    client
        .execute(&stmt, &[&user_id, &query, &result_count])
        .await?;
    // Only the latest hundred are kept.
    let trim = client
        .prepare_cached(
            "DELETE FROM search_history WHERE user_id = $1 AND id <= ( \
                 SELECT id FROM search_history WHERE user_id = $1 \
                 ORDER BY id DESC OFFSET 100 LIMIT 1)",
        )
        .await?;
    client.execute(&trim, &[&user_id]).await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub query: String,
    pub result_count: i32,
    pub searched_at: DateTime<Utc>,
}

/// The caller's latest distinct queries, newest first.
pub async fn history(
    client: &impl GenericClient,
    user_id: Uuid,
    limit: i64,
) -> Result<Vec<HistoryRow>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT query, result_count, searched_at FROM ( \
                 SELECT DISTINCT ON (lower(query)) query, result_count, searched_at \
                 FROM search_history WHERE user_id = $1 \
                 ORDER BY lower(query), searched_at DESC) h \
             ORDER BY searched_at DESC LIMIT $2",
        )
        .await?;
    client
        .query(&stmt, &[&user_id, &limit])
        .await?
        .iter()
        .map(|r| {
            Ok(HistoryRow {
                query: r.try_get(0)?,
                result_count: r.try_get(1)?,
                searched_at: r.try_get(2)?,
            })
        })
        .collect()
}

/// Forgets the caller's history; returns how many entries went.
pub async fn forget(
    client: &impl GenericClient,
    user_id: Uuid,
) -> Result<u64, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached("DELETE FROM search_history WHERE user_id = $1")
        .await?;
    client.execute(&stmt, &[&user_id]).await
}

/// Uploaded photos with no search document yet (uploaded before places and search, or
/// whose refresh was cut short), with their GPS, at most `limit`.
pub async fn unsearchable(
    client: &impl GenericClient,
    limit: i64,
) -> Result<Vec<(Uuid, Option<f64>, Option<f64>)>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT id, latitude, longitude FROM images \
             WHERE status = 'uploaded' AND search_doc IS NULL ORDER BY id LIMIT $1",
        )
        .await?;
    client
        .query(&stmt, &[&limit])
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

/// Gives photos found by [`unsearchable`] their place (where it had none) and their
/// search document, in one statement each, in one transaction.
pub async fn make_searchable(
    client: &mut deadpool_postgres::Object,
    places: &[(Uuid, Place)],
    ids: &[Uuid],
) -> Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let set = tx
        .prepare_cached(
            "UPDATE images SET place = $2, region = $3, country_code = $4 \
             WHERE id = $1 AND country_code IS NULL",
        )
        .await?;
    for (id, p) in places {
        tx.execute(&set, &[id, &p.name, &p.region, &p.country_code])
            .await?;
    }
    crate::repo::images::refresh_search(&tx, ids).await?;
    tx.commit().await
}
