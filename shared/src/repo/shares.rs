//! Share links, wrong-password counters and album members.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use uuid::Uuid;

/// A share link as its owner sees it (never the token: only its hash is stored).
#[derive(Debug, Clone)]
pub struct LinkRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub gallery_id: Uuid,
    pub album_id: Option<Uuid>,
    /// The album's title for an album link.
    pub album_title: Option<String>,
    pub password_hash: Option<String>,
    pub allow_download: bool,
    pub show_location: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub view_count: i64,
    pub last_viewed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<&Row> for LinkRow {
    type Error = tokio_postgres::Error;
    fn try_from(row: &Row) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            gallery_id: row.try_get("gallery_id")?,
            album_id: row.try_get("album_id")?,
            album_title: row.try_get("album_title")?,
            password_hash: row.try_get("password_hash")?,
            allow_download: row.try_get("allow_download")?,
            show_location: row.try_get("show_location")?,
            expires_at: row.try_get("expires_at")?,
            view_count: row.try_get("view_count")?,
            last_viewed_at: row.try_get("last_viewed_at")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

const LINK: &str = "SELECT s.id, s.user_id, s.gallery_id, s.album_id, a.title AS album_title, \
        s.password_hash, s.allow_download, s.show_location, s.expires_at, s.view_count, \
        s.last_viewed_at, s.created_at \
     FROM share_links s LEFT JOIN albums a ON a.id = s.album_id";

/// What a new link shares and how.
#[derive(Debug, Clone)]
pub struct NewLink {
    pub id: Uuid,
    pub user_id: Uuid,
    pub gallery_id: Uuid,
    pub album_id: Option<Uuid>,
    pub token_sha256: [u8; 32],
    pub password_hash: Option<String>,
    pub allow_download: bool,
    pub show_location: bool,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Stores a link; `None` when the gallery (or the album in it) is not the user's.
pub async fn insert_link(
    client: &impl GenericClient,
    link: &NewLink,
) -> Result<Option<LinkRow>, tokio_postgres::Error> {
    let token: &[u8] = &link.token_sha256;
    let sql = format!(
        "WITH target AS ( \
             SELECT g.id AS gallery_id FROM galleries g \
             WHERE g.id = $3 AND g.user_id = $2 \
               AND ($4::uuid IS NULL OR EXISTS ( \
                   SELECT 1 FROM albums a WHERE a.id = $4 AND a.gallery_id = g.id AND a.user_id = $2))), \
         s AS ( \
             INSERT INTO share_links (id, user_id, gallery_id, album_id, token_sha256, password_hash, \
                                      allow_download, show_location, expires_at) \
             SELECT $1, $2, target.gallery_id, $4, $5, $6, $7, $8, $9 FROM target \
             RETURNING *) \
         {} ",
        LINK.replace("share_links s", "s")
    );
    super::fetch_opt(
        client,
        &sql,
        &[
            &link.id,
            &link.user_id,
            &link.gallery_id,
            &link.album_id,
            &token,
            &link.password_hash,
            &link.allow_download,
            &link.show_location,
            &link.expires_at,
        ],
    )
    .await
}

/// The gallery an album of the user's is in.
pub async fn album_gallery(
    client: &impl GenericClient,
    user_id: Uuid,
    album_id: Uuid,
) -> Result<Option<Uuid>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached("SELECT gallery_id FROM albums WHERE id = $1 AND user_id = $2")
        .await?;
    Ok(client
        .query_opt(&stmt, &[&album_id, &user_id])
        .await?
        .map(|r| r.get(0)))
}

/// The user's links, newest first, after the keyset cursor `(created_at, id)`.
pub async fn list_links(
    client: &impl GenericClient,
    user_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<LinkRow>, tokio_postgres::Error> {
    let (at, id) = after.unzip();
    let sql = format!(
        "{LINK} WHERE s.user_id = $1 \
           AND ($2::timestamptz IS NULL OR (s.created_at, s.id) < ($2, $3)) \
         ORDER BY s.created_at DESC, s.id DESC LIMIT $4"
    );
    super::fetch_all(client, &sql, &[&user_id, &at, &id, &(limit + 1)]).await
}

/// Deletes one of the user's links; false when there was none.
pub async fn delete_link(
    client: &impl GenericClient,
    user_id: Uuid,
    id: Uuid,
) -> Result<bool, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached("DELETE FROM share_links WHERE id = $1 AND user_id = $2")
        .await?;
    Ok(client.execute(&stmt, &[&id, &user_id]).await? == 1)
}

/// The live link with this token hash: not expired, not revoked (a revoked link has no row).
pub async fn find_live_link(
    client: &impl GenericClient,
    token_sha256: &[u8; 32],
) -> Result<Option<LinkRow>, tokio_postgres::Error> {
    let token: &[u8] = token_sha256;
    let sql = format!(
        "{LINK} WHERE s.token_sha256 = $1 AND (s.expires_at IS NULL OR s.expires_at > now())"
    );
    super::fetch_opt(client, &sql, &[&token]).await
}

/// Counts one view of a link.
pub async fn count_view(
    client: &impl GenericClient,
    id: Uuid,
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE share_links SET view_count = view_count + 1, last_viewed_at = now() WHERE id = $1",
        )
        .await?;
    client.execute(&stmt, &[&id]).await?;
    Ok(())
}

