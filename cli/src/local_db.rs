//! Finding a PostgreSQL database to use on this machine.

use anyhow::Context;
use tokio_postgres::NoTls;

const LOCAL_SERVER: &str = "postgres://postgres@127.0.0.1:5432";
const LOCAL_DATABASE: &str = "momentarium";

/// `DATABASE_URL` when set; otherwise the `momentarium` database on the local server,
/// created on first use.
pub async fn resolve() -> anyhow::Result<String> {
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.trim().is_empty()
    {
        return Ok(url);
    }
    let admin = format!("{LOCAL_SERVER}/postgres");
    let (client, connection) = tokio_postgres::connect(&admin, NoTls)
        .await
        .with_context(|| {
            format!(
                "no DATABASE_URL is set and no PostgreSQL answers at {LOCAL_SERVER}. \
             Install and start it (Debian: `apt-get install postgresql` then \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`), \
             or set DATABASE_URL"
            )
        })?;
    tokio::spawn(connection);
    let exists = client
        .query_opt(
            "SELECT 1 FROM pg_database WHERE datname = $1",
            &[&LOCAL_DATABASE],
        )
        .await?
        .is_some();
    if !exists {
        // A concurrent first run may win the race; that is fine.
        if let Err(e) = client
            .batch_execute(&format!("CREATE DATABASE {LOCAL_DATABASE}"))
            .await
            && e.code() != Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE)
        {
            return Err(e).context("creating the local momentarium database");
        }
    }
    Ok(format!("{LOCAL_SERVER}/{LOCAL_DATABASE}"))
}
