use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::domain::language::Language;

/// The user id for an identity provider `sub`, creating the user on first sight. A known
/// user (every request but the first) costs one read and writes nothing.
pub async fn ensure(
    client: &impl GenericClient,
    subject: &str,
) -> Result<Uuid, tokio_postgres::Error> {
    let known = client
        .prepare_cached("SELECT id FROM users WHERE subject = $1")
        .await?;
    if let Some(row) = client.query_opt(&known, &[&subject]).await? {
        return Ok(row.get(0));
    }
    let stmt = client
        .prepare_cached(
            "WITH inserted AS ( \
                 INSERT INTO users (subject) VALUES ($1) \
                 ON CONFLICT (subject) DO NOTHING RETURNING id) \
             SELECT id FROM inserted \
             UNION ALL SELECT id FROM users WHERE subject = $1 \
             LIMIT 1",
        )
        .await?;
    // A concurrent first request may insert between our snapshot and our insert; then the
    // statement sees neither row. Asking again sees the committed one.
    for _ in 0..3 {
        if let Some(row) = client.query_opt(&stmt, &[&subject]).await? {
            return Ok(row.get(0));
        }
    }
    let row = client
        .query_one("SELECT id FROM users WHERE subject = $1", &[&subject])
        .await?;
    Ok(row.get(0))
}

/// What a person has set about themselves.
#[derive(Debug, Clone)]
pub struct Profile {
    pub subject: String,
    pub display_name: Option<String>,
    pub language: Language,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn profile(row: &tokio_postgres::Row) -> Result<Profile, tokio_postgres::Error> {
    Ok(Profile {
        subject: row.try_get("subject")?,
        display_name: row.try_get("display_name")?,
        // The CHECK constraint admits only the languages there are.
        language: Language::parse(row.try_get("language")?).unwrap_or_default(),
        created_at: row.try_get("created_at")?,
    })
}

pub async fn find_profile(
    client: &impl GenericClient,
    user_id: Uuid,
) -> Result<Option<Profile>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT subject, display_name, language, created_at FROM users WHERE id = $1",
        )
        .await?;
    client
        .query_opt(&stmt, &[&user_id])
        .await?
        .as_ref()
        .map(profile)
        .transpose()
}

/// Sets what is given: `display_name` `Some(None)` clears it; `None` leaves either alone.
pub async fn update_profile(
    client: &impl GenericClient,
    user_id: Uuid,
    display_name: Option<Option<&str>>,
    language: Option<Language>,
) -> Result<Option<Profile>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE users SET \
                 display_name = CASE WHEN $2 THEN $3 ELSE display_name END, \
                 language = coalesce($4, language) \
             WHERE id = $1 RETURNING subject, display_name, language, created_at",
        )
        .await?;
    let set_name = display_name.is_some();
    let name = display_name.flatten();
    let language = language.map(Language::code);
    client
        .query_opt(&stmt, &[&user_id, &set_name, &name, &language])
        .await?
        .as_ref()
        .map(profile)
        .transpose()
}

/// The language a user's albums are written in (English for a user not found).
pub async fn language(
    client: &impl GenericClient,
    user_id: Uuid,
) -> Result<Language, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached("SELECT language FROM users WHERE id = $1")
        .await?;
    Ok(client
        .query_opt(&stmt, &[&user_id])
        .await?
        .and_then(|r| Language::parse(r.get(0)))
        .unwrap_or_default())
}
