use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::domain::inspect::Inspection;
use crate::domain::places::Place;
use crate::domain::{ContentType, ImageKey, ImageStatus};

/// A new image row, before its bytes arrive.
#[derive(Debug, Clone)]
pub struct NewImage {
    pub id: Uuid,
    pub user_id: Uuid,
    pub key: ImageKey,
    pub filename: String,
    pub content_type: ContentType,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct ImageRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub original_filename: String,
    pub declared_content_type: String,
    pub declared_size: i64,
    pub status: ImageStatus,
    pub rejection_reason: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub taken_at: Option<DateTime<Utc>>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The ETag of the version inspected (None before inspection, or for rows inspected
    /// before ETags were recorded).
    pub etag: Option<String>,
    pub detected_content_type: Option<String>,
    pub size_bytes: Option<i64>,
    pub offset_minutes: Option<i16>,
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    pub caption: Option<String>,
    pub tags: Vec<String>,
    pub renditions: bool,
    pub created_at: DateTime<Utc>,
    pub uploaded_at: Option<DateTime<Utc>>,
    /// `upload`, or `generated` / `edited` for a picture Momentarium made.
    pub origin: String,
    pub place: Option<Place>,
}

impl ImageRow {
    pub fn key(&self) -> ImageKey {
        ImageKey::new(self.user_id, self.id)
    }
}

const COLUMNS: &str = "id, user_id, original_filename, declared_content_type, declared_size, \
                       status, rejection_reason, width, height, taken_at, latitude, longitude, etag, \
                       detected_content_type, size_bytes, taken_at_offset_minutes, camera_make, \
                       camera_model, caption, tags, renditions, created_at, uploaded_at, origin, \
                       place, region, country_code";

impl TryFrom<&Row> for ImageRow {
    type Error = tokio_postgres::Error;
    fn try_from(row: &Row) -> Result<Self, Self::Error> {
        let status: String = row.try_get("status")?;
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            original_filename: row.try_get("original_filename")?,
            declared_content_type: row.try_get("declared_content_type")?,
            declared_size: row.try_get("declared_size")?,
            // The CHECK constraint admits only the three known statuses.
            status: ImageStatus::parse(&status).unwrap_or(ImageStatus::Rejected),
            rejection_reason: row.try_get("rejection_reason")?,
            width: row.try_get("width")?,
            height: row.try_get("height")?,
            taken_at: row.try_get("taken_at")?,
            latitude: row.try_get("latitude")?,
            longitude: row.try_get("longitude")?,
            etag: row.try_get("etag")?,
            detected_content_type: row.try_get("detected_content_type")?,
            size_bytes: row.try_get("size_bytes")?,
            offset_minutes: row.try_get("taken_at_offset_minutes")?,
            camera_make: row.try_get("camera_make")?,
            camera_model: row.try_get("camera_model")?,
            caption: row.try_get("caption")?,
            tags: row.try_get("tags")?,
            renditions: row.try_get("renditions")?,
            created_at: row.try_get("created_at")?,
            uploaded_at: row.try_get("uploaded_at")?,
            origin: row.try_get("origin")?,
            place: place_from(row, "place", "region", "country_code")?,
        })
    }
}

/// A [`Place`] from its three columns (none without a country).
pub fn place_from<I: tokio_postgres::row::RowIndex + std::fmt::Display + Copy>(
    row: &Row,
    name: I,
    region: I,
    country_code: I,
) -> Result<Option<Place>, tokio_postgres::Error> {
    let Some(country_code) = row.try_get::<_, Option<String>>(country_code)? else {
        return Ok(None);
    };
    Ok(Some(Place {
        name: row.try_get(name)?,
        region: row.try_get(region)?,
        country_code,
    }))
}

/// Inserts a batch of `pending_upload` rows in one statement.
pub async fn insert_pending(
    client: &impl GenericClient,
    images: &[NewImage],
) -> Result<(), tokio_postgres::Error> {
    let ids: Vec<Uuid> = images.iter().map(|i| i.id).collect();
    let users: Vec<Uuid> = images.iter().map(|i| i.user_id).collect();
    let keys: Vec<String> = images.iter().map(|i| i.key.to_string()).collect();
    let names: Vec<&str> = images.iter().map(|i| i.filename.as_str()).collect();
    let types: Vec<&str> = images.iter().map(|i| i.content_type.as_str()).collect();
    let sizes: Vec<i64> = images.iter().map(|i| i.size as i64).collect();
    let stmt = client
        .prepare_cached(
            "INSERT INTO images (id, user_id, storage_key, original_filename, declared_content_type, declared_size) \
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bigint[])",
        )
        .await?;
    client
        .execute(&stmt, &[&ids, &users, &keys, &names, &types, &sizes])
        .await?;
    Ok(())
}

