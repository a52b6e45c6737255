use deadpool_postgres::GenericClient;
use uuid::Uuid;

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
