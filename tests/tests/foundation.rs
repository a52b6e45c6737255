//! The foundation: migrations, schema constraints, the pool, health, Lambda event shapes.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use momentarium_shared::adapter::postgres as db;
use momentarium_shared::http;
use momentarium_tests::{
    TestApp, TestDb, client, database_url_at, serve, server_addr, test_config, test_config_with,
};
use serde_json::Value;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

const TABLES: [&str; 6] = [
    "users",
    "images",
    "galleries",
    "albums",
    "album_images",
    "processing_jobs",
];

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_are_idempotent() {
    let db = TestDb::empty().await;

    let first = db::migrate(&db.pool).await.unwrap();
    assert_eq!(first.applied, db::embedded_migrations());
    assert!(!first.applied.is_empty());

    let second = db::migrate(&db.pool).await.unwrap();
    assert!(
        second.applied.is_empty(),
        "re-run applied {:?}",
        second.applied
    );

    let client = db.client().await;
    for table in TABLES {
        let row = client
            .query_one("SELECT to_regclass($1)::text", &[&table])
            .await
            .unwrap();
        let found: Option<String> = row.get(0);
        assert_eq!(found.as_deref(), Some(table), "table {table} missing");
    }
}

#[tokio::test]
async fn concurrent_migrations_apply_once() {
    let db = TestDb::empty().await;
    let (a, b) = tokio::join!(db::migrate(&db.pool), db::migrate(&db.pool));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        a.applied.len() + b.applied.len(),
        db::embedded_migrations().len()
    );
}

struct Fixture {
    user_a: Uuid,
    user_b: Uuid,
    image_a: Uuid,
    image_b: Uuid,
    gallery_a: Uuid,
    album_a: Uuid,
}

async fn arrange(client: &tokio_postgres::Client) -> Fixture {
    let mut ids = Vec::new();
    for sub in ["alice", "bob"] {
        let row = client
            .query_one(
                "INSERT INTO users (subject) VALUES ($1) RETURNING id",
                &[&sub],
            )
            .await
            .unwrap();
        ids.push(row.get::<_, Uuid>(0));
    }
    let (user_a, user_b) = (ids[0], ids[1]);
    let (image_a, image_b) = (Uuid::new_v4(), Uuid::new_v4());
    for (image, user) in [(image_a, user_a), (image_b, user_b)] {
        client
            .execute(
                "INSERT INTO images (id, user_id, storage_key, original_filename, \
                 declared_content_type, declared_size) VALUES ($1, $2, $3, 'a.jpg', 'image/jpeg', 10)",
                &[&image, &user, &format!("users/{user}/{image}")],
            )
            .await
            .unwrap();
    }
    let (gallery_a, album_a) = (Uuid::new_v4(), Uuid::new_v4());
    client
        .execute(
            "INSERT INTO galleries (id, user_id) VALUES ($1, $2)",
            &[&gallery_a, &user_a],
        )
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO albums (id, gallery_id, user_id, title, position) VALUES ($1, $2, $3, 'Garden', 0)",
            &[&album_a, &gallery_a, &user_a],
        )
        .await
        .unwrap();
    Fixture {
        user_a,
        user_b,
        image_a,
        image_b,
        gallery_a,
        album_a,
    }
}

