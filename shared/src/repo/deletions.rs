//! Deleting photos and galleries: the rows in one transaction, and the keys of the
//! objects to remove once it commits.

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::domain::ImageKey;
use crate::domain::prepare::Size;

/// Deletes these photos of the user's with everything that points at them: their places
/// in albums go (the foreign keys cascade), each album that held one gets a new cover
/// (its first photo left) or, left empty, is removed. The keys of their objects are
/// queued for removal in `object_deletions`. Call inside a transaction; returns the ids
/// of the photos deleted (ids that are not the user's are passed over).
pub async fn delete_images(
    client: &impl GenericClient,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, tokio_postgres::Error> {
    let locked = client
        .prepare_cached(
            "SELECT id FROM images WHERE user_id = $1 AND id = ANY($2) ORDER BY id FOR UPDATE",
        )
        .await?;
    let found: Vec<Uuid> = client
        .query(&locked, &[&user_id, &ids])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if found.is_empty() {
        return Ok(found);
    }
    let albums = client
        .prepare_cached(
            "SELECT DISTINCT album_id FROM album_images WHERE user_id = $1 AND image_id = ANY($2)",
        )
        .await?;
    let touched: Vec<Uuid> = client
        .query(&albums, &[&user_id, &found])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let keys: Vec<String> = found
        .iter()
        .flat_map(|id| object_keys(user_id, *id))
        .collect();
    let queue = client
        .prepare_cached(
            "INSERT INTO object_deletions (key) SELECT UNNEST($1::text[]) ON CONFLICT (key) DO NOTHING",
        )
        .await?;
    client.execute(&queue, &[&keys]).await?;
    let delete = client
        .prepare_cached("DELETE FROM images WHERE user_id = $1 AND id = ANY($2)")
        .await?;
    client.execute(&delete, &[&user_id, &found]).await?;
    let empty = client
        .prepare_cached(
            "DELETE FROM albums a WHERE a.user_id = $1 AND a.id = ANY($2) \
             AND NOT EXISTS (SELECT 1 FROM album_images ai WHERE ai.album_id = a.id)",
        )
        .await?;
    client.execute(&empty, &[&user_id, &touched]).await?;
    let covers = client
        .prepare_cached(
            "UPDATE albums a SET cover_image_id = ( \
                 SELECT ai.image_id FROM album_images ai WHERE ai.album_id = a.id \
                 ORDER BY ai.position LIMIT 1) \
             WHERE a.user_id = $1 AND a.id = ANY($2) AND a.cover_image_id IS NULL",
        )
        .await?;
    client.execute(&covers, &[&user_id, &touched]).await?;
    Ok(found)
}

/// Every object a photo may have: the original and its three renditions.
pub fn object_keys(user_id: Uuid, image_id: Uuid) -> [String; 4] {
    let key = ImageKey::new(user_id, image_id);
    [
        key.to_string(),
        key.rendition(Size::Thumb),
        key.rendition(Size::Preview),
        key.rendition(Size::Model),
    ]
}

/// Deletes one of the user's galleries (its albums, its job and its share links go with
/// it). Call inside a transaction; returns the photos of its batch, or `None` when the
/// gallery is not the user's.
pub async fn delete_gallery(
    client: &impl GenericClient,
    user_id: Uuid,
    gallery_id: Uuid,
) -> Result<Option<Vec<Uuid>>, tokio_postgres::Error> {
    // The job's row first, as a job writing its result takes it first: a delete and a
    // result wait for each other instead of deadlocking.
    let jobs = client
        .prepare_cached(
            "SELECT id FROM processing_jobs WHERE gallery_id = $1 AND user_id = $2 \
             ORDER BY id FOR UPDATE",
        )
        .await?;
    client.query(&jobs, &[&gallery_id, &user_id]).await?;
    let stmt = client
        .prepare_cached(
            "WITH batch AS ( \
                 SELECT coalesce(array_agg(DISTINCT i), '{}') AS ids FROM ( \
                     SELECT UNNEST(j.image_ids) AS i FROM processing_jobs j \
                     WHERE j.gallery_id = $1 AND j.user_id = $2 \
                     UNION SELECT ai.image_id FROM album_images ai \
                     WHERE ai.gallery_id = $1 AND ai.user_id = $2) photos) \
             DELETE FROM galleries g USING batch WHERE g.id = $1 AND g.user_id = $2 \
             RETURNING batch.ids",
        )
        .await?;
    Ok(client
        .query_opt(&stmt, &[&gallery_id, &user_id])
        .await?
        .map(|r| r.get(0)))
}

/// Object keys waiting to be removed: the least tried first (keys that keep failing do
/// not hold up the others), then the oldest.
pub async fn pending(
    client: &impl GenericClient,
    limit: i64,
) -> Result<Vec<String>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE object_deletions SET attempts = attempts + 1 WHERE key IN ( \
                 SELECT key FROM object_deletions ORDER BY attempts, created_at, key LIMIT $1 \
                 FOR UPDATE SKIP LOCKED) \
             RETURNING key",
        )
        .await?;
    Ok(client
        .query(&stmt, &[&limit])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Forgets keys whose objects are gone.
pub async fn done(
    client: &impl GenericClient,
    keys: &[String],
) -> Result<u64, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached("DELETE FROM object_deletions WHERE key = ANY($1)")
        .await?;
    client.execute(&stmt, &[&keys]).await
}