/// One attempt at a link's password, counted before the password is checked, in one
/// statement per attempt: each scope's row is locked while it is counted, so attempts
/// that arrive together are counted one after another and no more than a scope's limit
/// can pass in one window, however many arrive at once. A window (`window_secs` long)
/// that has ended starts again at one. Returns each scope's count in its window and the
/// seconds left of that window.
pub async fn count_password_attempt(
    client: &impl GenericClient,
    share_id: Uuid,
    scopes: &[&str],
    window_secs: i32,
) -> Result<Vec<(String, i32, i64)>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO share_password_failures AS f (share_id, scope, window_started_at, failures) \
             SELECT $1, scope, now(), 1 FROM UNNEST($2::text[]) AS scope \
             ON CONFLICT (share_id, scope) DO UPDATE SET \
               failures = CASE WHEN f.window_started_at + make_interval(secs => $3) > now() \
                               THEN f.failures + 1 ELSE 1 END, \
               window_started_at = CASE WHEN f.window_started_at + make_interval(secs => $3) > now() \
                               THEN f.window_started_at ELSE now() END \
             RETURNING f.scope, f.failures, \
               greatest(1, ceil(extract(epoch FROM f.window_started_at + make_interval(secs => $3) - now())))::bigint",
        )
        .await?;
    let window = f64::from(window_secs);
    Ok(client
        .query(&stmt, &[&share_id, &scopes, &window])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// Takes back an attempt that gave the right password: only wrong ones count.
pub async fn uncount_password_attempt(
    client: &impl GenericClient,
    share_id: Uuid,
    scopes: &[&str],
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE share_password_failures SET failures = failures - 1 \
             WHERE share_id = $1 AND scope = ANY($2::text[]) AND failures > 0",
        )
        .await?;
    client.execute(&stmt, &[&share_id, &scopes]).await?;
    Ok(())
}

/// One photo of what a link or a membership shows, with everything a share may or may
/// not reveal; the use-case decides what leaves.
#[derive(Debug, Clone)]
pub struct SharedPhotoRow {
    pub album_id: Uuid,
    pub title: String,
    pub description: String,
    pub image_id: Option<Uuid>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub taken_at: Option<DateTime<Utc>>,
    pub taken_at_offset_minutes: Option<i16>,
    pub caption: Option<String>,
    pub tags: Option<Vec<String>>,
    pub content_type: Option<String>,
    pub renditions: bool,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    pub place: Option<crate::domain::places::Place>,
}

/// The albums of a gallery (or the one album) with their uploaded photos, in order.
pub async fn shared_photos(
    client: &impl GenericClient,
    user_id: Uuid,
    gallery_id: Uuid,
    album_id: Option<Uuid>,
) -> Result<Vec<SharedPhotoRow>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT a.id, a.title, a.description, i.id, i.width, i.height, i.taken_at, \
                    i.taken_at_offset_minutes, i.caption, i.tags, i.detected_content_type, \
                    coalesce(i.renditions, false), i.latitude, i.longitude, \
                    i.camera_make, i.camera_model, i.place, i.region, i.country_code \
             FROM albums a \
             LEFT JOIN album_images ai ON ai.album_id = a.id \
             LEFT JOIN images i ON i.id = ai.image_id AND i.user_id = a.user_id \
                  AND i.status = 'uploaded' \
             WHERE a.gallery_id = $1 AND a.user_id = $2 AND ($3::uuid IS NULL OR a.id = $3) \
             ORDER BY a.position, ai.position",
        )
        .await?;
    client
        .query(&stmt, &[&gallery_id, &user_id, &album_id])
        .await?
        .iter()
        .map(|row| {
            Ok(SharedPhotoRow {
                album_id: row.try_get(0)?,
                title: row.try_get(1)?,
                description: row.try_get(2)?,
                image_id: row.try_get(3)?,
                width: row.try_get(4)?,
                height: row.try_get(5)?,
                taken_at: row.try_get(6)?,
                taken_at_offset_minutes: row.try_get(7)?,
                caption: row.try_get(8)?,
                tags: row.try_get(9)?,
                content_type: row.try_get(10)?,
                renditions: row.try_get(11)?,
                latitude: row.try_get(12)?,
                longitude: row.try_get(13)?,
                camera_make: row.try_get(14)?,
                camera_model: row.try_get(15)?,
                place: crate::repo::images::place_from(row, 16, 17, 18)?,
            })
        })
        .collect()
}

/// A member of an album.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub album_id: Uuid,
    pub subject: String,
    pub role: String,
    pub added_at: DateTime<Utc>,
}