fn violated(err: tokio_postgres::Error) -> (SqlState, String) {
    let db = err.as_db_error().expect("a database error");
    (
        db.code().clone(),
        db.constraint().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn schema_rejects_an_unknown_image_status() {
    let db = TestDb::new().await;
    let client = db.client().await;
    let f = arrange(&client).await;

    let err = client
        .execute(
            "UPDATE images SET status = 'processed' WHERE id = $1",
            &[&f.image_a],
        )
        .await
        .unwrap_err();
    assert_eq!(
        violated(err),
        (SqlState::CHECK_VIOLATION, "images_status_check".into())
    );
}

#[tokio::test]
async fn schema_rejects_an_unknown_job_status_and_a_failed_job_without_a_reason() {
    let db = TestDb::new().await;
    let client = db.client().await;
    let f = arrange(&client).await;
    let job = Uuid::new_v4();
    client
        .execute(
            "INSERT INTO processing_jobs (id, user_id, gallery_id, image_ids) VALUES ($1, $2, $3, $4)",
            &[&job, &f.user_a, &f.gallery_a, &vec![f.image_a]],
        )
        .await
        .unwrap();

    let err = client
        .execute(
            "UPDATE processing_jobs SET status = 'done' WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap_err();
    assert_eq!(
        violated(err),
        (
            SqlState::CHECK_VIOLATION,
            "processing_jobs_status_check".into()
        )
    );

    let err = client
        .execute(
            "UPDATE processing_jobs SET status = 'failed' WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap_err();
    assert_eq!(
        violated(err),
        (
            SqlState::CHECK_VIOLATION,
            "processing_jobs_failed_has_error".into()
        )
    );

    let err = client
        .execute(
            "UPDATE processing_jobs SET status = 'processing' WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap_err();
    assert_eq!(
        violated(err),
        (
            SqlState::CHECK_VIOLATION,
            "processing_jobs_processing_has_lease".into()
        )
    );
}

#[tokio::test]
async fn schema_rejects_another_users_image_in_an_album() {
    let db = TestDb::new().await;
    let client = db.client().await;
    let f = arrange(&client).await;

    // Bob's image in Alice's album, claiming to be Alice's row.
    let err = client
        .execute(
            "INSERT INTO album_images (album_id, image_id, gallery_id, user_id, position) \
             VALUES ($1, $2, $3, $4, 0)",
            &[&f.album_a, &f.image_b, &f.gallery_a, &f.user_a],
        )
        .await
        .unwrap_err();
    assert_eq!(
        violated(err),
        (
            SqlState::FOREIGN_KEY_VIOLATION,
            "album_images_image_fk".into()
        )
    );

    // The same, claiming to be Bob's row: the album is not Bob's.
    let err = client
        .execute(
            "INSERT INTO album_images (album_id, image_id, gallery_id, user_id, position) \
             VALUES ($1, $2, $3, $4, 0)",
            &[&f.album_a, &f.image_b, &f.gallery_a, &f.user_b],
        )
        .await
        .unwrap_err();
    assert_eq!(
        violated(err),
        (
            SqlState::FOREIGN_KEY_VIOLATION,
            "album_images_album_fk".into()
        )
    );

    // Bob's image as the cover of Alice's album.
    let err = client
        .execute(
            "UPDATE albums SET cover_image_id = $1 WHERE id = $2",
            &[&f.image_b, &f.album_a],
        )
        .await
        .unwrap_err();
    assert_eq!(
        violated(err),
        (SqlState::FOREIGN_KEY_VIOLATION, "albums_cover_fk".into())
    );
}

#[tokio::test]
async fn schema_keeps_each_photo_in_one_album_per_gallery() {
    let db = TestDb::new().await;
    let client = db.client().await;
    let f = arrange(&client).await;
    let second_album = Uuid::new_v4();
    client
        .execute(
            "INSERT INTO albums (id, gallery_id, user_id, title, position) VALUES ($1, $2, $3, 'More', 1)",
            &[&second_album, &f.gallery_a, &f.user_a],
        )
        .await
        .unwrap();
    let insert = "INSERT INTO album_images (album_id, image_id, gallery_id, user_id, position) \
                  VALUES ($1, $2, $3, $4, 0)";
    client
        .execute(insert, &[&f.album_a, &f.image_a, &f.gallery_a, &f.user_a])
        .await
        .unwrap();

    let err = client
        .execute(
            insert,
            &[&second_album, &f.image_a, &f.gallery_a, &f.user_a],
        )
        .await
        .unwrap_err();
    assert_eq!(
        violated(err),
        (
            SqlState::UNIQUE_VIOLATION,
            "album_images_one_album_per_gallery".into()
        )
    );
}

#[tokio::test]
async fn deleting_a_user_removes_everything_they_own() {
    let db = TestDb::new().await;
    let client = db.client().await;
    let f = arrange(&client).await;
    client
        .execute(
            "INSERT INTO album_images (album_id, image_id, gallery_id, user_id, position) \
             VALUES ($1, $2, $3, $4, 0)",
            &[&f.album_a, &f.image_a, &f.gallery_a, &f.user_a],
        )
        .await
        .unwrap();

    client
        .execute("DELETE FROM users WHERE id = $1", &[&f.user_a])
        .await
        .unwrap();

    for table in ["images", "galleries", "albums", "album_images"] {
        let n: i64 = client
            .query_one(
                &format!("SELECT count(*) FROM {table} WHERE user_id = $1"),
                &[&f.user_a],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "{table} still holds the deleted user's rows");
    }
    let bobs: i64 = client
        .query_one(
            "SELECT count(*) FROM images WHERE user_id = $1",
            &[&f.user_b],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(bobs, 1, "another user's image was removed");
}

/// A TCP proxy in front of PostgreSQL that can make its open connections die unnoticed:
/// after [`cut`](Self::cut), a connection open then is closed the next time its client
/// sends anything, so the client learns of it only from the query it sends (as after a
/// failover, a server restart or an idle timeout along the way).
struct CuttingProxy {
    addr: std::net::SocketAddr,
    generation: Arc<AtomicUsize>,
    accepted: Arc<AtomicUsize>,
}

impl CuttingProxy {
    async fn start(upstream: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let generation = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (gen_, acc) = (generation.clone(), accepted.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                acc.fetch_add(1, Ordering::SeqCst);
                let born = gen_.load(Ordering::SeqCst);
                let (generation, upstream) = (gen_.clone(), upstream.clone());
                tokio::spawn(async move {
                    if let Ok(server) = tokio::net::TcpStream::connect(&upstream).await {
                        pipe(client, server, born, generation).await;
                    }
                });
            }
        });
        Self {
            addr,
            generation,
            accepted,
        }
    }

    fn cut(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

async fn pipe(
    mut client: tokio::net::TcpStream,
    mut server: tokio::net::TcpStream,
    born: usize,
    generation: Arc<AtomicUsize>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut up, mut down) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    loop {
        tokio::select! {
            read = client.read(&mut up) => match read {
                // Cut: drop both sockets instead of forwarding.
                Ok(n) if n > 0 && generation.load(Ordering::SeqCst) == born => {
                    if server.write_all(&up[..n]).await.is_err() {
                        return;
                    }
                }
                _ => return,
            },
            read = server.read(&mut down) => match read {
                Ok(n) if n > 0 => {
                    if client.write_all(&down[..n]).await.is_err() {
                        return;
                    }
                }
                _ => return,
            },
        }
    }
}

#[tokio::test]
async fn a_connection_that_died_unnoticed_is_retried_once_on_a_fresh_one() {
    let db = TestDb::new().await;
    let (host, port) = server_addr();
    let proxy = CuttingProxy::start(format!("{host}:{port}")).await;
    let url = database_url_at(&db.name, "127.0.0.1", proxy.addr.port());
    let pool = db::create_pool(&test_config(&url).database).unwrap();
    let first_pid: i32 = pool
        .get()
        .await
        .unwrap()
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(proxy.accepted(), 1);
    // The pooled connection dies; the pool still holds it as healthy.
    proxy.cut();

    let pid = db::with_client(&pool, |client| async move {
        let row = client.query_one("SELECT pg_backend_pid()", &[]).await?;
        Ok(row.get::<_, i32>(0))
    })
    .await
    .expect("the query succeeds on a fresh connection");

    assert_ne!(pid, first_pid, "another backend answered");
    assert_eq!(
        proxy.accepted(),
        2,
        "one fresh connection, made for the retry"
    );
}

#[tokio::test]
async fn health_is_ok_when_the_database_answers() {
    let app = TestApp::spawn().await;

    let response = app.http.get(app.url("/api/health")).send().await.unwrap();

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["version"], momentarium_shared::VERSION);
}

async fn health_against(database_url: &str) -> (u16, Value) {
    let config = test_config(database_url);
    let pool = db::create_pool(&config.database).unwrap();
    let addr = serve(http::AppState::new(config, pool)).await;
    let response = client()
        .get(format!("http://{addr}/api/health"))
        .send()
        .await
        .expect("health answers instead of hanging");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn health_is_503_when_the_database_port_is_closed() {
    // Bind then drop a listener: nothing listens on that port now.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };

    let (status, body) = health_against(&format!("postgres://postgres@127.0.0.1:{port}/x")).await;

    assert_eq!(status, 503);
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["database"], "unreachable");
}

#[tokio::test]
async fn health_is_503_within_its_bound_when_the_database_never_answers() {
    // A server that accepts connections and then says nothing.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });

    let (status, body) = health_against(&format!("postgres://postgres@127.0.0.1:{port}/x")).await;

    assert_eq!(status, 503);
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["database"], "timeout");
}

#[tokio::test]
async fn unknown_routes_get_a_json_404_and_wrong_methods_a_405() {
    let app = TestApp::spawn().await;

    let response = app.http.get(app.url("/api/nope")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    let response = app
        .http
        .delete(app.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn the_health_lambda_event_drives_the_router() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let db = TestDb::new().await;
    let router = http::router(http::AppState::new(test_config(&db.url), db.pool.clone()));
    let raw = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/health.json"
    ))
    .unwrap();
    let request = lambda_http::request::from_str(&raw).expect("an API Gateway v2 event");

    let response = router.oneshot(request).await.unwrap();

    assert_eq!(response.status(), 200);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["status"], "ok");
}

/// These tests check our TLS client against the test server, so the server must offer
/// TLS; a server without it fails them with what to do, rather than passing them unchecked.
async fn require_a_server_that_offers_tls() {
    let (admin, conn) =
        tokio_postgres::connect(&momentarium_tests::tls_server_url(), tokio_postgres::NoTls)
            .await
            .expect("the TLS test server");
    tokio::spawn(conn);
    let ssl: String = admin.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    assert_eq!(
        ssl,
        "on",
        "PostgreSQL at {} does not offer TLS (`SHOW ssl` is {ssl}), and these tests check our \
         TLS client against it. Turn it on: Debian's postgresql package does by default \
         (`ssl = on` with the snakeoil certificate of the ssl-cert package); elsewhere set \
         `ssl = on`, `ssl_cert_file` and `ssl_key_file` in postgresql.conf and reload, or \
         point TEST_PLAIN_DATABASE_URL at a server that offers TLS.",
        momentarium_tests::tls_server_url()
    );
}

async fn connection_is_encrypted(pool: &deadpool_postgres::Pool) -> Result<bool, String> {
    let client = pool.get().await.map_err(|e| format!("{e:?}"))?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.get(0))
}

#[tokio::test]
async fn connections_are_encrypted_when_the_server_offers_tls_unless_sslmode_is_disable() {
    require_a_server_that_offers_tls().await;
    let url = momentarium_tests::tls_server_url();

    let pool = db::create_pool(&test_config(&url).database).unwrap();
    assert!(
        connection_is_encrypted(&pool).await.unwrap(),
        "the default sslmode encrypts"
    );

    let plain = db::create_pool(&test_config(&format!("{url}?sslmode=disable")).database).unwrap();
    assert!(
        !connection_is_encrypted(&plain).await.unwrap(),
        "sslmode=disable is honoured"
    );
}

#[tokio::test]
async fn a_ca_bundle_that_does_not_vouch_for_the_server_is_refused() {
    require_a_server_that_offers_tls().await;
    let url = momentarium_tests::tls_server_url();
    // The public roots: they do not sign this server's self-signed certificate.
    let roots = std::path::Path::new("/etc/ssl/certs/ca-certificates.crt");
    assert!(
        roots.exists(),
        "this test needs Debian's ca-certificates package"
    );
    let config = test_config_with(
        &format!("{url}?sslmode=require"),
        &[("DATABASE_CA_FILE", roots.to_str().unwrap())],
    );
    let pool = db::create_pool(&config.database).unwrap();

    let result = connection_is_encrypted(&pool).await;

    let err = result.expect_err("an unverifiable server certificate must be refused");
    assert!(
        err.to_lowercase().contains("certificate") || err.contains("invalid peer"),
        "{err}"
    );
}
