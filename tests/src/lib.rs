//! The test harness: a fresh PostgreSQL database per test and the app on a loopback port.
//!
//! Databases are copied from a migrated template (`CREATE DATABASE … TEMPLATE …`), which is
//! much faster than migrating each one. The template's name carries a hash of the
//! migrations, so a new migration makes a new template. Each test database is dropped when
//! its [`TestDb`] goes out of scope.
//!
//! PostgreSQL is found at `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). If it cannot be reached, the test fails
//! with instructions; it is never skipped.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::Pool;
use momentarium_shared::config::Config;
use momentarium_shared::{db, http};
use sha2::{Digest, Sha256};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const TEMPLATE_LOCK_KEY: i64 = 0x0074_656d_706c; // "templ"

/// The URL of the maintenance database tests create their databases from.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
}

/// A URL for database `name` on the test server.
pub fn database_url(name: &str) -> String {
    let mut config = tokio_postgres::Config::from_str(&admin_url()).expect("TEST_DATABASE_URL");
    config.dbname(name);
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("postgres");
    match config.get_password() {
        Some(pw) => format!(
            "postgres://{user}:{}@{host}:{port}/{name}",
            String::from_utf8_lossy(pw)
        ),
        None => format!("postgres://{user}@{host}:{port}/{name}"),
    }
}

/// Connects to the maintenance database, or fails the test saying how to start PostgreSQL.
pub async fn admin_client() -> tokio_postgres::Client {
    let url = admin_url();
    match tokio_postgres::connect(&url, NoTls).await {
        Ok((client, connection)) => {
            tokio::spawn(connection);
            client
        }
        Err(e) => panic!(
            "These tests need PostgreSQL and could not reach it at {url}: {e}.\n\
             Start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` \
             (or `./infra/test.sh`, which starts it for you), or point TEST_DATABASE_URL at a server \
             where the user may create databases."
        ),
    }
}

/// A configuration for the app under test, pointing at `database_url`.
pub fn test_config(database_url: &str) -> Config {
    test_config_with(database_url, &[])
}

/// Like [`test_config`], with extra variables.
pub fn test_config_with(database_url: &str, extra: &[(&str, &str)]) -> Config {
    let database_url = database_url.to_string();
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(move |name| {
        if name == "DATABASE_URL" {
            return Some(database_url.clone());
        }
        if name == "DATABASE_CONNECT_TIMEOUT_MS" {
            return Some("2000".into());
        }
        extra
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("test configuration")
}

fn migrations_hash() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("migrations directory")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut hasher = Sha256::new();
    for f in files {
        hasher.update(f.file_name().unwrap().as_encoded_bytes());
        hasher.update(std::fs::read(&f).unwrap());
    }
    let digest = hasher.finalize();
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh, migrated database, dropped at the end of the test.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: Pool,
}

impl TestDb {
    /// A migrated database copied from the template.
    pub async fn new() -> Self {
        let admin = admin_client().await;
        let template = ensure_template(&admin).await;
        let name = format!("momentarium_test_{}", uuid::Uuid::new_v4().simple());
        let sql = format!("CREATE DATABASE {name} TEMPLATE {template}");
        let mut tries = 0;
        loop {
            match admin.batch_execute(&sql).await {
                Ok(()) => break,
                // Another session still holds the template for a moment; try again.
                Err(e) if e.code() == Some(&SqlState::OBJECT_IN_USE) && tries < 20 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("creating test database {name}: {e}"),
            }
        }
        Self::open(name)
    }

    /// An empty database with no migrations applied.
    pub async fn empty() -> Self {
        let admin = admin_client().await;
        let name = format!("momentarium_test_{}", uuid::Uuid::new_v4().simple());
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        Self::open(name)
    }

    fn open(name: String) -> Self {
        let url = database_url(&name);
        let pool = db::create_pool(&test_config(&url).database).unwrap();
        Self { name, url, pool }
    }

    /// A plain connection, for arranging and asserting in SQL.
    pub async fn client(&self) -> deadpool_postgres::Object {
        self.pool.get().await.unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.pool.close();
        let name = self.name.clone();
        // Drop runs outside async; use a short-lived runtime on its own thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok((client, conn)) = tokio_postgres::connect(&admin_url(), NoTls).await {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

async fn ensure_template(admin: &tokio_postgres::Client) -> String {
    let template = format!("momentarium_template_{}", migrations_hash());
    if database_exists(admin, &template).await {
        return template;
    }
    admin
        .execute("SELECT pg_advisory_lock($1)", &[&TEMPLATE_LOCK_KEY])
        .await
        .unwrap();
    if !database_exists(admin, &template).await {
        // Build under another name and rename, so nobody copies a half-migrated template.
        let building = format!("{template}_building");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .await
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {building}"))
            .await
            .unwrap();
        {
            let pool = db::create_pool(&test_config(&database_url(&building)).database).unwrap();
            db::migrate(&pool).await.expect("migrating the template");
            pool.close();
        }
        // Let the closed connections' backends exit before renaming.
        let mut tries = 0;
        loop {
            match admin
                .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {template}"))
                .await
            {
                Ok(()) => break,
                Err(e) if e.code() == Some(&SqlState::OBJECT_IN_USE) && tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("finishing the template database: {e}"),
            }
        }
    }
    admin
        .execute("SELECT pg_advisory_unlock($1)", &[&TEMPLATE_LOCK_KEY])
        .await
        .unwrap();
    template
}

async fn database_exists(admin: &tokio_postgres::Client, name: &str) -> bool {
    admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .unwrap()
        .is_some()
}

/// The app, served on a loopback port, with a fresh database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn() -> Self {
        let db = TestDb::new().await;
        let config = test_config(&db.url);
        let addr = serve(http::AppState::new(config, db.pool.clone())).await;
        Self {
            addr,
            http: client(),
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

/// A reqwest client with a bound on every request, so a hang fails the test.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap()
}

/// Serves the router for `state` on 127.0.0.1 and returns the address.
pub async fn serve(state: http::AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, http::router(state)).await.unwrap();
    });
    addr
}