/// One of the user's images.
pub async fn find(
    client: &impl GenericClient,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<ImageRow>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM images WHERE id = $1 AND user_id = $2");
    super::fetch_opt(client, &sql, &[&id, &user_id]).await
}

/// The user's images among `ids` (others' and unknown ids are simply absent).
pub async fn find_many(
    client: &impl GenericClient,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<ImageRow>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM images WHERE user_id = $1 AND id = ANY($2)");
    super::fetch_all(client, &sql, &[&user_id, &ids]).await
}

/// What inspecting one version of an upload found.
#[derive(Debug, Clone, Copy)]
pub struct Inspected<'a> {
    pub size: u64,
    pub inspection: &'a Inspection,
    /// The ETag of the version inspected.
    pub etag: Option<&'a str>,
    /// Whether its renditions were made.
    pub renditions: bool,
    /// Where its GPS points.
    pub place: Option<&'a Place>,
}

/// Records an inspected upload and the ETag of the version inspected. A `pending_upload`
/// row changes; so does an `uploaded` one still holding `previous_etag` (a new version
/// re-inspected). Running it twice, or after a rejection, does nothing. Returns whether
/// the row changed.
pub async fn mark_uploaded(
    client: &impl GenericClient,
    id: Uuid,
    found: Inspected<'_>,
    previous_etag: Option<&str>,
) -> Result<bool, tokio_postgres::Error> {
    let Inspected {
        size,
        inspection,
        etag,
        renditions,
        place,
    } = found;
    let stmt = client
        .prepare_cached(
            "UPDATE images SET status = 'uploaded', uploaded_at = coalesce(uploaded_at, now()), \
                 size_bytes = $2, \
                 detected_content_type = $3, width = $4, height = $5, taken_at = $6, \
                 taken_at_offset_minutes = $7, latitude = $8, longitude = $9, \
                 camera_make = $10, camera_model = $11, orientation = $12, etag = $13, \
                 renditions = $15, place = $16, region = $17, country_code = $18 \
             WHERE id = $1 AND (status = 'pending_upload' \
                   OR (status = 'uploaded' AND etag IS NOT DISTINCT FROM $14))",
        )
        .await?;
    let exif = &inspection.exif;
    let n = client
        .execute(
            &stmt,
            &[
                &id,
                &(size as i64),
                &inspection.content_type.as_str(),
                &(inspection.width as i32),
                &(inspection.height as i32),
                &exif.taken_at,
                &exif.offset_minutes,
                &exif.latitude,
                &exif.longitude,
                &exif.camera_make,
                &exif.camera_model,
                &exif.orientation.map(i16::from),
                &etag,
                &previous_etag,
                &renditions,
                &place.and_then(|p| p.name.as_deref()),
                &place.and_then(|p| p.region.as_deref()),
                &place.map(|p| p.country_code.as_str()),
            ],
        )
        .await?;
    if n == 1 {
        refresh_search(client, &[id]).await?;
    }
    Ok(n == 1)
}

/// Recomputes what search matches for these images (V12's `image_search_refresh`): after
/// inspection, and after organising gives them captions, tags and albums.
pub async fn refresh_search(
    client: &impl GenericClient,
    ids: &[Uuid],
) -> Result<(), tokio_postgres::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let stmt = client
        .prepare_cached("SELECT image_search_refresh($1::uuid[])")
        .await?;
    client.query(&stmt, &[&ids]).await?;
    Ok(())
}

/// Notes that the renditions of the version `etag` names now exist (made by the
/// processor for a photo inspected before renditions were); a row that moved on to
/// another version is left alone.
pub async fn mark_renditions(
    client: &impl GenericClient,
    id: Uuid,
    etag: Option<&str>,
) -> Result<bool, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE images SET renditions = true \
             WHERE id = $1 AND status = 'uploaded' AND etag IS NOT DISTINCT FROM $2",
        )
        .await?;
    Ok(client.execute(&stmt, &[&id, &etag]).await? == 1)
}

/// Marks an upload rejected, with the reason: a pending one, or an uploaded one whose
/// object was replaced by bytes that failed inspection (the row still holding
/// `previous_etag`). Returns whether the row changed.
pub async fn mark_rejected(
    client: &impl GenericClient,
    id: Uuid,
    reason: &str,
    previous_etag: Option<&str>,
) -> Result<bool, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE images SET status = 'rejected', rejection_reason = $2 \
             WHERE id = $1 AND (status = 'pending_upload' \
                   OR (status = 'uploaded' AND etag IS NOT DISTINCT FROM $3))",
        )
        .await?;
    Ok(client
        .execute(&stmt, &[&id, &reason, &previous_etag])
        .await?
        == 1)
}