impl TryFrom<&Row> for MemberRow {
    type Error = tokio_postgres::Error;
    fn try_from(row: &Row) -> Result<Self, Self::Error> {
        Ok(Self {
            album_id: row.try_get("album_id")?,
            subject: row.try_get("subject")?,
            role: row.try_get("role")?,
            added_at: row.try_get("added_at")?,
        })
    }
}

/// Adds a member to one of the user's albums, or changes their role. `None` when the
/// album is not the user's; the flag says whether the member is new.
pub async fn upsert_member(
    client: &impl GenericClient,
    user_id: Uuid,
    album_id: Uuid,
    subject: &str,
    role: &str,
) -> Result<Option<(MemberRow, bool)>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO album_members AS m (album_id, gallery_id, user_id, subject, role) \
             SELECT a.id, a.gallery_id, a.user_id, $3, $4 FROM albums a \
             WHERE a.id = $1 AND a.user_id = $2 \
             ON CONFLICT (album_id, subject) DO UPDATE SET role = EXCLUDED.role \
             RETURNING m.album_id, m.subject, m.role, m.added_at, (xmax = 0) AS inserted",
        )
        .await?;
    client
        .query_opt(&stmt, &[&album_id, &user_id, &subject, &role])
        .await?
        .map(|row| Ok((MemberRow::try_from(&row)?, row.try_get("inserted")?)))
        .transpose()
}

/// Removes a member from one of the user's albums; false when they were not one.
pub async fn delete_member(
    client: &impl GenericClient,
    user_id: Uuid,
    album_id: Uuid,
    subject: &str,
) -> Result<bool, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "DELETE FROM album_members WHERE album_id = $1 AND user_id = $2 AND subject = $3",
        )
        .await?;
    Ok(client
        .execute(&stmt, &[&album_id, &user_id, &subject])
        .await?
        == 1)
}

/// The members of one of the user's albums, newest first.
pub async fn list_members(
    client: &impl GenericClient,
    user_id: Uuid,
    album_id: Uuid,
) -> Result<Vec<MemberRow>, tokio_postgres::Error> {
    super::fetch_all(
        client,
        "SELECT album_id, subject, role, added_at FROM album_members \
         WHERE album_id = $1 AND user_id = $2 ORDER BY added_at DESC, subject",
        &[&album_id, &user_id],
    )
    .await
}

/// An album shared with a subject, as their list shows it.
#[derive(Debug, Clone)]
pub struct SharedAlbumRow {
    pub album_id: Uuid,
    pub owner_id: Uuid,
    pub title: String,
    pub description: String,
    pub role: String,
    pub added_at: DateTime<Utc>,
    pub image_count: i64,
    pub cover_image_id: Option<Uuid>,
    pub cover_renditions: bool,
}

impl TryFrom<&Row> for SharedAlbumRow {
    type Error = tokio_postgres::Error;
    fn try_from(row: &Row) -> Result<Self, Self::Error> {
        Ok(Self {
            album_id: row.try_get("album_id")?,
            owner_id: row.try_get("owner_id")?,
            title: row.try_get("title")?,
            description: row.try_get("description")?,
            role: row.try_get("role")?,
            added_at: row.try_get("added_at")?,
            image_count: row.try_get("image_count")?,
            cover_image_id: row.try_get("cover_image_id")?,
            cover_renditions: row.try_get("cover_renditions")?,
        })
    }
}

const SHARED_ALBUM: &str = "SELECT m.album_id, m.user_id AS owner_id, a.gallery_id, a.title, \
        a.description, m.role, m.added_at, \
        (SELECT count(*) FROM album_images ai JOIN images i ON i.id = ai.image_id \
           AND i.status = 'uploaded' WHERE ai.album_id = a.id) AS image_count, \
        c.id AS cover_image_id, coalesce(c.renditions, false) AS cover_renditions \
     FROM album_members m JOIN albums a ON a.id = m.album_id \
     LEFT JOIN images c ON c.id = a.cover_image_id AND c.status = 'uploaded'";

/// Albums shared with `subject` (by anyone but themselves), newest first, paged.
pub async fn shared_with(
    client: &impl GenericClient,
    subject: &str,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<SharedAlbumRow>, tokio_postgres::Error> {
    let (at, id) = after.unzip();
    let sql = format!(
        "{SHARED_ALBUM} WHERE m.subject = $1 \
           AND ($2::timestamptz IS NULL OR (m.added_at, m.album_id) < ($2, $3)) \
         ORDER BY m.added_at DESC, m.album_id DESC LIMIT $4"
    );
    super::fetch_all(client, &sql, &[&subject, &at, &id, &(limit + 1)]).await
}

/// One album shared with `subject`: its owner and gallery, when they are a member.
pub async fn membership(
    client: &impl GenericClient,
    subject: &str,
    album_id: Uuid,
) -> Result<Option<(Uuid, Uuid)>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT user_id, gallery_id FROM album_members WHERE album_id = $1 AND subject = $2",
        )
        .await?;
    Ok(client
        .query_opt(&stmt, &[&album_id, &subject])
        .await?
        .map(|r| (r.get(0), r.get(1))))
}