/// Deletes a user and everything of theirs: their photos (as [`delete_images`] does, so
/// their objects are queued), then the user row (galleries, albums, jobs and share links
/// cascade), and their memberships of other people's albums. Call inside a transaction;
/// returns the photos deleted, or `None` when no user has this subject.
pub async fn delete_user(
    client: &impl GenericClient,
    subject: &str,
) -> Result<Option<(Uuid, Vec<Uuid>)>, tokio_postgres::Error> {
    let find = client
        .prepare_cached("SELECT id FROM users WHERE subject = $1 FOR UPDATE")
        .await?;
    let Some(user_id) = client
        .query_opt(&find, &[&subject])
        .await?
        .map(|r| r.get::<_, Uuid>(0))
    else {
        return Ok(None);
    };
    // Every job's row before any photo, as a job writing its result takes them.
    let jobs = client
        .prepare_cached("SELECT id FROM processing_jobs WHERE user_id = $1 ORDER BY id FOR UPDATE")
        .await?;
    client.query(&jobs, &[&user_id]).await?;
    let photos = client
        .prepare_cached("SELECT id FROM images WHERE user_id = $1")
        .await?;
    let ids: Vec<Uuid> = client
        .query(&photos, &[&user_id])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let deleted = delete_images(client, user_id, &ids).await?;
    let memberships = client
        .prepare_cached("DELETE FROM album_members WHERE subject = $1")
        .await?;
    client.execute(&memberships, &[&subject]).await?;
    // Per-minute counters have no foreign key (an unlogged table): forgotten here.
    let windows = client
        .prepare_cached("DELETE FROM rate_windows WHERE user_id = $1")
        .await?;
    client.execute(&windows, &[&user_id]).await?;
    let user = client
        .prepare_cached("DELETE FROM users WHERE id = $1")
        .await?;
    client.execute(&user, &[&user_id]).await?;
    Ok(Some((user_id, deleted)))
}

/// Queues a photo's objects for removal when its row is gone: for a writer that made
/// renditions while the photo was being deleted (its mark found no row).
pub async fn queue_if_gone(
    client: &impl GenericClient,
    user_id: Uuid,
    image_id: Uuid,
) -> Result<bool, tokio_postgres::Error> {
    let keys = object_keys(user_id, image_id).to_vec();
    let stmt = client
        .prepare_cached(
            "INSERT INTO object_deletions (key) \
             SELECT UNNEST($2::text[]) WHERE NOT EXISTS (SELECT 1 FROM images WHERE id = $1) \
             ON CONFLICT (key) DO NOTHING",
        )
        .await?;
    Ok(client.execute(&stmt, &[&image_id, &keys]).await? > 0)
}

/// Uploads that will never be organised, old enough to forget: never completed, or
/// rejected, created before `older_than_secs` ago. At most `limit`, oldest first, as
/// `(user, photo)`.
pub async fn expired_uploads(
    client: &impl GenericClient,
    older_than_secs: f64,
    limit: i64,
) -> Result<Vec<(Uuid, Uuid)>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT user_id, id FROM images \
             WHERE status IN ('pending_upload', 'rejected') \
               AND created_at < now() - make_interval(secs => $1) \
             ORDER BY created_at LIMIT $2",
        )
        .await?;
    Ok(client
        .query(&stmt, &[&older_than_secs, &limit])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}