/// What the processor needs of each photo in a batch.
#[derive(Debug, Clone)]
pub struct BatchImage {
    pub id: Uuid,
    pub user_id: Uuid,
    pub content_type: String,
    pub orientation: Option<i16>,
    pub taken_at: Option<DateTime<Utc>>,
    pub offset_minutes: Option<i16>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    /// The inspected version; the processor reads exactly this one.
    pub etag: Option<String>,
    /// Whether its renditions exist (the model's copy is read instead of the original).
    pub renditions: bool,
    pub place: Option<Place>,
}

impl BatchImage {
    pub fn key(&self) -> ImageKey {
        ImageKey::new(self.user_id, self.id)
    }
}

/// The user's uploaded photos among `ids`, in the order of `ids`.
pub async fn batch(
    client: &impl GenericClient,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<BatchImage>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT i.id, i.user_id, coalesce(i.detected_content_type, i.declared_content_type), i.orientation, \
                    i.taken_at, i.taken_at_offset_minutes, i.latitude, i.longitude, i.camera_make, i.camera_model, i.etag, i.renditions, \
                    i.place, i.region, i.country_code \
             FROM UNNEST($2::uuid[]) WITH ORDINALITY AS b(id, ord) \
             JOIN images i ON i.id = b.id AND i.user_id = $1 AND i.status = 'uploaded' \
             ORDER BY b.ord",
        )
        .await?;
    client
        .query(&stmt, &[&user_id, &ids])
        .await?
        .iter()
        .map(batch_image)
        .collect()
}

/// A [`BatchImage`] from the columns `batch` and `without_renditions` select, in order.
fn batch_image(r: &tokio_postgres::Row) -> Result<BatchImage, tokio_postgres::Error> {
    Ok(BatchImage {
        id: r.try_get(0)?,
        user_id: r.try_get(1)?,
        content_type: r.try_get(2)?,
        orientation: r.try_get(3)?,
        taken_at: r.try_get(4)?,
        offset_minutes: r.try_get(5)?,
        latitude: r.try_get(6)?,
        longitude: r.try_get(7)?,
        camera_make: r.try_get(8)?,
        camera_model: r.try_get(9)?,
        etag: r.try_get(10)?,
        renditions: r.try_get(11)?,
        place: place_from(r, 12, 13, 14)?,
    })
}

/// Uploaded photos of any user that have no renditions yet, of the given content types,
/// oldest first, leaving out `skip` (ones that failed already).
pub async fn without_renditions(
    client: &impl GenericClient,
    types: &[&str],
    skip: &[Uuid],
    limit: i64,
) -> Result<Vec<BatchImage>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT i.id, i.user_id, coalesce(i.detected_content_type, i.declared_content_type), i.orientation, \
                    i.taken_at, i.taken_at_offset_minutes, i.latitude, i.longitude, i.camera_make, i.camera_model, i.etag, i.renditions, \
                    i.place, i.region, i.country_code \
             FROM images i \
             WHERE i.status = 'uploaded' AND NOT i.renditions \
               AND coalesce(i.detected_content_type, i.declared_content_type) = ANY($1) \
               AND NOT (i.id = ANY($2)) \
             ORDER BY i.uploaded_at NULLS LAST, i.id LIMIT $3",
        )
        .await?;
    client
        .query(&stmt, &[&types, &skip, &limit])
        .await?
        .iter()
        .map(batch_image)
        .collect()
}

/// Writes captions and tags for a batch in one statement.
pub async fn set_captions(
    client: &impl GenericClient,
    user_id: Uuid,
    ids: &[Uuid],
    captions: &[Option<String>],
    tags: &[String],
) -> Result<(), tokio_postgres::Error> {
    // Tags travel as one JSON array per photo, since PostgreSQL has no ragged arrays.
    let stmt = client
        .prepare_cached(
            "UPDATE images i SET caption = u.caption, \
                 tags = ARRAY(SELECT jsonb_array_elements_text(u.tags::jsonb)) \
             FROM UNNEST($2::uuid[], $3::text[], $4::text[]) AS u(id, caption, tags) \
             WHERE i.id = u.id AND i.user_id = $1",
        )
        .await?;
    client
        .execute(&stmt, &[&user_id, &ids, &captions, &tags])
        .await?;
    Ok(())
}

/// Which of these photos of the user's still exist, each locked against deletion until
/// the transaction ends (`FOR KEY SHARE`: a concurrent delete waits, then sees them in
/// albums and removes those places with them). Call inside the transaction that writes
/// a job's result.
pub async fn lock_existing(
    client: &impl GenericClient,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<std::collections::HashSet<Uuid>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT id FROM images WHERE user_id = $1 AND id = ANY($2) ORDER BY id FOR KEY SHARE",
        )
        .await?;
    Ok(client
        .query(&stmt, &[&user_id, &ids])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}
