use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::domain::JobStatus;

#[derive(Debug, Clone)]
pub struct GalleryRow {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub job_id: Uuid,
    pub status: JobStatus,
    pub image_count: i32,
    pub album_count: i64,
}

/// One row per (album, image), albums and images in order; an album with no images
/// yields one row with `image_id = None`.
#[derive(Debug, Clone)]
pub struct AlbumImageRow {
    pub album_id: Uuid,
    pub title: String,
    pub description: String,
    pub cover_image_id: Option<Uuid>,
    pub image_id: Option<Uuid>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub taken_at: Option<DateTime<Utc>>,
    pub caption: Option<String>,
    pub tags: Option<Vec<String>>,
    /// What the inspection found the bytes to be.
    pub content_type: Option<String>,
    /// Whether its renditions exist.
    pub renditions: bool,
    /// The album's place in the gallery and the photo's in the album: the photos' order.
    pub album_position: i32,
    pub image_position: Option<i32>,
}

/// A new album and its images, in order.
#[derive(Debug, Clone)]
pub struct NewAlbum {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub cover_image_id: Option<Uuid>,
    pub image_ids: Vec<Uuid>,
}

const SUMMARY: &str = "SELECT g.id, g.created_at, j.id AS job_id, j.status, \
         cardinality(j.image_ids) AS image_count, \
         (SELECT count(*) FROM albums a WHERE a.gallery_id = g.id) AS album_count \
     FROM galleries g JOIN processing_jobs j ON j.gallery_id = g.id";

impl TryFrom<&tokio_postgres::Row> for GalleryRow {
    type Error = tokio_postgres::Error;
    fn try_from(row: &tokio_postgres::Row) -> Result<Self, Self::Error> {
        let status: String = row.try_get("status")?;
        Ok(GalleryRow {
            id: row.try_get("id")?,
            created_at: row.try_get("created_at")?,
            job_id: row.try_get("job_id")?,
            status: JobStatus::parse(&status).unwrap_or(JobStatus::Failed),
            image_count: row.try_get("image_count")?,
            album_count: row.try_get("album_count")?,
        })
    }
}

/// One of the user's galleries.
pub async fn find(
    client: &impl GenericClient,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<GalleryRow>, tokio_postgres::Error> {
    let sql = format!("{SUMMARY} WHERE g.id = $1 AND g.user_id = $2");
    super::fetch_opt(client, &sql, &[&id, &user_id]).await
}

/// The user's galleries, newest first, after the keyset cursor `(created_at, id)`.
pub async fn list(
    client: &impl GenericClient,
    user_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<GalleryRow>, tokio_postgres::Error> {
    let (at, id) = match after {
        Some((at, id)) => (Some(at), Some(id)),
        None => (None, None),
    };
    let sql = format!(
        "{SUMMARY} WHERE g.user_id = $1 \
           AND ($2::timestamptz IS NULL OR (g.created_at, g.id) < ($2, $3)) \
         ORDER BY g.created_at DESC, g.id DESC LIMIT $4"
    );
    super::fetch_all(client, &sql, &[&user_id, &at, &id, &limit]).await
}

/// Every album of the gallery with its images, in order, in one query.
pub async fn album_images(
    client: &impl GenericClient,
    user_id: Uuid,
    gallery_id: Uuid,
) -> Result<Vec<AlbumImageRow>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT a.id, a.title, a.description, a.cover_image_id, \
                    i.id AS image_id, i.width, i.height, i.taken_at, i.caption, i.tags, \
                    i.detected_content_type, coalesce(i.renditions, false), a.position, \
                    CASE WHEN i.id IS NOT NULL THEN ai.position END \
             FROM albums a \
             LEFT JOIN album_images ai ON ai.album_id = a.id \
             LEFT JOIN images i ON i.id = ai.image_id AND i.user_id = a.user_id \
                  AND i.status = 'uploaded' \
             WHERE a.gallery_id = $1 AND a.user_id = $2 \
             ORDER BY a.position, ai.position",
        )
        .await?;
    client
        .query(&stmt, &[&gallery_id, &user_id])
        .await?
        .iter()
        .map(|row| {
            Ok(AlbumImageRow {
                album_id: row.try_get(0)?,
                title: row.try_get(1)?,
                description: row.try_get(2)?,
                cover_image_id: row.try_get(3)?,
                image_id: row.try_get(4)?,
                width: row.try_get(5)?,
                height: row.try_get(6)?,
                taken_at: row.try_get(7)?,
                caption: row.try_get(8)?,
                tags: row.try_get(9)?,
                content_type: row.try_get(10)?,
                renditions: row.try_get(11)?,
                album_position: row.try_get(12)?,
                image_position: row.try_get(13)?,
            })
        })
        .collect()
}

/// Writes a gallery's albums and memberships (a handful of statements, whatever the
/// number of photos). Call inside the transaction that completes the job.
pub async fn insert_albums(
    client: &impl GenericClient,
    user_id: Uuid,
    gallery_id: Uuid,
    albums: &[NewAlbum],
) -> Result<(), tokio_postgres::Error> {
    let ids: Vec<Uuid> = albums.iter().map(|a| a.id).collect();
    let titles: Vec<&str> = albums.iter().map(|a| a.title.as_str()).collect();
    let descriptions: Vec<&str> = albums.iter().map(|a| a.description.as_str()).collect();
    let covers: Vec<Option<Uuid>> = albums.iter().map(|a| a.cover_image_id).collect();
    let positions: Vec<i32> = (0..albums.len() as i32).collect();
    let stmt = client
        .prepare_cached(
            "INSERT INTO albums (id, gallery_id, user_id, title, description, cover_image_id, position) \
             SELECT a.id, $1, $2, a.title, a.description, a.cover, a.position \
             FROM UNNEST($3::uuid[], $4::text[], $5::text[], $6::uuid[], $7::int[]) \
                  AS a(id, title, description, cover, position)",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[
                &gallery_id,
                &user_id,
                &ids,
                &titles,
                &descriptions,
                &covers,
                &positions,
            ],
        )
        .await?;

    let mut album_col = Vec::new();
    let mut image_col = Vec::new();
    let mut position_col = Vec::new();
    for album in albums {
        for (position, image) in album.image_ids.iter().enumerate() {
            album_col.push(album.id);
            image_col.push(*image);
            position_col.push(position as i32);
        }
    }
    let stmt = client
        .prepare_cached(
            "INSERT INTO album_images (album_id, image_id, gallery_id, user_id, position) \
             SELECT m.album_id, m.image_id, $1, $2, m.position \
             FROM UNNEST($3::uuid[], $4::uuid[], $5::int[]) AS m(album_id, image_id, position)",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[&gallery_id, &user_id, &album_col, &image_col, &position_col],
        )
        .await?;
    Ok(())
}
