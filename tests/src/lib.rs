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

pub mod gemini;
pub mod image_providers;
/// Sample photos (shared with `momentarium demo`).
pub use momentarium_local::sample as photos;

use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use std::sync::Arc;

use aws_lambda_events::event::s3::S3Event;
use deadpool_postgres::Pool;
use lambda_runtime::LambdaEvent;
use momentarium_local::s3::LocalS3;
use momentarium_shared::App;
use momentarium_shared::adapter::postgres as db;
use momentarium_shared::adapter::queue::{JobQueue, SqsQueue};
use momentarium_shared::adapter::s3::S3Store;
use momentarium_shared::adapter::standard_webhooks::WebhookSecret;
use momentarium_shared::config::Config;
use momentarium_shared::http;
use momentarium_shared::http::identity::issue_dev_token;
use momentarium_shared::lambda::{S3Summary, handle_s3_event};
use momentarium_shared::usecase::run_job::{Delivery, ProcessOutcome, RetryLater, run_job};
use secrecy::SecretString;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const TEMPLATE_LOCK_KEY: i64 = 0x0074_656d_706c; // "templ"

/// The URL of the maintenance database tests create their databases from.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
}

/// A server that offers TLS, for the tests of our TLS client: the plain PostgreSQL at
/// `TEST_PLAIN_DATABASE_URL` (Debian's, `ssl = on`; the pgvector build the rest of the
/// suite uses has no TLS), else the test server.
pub fn tls_server_url() -> String {
    std::env::var("TEST_PLAIN_DATABASE_URL").unwrap_or_else(|_| admin_url())
}

/// The host and port of the test server.
pub fn server_addr() -> (String, u16) {
    let config = tokio_postgres::Config::from_str(&admin_url()).expect("TEST_DATABASE_URL");
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_string(),
    };
    (host, config.get_ports().first().copied().unwrap_or(5432))
}

/// A URL for database `name` on the test server.
pub fn database_url(name: &str) -> String {
    let (host, port) = server_addr();
    database_url_at(name, &host, port)
}

/// A URL for database `name` with the test server's credentials, at `host:port` (a proxy
/// in front of the server).
pub fn database_url_at(name: &str, host: &str, port: u16) -> String {
    let config = tokio_postgres::Config::from_str(&admin_url()).expect("TEST_DATABASE_URL");
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

pub const DEV_SECRET: &str = "momentarium-test-dev-secret";
pub const BUCKET: &str = "momentarium-test";
pub const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The app, served on a loopback port, with a fresh database and an embedded S3-protocol
/// server (SigV4 checked) in a temporary directory.
pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub app: App,
    pub s3: LocalS3,
    pub db: TestDb,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// The app with no job queue (jobs stay pending for the sweep).
    pub async fn spawn() -> Self {
        Self::spawn_with(|app| app).await
    }

    /// The app with SQS (the moto server) as its job queue.
    pub async fn spawn_with_sqs() -> (Self, TestSqs) {
        let sqs = TestSqs::new().await;
        let queue = sqs.job_queue();
        let app = Self::spawn_with(move |app| app.with_queue(queue)).await;
        (app, sqs)
    }

    pub async fn spawn_with(customise: impl FnOnce(App) -> App) -> Self {
        Self::spawn_configured(&[], customise).await
    }

    /// The app with the Gemini-protocol test server as its model, and `extra` settings.
    pub async fn spawn_with_gemini(gemini: &gemini::GeminiServer, extra: &[(&str, &str)]) -> Self {
        let base = gemini.base_url();
        let mut vars = vec![
            ("GEMINI_API_KEY", gemini::API_KEY),
            ("GEMINI_BASE_URL", base.as_str()),
            ("GEMINI_MODEL", gemini::MODEL),
        ];
        vars.extend_from_slice(extra);
        Self::spawn_configured(&vars, |app| app).await
    }

    /// The app with the Gemini-protocol test server as its model and SQS (the moto
    /// server) as its job queue: the production path, end to end.
    pub async fn spawn_with_gemini_and_sqs(gemini: &gemini::GeminiServer) -> (Self, TestSqs) {
        let sqs = TestSqs::new().await;
        let queue = sqs.job_queue();
        let base = gemini.base_url();
        let vars = [
            ("GEMINI_API_KEY", gemini::API_KEY),
            ("GEMINI_BASE_URL", base.as_str()),
            ("GEMINI_MODEL", gemini::MODEL),
        ];
        let app = Self::spawn_configured(&vars, move |app| app.with_queue(queue)).await;
        (app, sqs)
    }

    /// The app with both image providers' protocol servers (Gemini's image model and
    /// OpenAI's Images API), their test models priced, and `extra` settings.
    pub async fn spawn_with_image_providers(
        gemini: &image_providers::ImageServer,
        openai: &image_providers::ImageServer,
        extra: &[(&str, &str)],
    ) -> Self {
        let (g, o) = (gemini.base_url(), openai.base_url());
        let mut vars = vec![
            ("GEMINI_API_KEY", image_providers::GEMINI_KEY),
            ("GEMINI_BASE_URL", g.as_str()),
            ("GEMINI_IMAGE_MODEL", image_providers::GEMINI_IMAGE_MODEL),
            ("OPENAI_API_KEY", image_providers::OPENAI_KEY),
            ("OPENAI_BASE_URL", o.as_str()),
            ("OPENAI_IMAGE_MODEL", image_providers::OPENAI_IMAGE_MODEL),
            ("AI_PRICES", TEST_IMAGE_PRICES),
        ];
        vars.extend_from_slice(extra);
        Self::spawn_configured(&vars, |app| app).await
    }

    /// The app with extra configuration variables.
    pub async fn spawn_configured(
        extra: &[(&str, &str)],
        customise: impl FnOnce(App) -> App,
    ) -> Self {
        let db = TestDb::new().await;
        let dir = tempfile::tempdir().unwrap();
        let s3 = LocalS3::start(
            dir.path(),
            BUCKET,
            "127.0.0.1:0".parse().unwrap(),
            "momentarium-test-key",
            "momentarium-test-secret-key",
        )
        .await
        .unwrap();
        let endpoint = s3.endpoint();
        let mut vars = vec![
            ("DEV_JWT_SECRET", DEV_SECRET),
            ("PHOTO_BUCKET", BUCKET),
            ("S3_ENDPOINT_URL", endpoint.as_str()),
            ("WEBHOOK_SECRET", WEBHOOK_SECRET),
        ];
        vars.extend_from_slice(extra);
        let config = test_config_with(&db.url, &vars);
        let store = S3Store::with_sdk_config(&s3.sdk_config(), config.storage.as_ref().unwrap());
        let app = customise(
            App::new(config, db.pool.clone())
                .with_storage(store)
                .with_configured_organiser()
                .with_configured_generators()
                .with_configured_embedder()
                .with_live_events(),
        );
        let addr = serve(app.clone()).await;
        Self {
            addr,
            http: client(),
            app,
            s3,
            db,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A dev token for `subject`, valid for an hour.
    pub fn token(&self, subject: &str) -> String {
        issue_dev_token(
            &SecretString::from(DEV_SECRET),
            subject,
            Duration::from_secs(3600),
        )
    }

    /// An image row's status and rejection reason.
    pub async fn image_state(&self, image_id: uuid::Uuid) -> (String, Option<String>) {
        let row = self
            .db
            .client()
            .await
            .query_one(
                "SELECT status, rejection_reason FROM images WHERE id = $1",
                &[&image_id],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    }

    pub fn storage(&self) -> &S3Store {
        self.app.storage().unwrap()
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// A body-less POST (an action: cancel, retry).
    pub async fn post(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Uploads `n` small, distinct sample JPEGs (`p0.jpg`, …) without EXIF; their ids.
    pub async fn upload_samples(&self, token: &str, n: u8) -> Vec<String> {
        let files: Vec<(String, Vec<u8>)> = (0..n)
            .map(|i| {
                (
                    format!("p{i}.jpg"),
                    photos::jpeg(
                        64,
                        48,
                        [i.wrapping_mul(40), 90, 120],
                        &photos::Exif::default(),
                    ),
                )
            })
            .collect();
        let specs: Vec<(&str, &str, Vec<u8>)> = files
            .iter()
            .map(|(name, bytes)| (name.as_str(), "image/jpeg", bytes.clone()))
            .collect();
        self.upload_photos(token, &specs).await
    }

    /// Waits until a worker has the job at `stage` (ten seconds at most).
    pub async fn wait_for_stage(&self, job: uuid::Uuid, stage: &str) {
        let client = self.db.client().await;
        let started = std::time::Instant::now();
        loop {
            let now: Option<String> = client
                .query_one("SELECT stage FROM processing_jobs WHERE id = $1", &[&job])
                .await
                .unwrap()
                .get(0);
            if now.as_deref() == Some(stage) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the job never reached {stage}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Asks for upload URLs for `files` (`(filename, content type, bytes)`), returning the
    /// `uploads` array.
    pub async fn upload_urls(&self, token: &str, files: &[(&str, &str, usize)]) -> Vec<Value> {
        let files: Vec<Value> = files
            .iter()
            .map(|(name, ct, size)| json!({"filename": name, "contentType": ct, "size": size}))
            .collect();
        let response = self
            .post_json(
                "/api/uploads/generate-urls",
                token,
                &json!({ "files": files }),
            )
            .await;
        assert_eq!(response.status(), 200, "generate-urls failed");
        let body: Value = response.json().await.unwrap();
        body["uploads"].as_array().unwrap().clone()
    }

    /// PUTs `bytes` to a presigned upload, with the headers the ticket says to send.
    pub async fn put(&self, ticket: &Value, bytes: Vec<u8>) -> reqwest::Response {
        self.put_with(ticket, ticket["url"].as_str().unwrap(), &[], bytes)
            .await
    }

    /// PUTs `bytes` to `url` with every header the ticket lists, except that the headers
    /// named in `replace` get the values given there. `content-length` is the body's own
    /// length (a longer body is a request of another size).
    pub async fn put_with(
        &self,
        ticket: &Value,
        url: &str,
        replace: &[(&str, &str)],
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        let headers = ticket["headers"].as_object().unwrap();
        for (name, _) in replace {
            assert!(
                headers.contains_key(*name),
                "the ticket lists no `{name}` header to replace: {headers:?}"
            );
        }
        let mut request = self.http.put(url);
        for (name, value) in headers {
            if name == "content-length" {
                continue;
            }
            let value = replace
                .iter()
                .find(|(n, _)| n == name)
                .map_or_else(|| value.as_str().unwrap(), |(_, v)| *v);
            request = request.header(name.as_str(), value);
        }
        request.body(bytes).send().await.unwrap()
    }

    /// Delivers an S3 ObjectCreated event for `keys` (as S3 sends them: URL-encoded),
    /// through the real `aws_lambda_events` type and the on-upload handler.
    pub async fn s3_event(&self, keys: &[&str]) -> Result<S3Summary, lambda_runtime::Error> {
        let raw = std::fs::read_to_string(events_dir().join("on-upload.json")).unwrap();
        let mut event: Value = serde_json::from_str(&raw).unwrap();
        let template = event["Records"][0].clone();
        event["Records"] = Value::Array(
            keys.iter()
                .map(|key| {
                    let mut record = template.clone();
                    record["s3"]["object"]["key"] = json!(key);
                    record["s3"]["bucket"]["name"] = json!(BUCKET);
                    record
                })
                .collect(),
        );
        let event: S3Event = serde_json::from_value(event).expect("an S3 event");
        handle_s3_event(
            &self.app,
            LambdaEvent::new(event, lambda_runtime::Context::default()),
        )
        .await
    }

    /// Runs the job now, as one delivery with a minute to spare would.
    pub async fn run_job_now(&self, job: uuid::Uuid) -> Result<ProcessOutcome, RetryLater> {
        run_job(
            &self.app,
            job,
            Delivery {
                deadline: std::time::Instant::now() + Duration::from_secs(60),
            },
        )
        .await
    }

    /// Runs the job on a task of its own, as a worker would, while the test goes on.
    pub fn run_job_in_background(
        &self,
        job: uuid::Uuid,
    ) -> tokio::task::JoinHandle<Result<ProcessOutcome, RetryLater>> {
        let app = self.app.clone();
        tokio::spawn(async move {
            run_job(
                &app,
                job,
                Delivery {
                    deadline: std::time::Instant::now() + Duration::from_secs(60),
                },
            )
            .await
        })
    }

    /// Asks for `ids` to be organised; returns the 202 body.
    pub async fn process(&self, token: &str, ids: &[String]) -> Value {
        let response = self
            .post_json("/api/galleries/process", token, &json!({ "imageIds": ids }))
            .await;
        assert_eq!(response.status(), 202, "process failed");
        response.json().await.unwrap()
    }

    /// Asks for `ids` to be organised; returns the job id.
    pub async fn process_job_id(&self, token: &str, ids: &[String]) -> uuid::Uuid {
        let accepted = self.process(token, ids).await;
        uuid::Uuid::parse_str(accepted["jobId"].as_str().unwrap()).unwrap()
    }

    /// generate-urls → PUT → S3 event for each photo; returns the image ids.
    pub async fn upload_photos(
        &self,
        token: &str,
        photos: &[(&str, &str, Vec<u8>)],
    ) -> Vec<String> {
        let specs: Vec<(&str, &str, usize)> =
            photos.iter().map(|(n, t, b)| (*n, *t, b.len())).collect();
        let tickets = self.upload_urls(token, &specs).await;
        let mut keys = Vec::new();
        for (ticket, (_, _, bytes)) in tickets.iter().zip(photos) {
            let response = self.put(ticket, bytes.clone()).await;
            assert_eq!(
                response.status(),
                200,
                "presigned PUT refused: {}",
                response.text().await.unwrap()
            );
            keys.push(ticket["key"].as_str().unwrap().to_string());
        }
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.s3_event(&keys).await.expect("on-upload");
        tickets
            .iter()
            .map(|t| t["imageId"].as_str().unwrap().to_string())
            .collect()
    }
}

/// The test image models' prices: Gemini's and OpenAI's published ones.
pub const TEST_IMAGE_PRICES: &str = r#"{"gemini-image-test": {"inputPerMillion": 0.30, "outputPerMillion": 30}, "gpt-image-test": {"inputPerMillion": 5, "imageInputPerMillion": 8, "outputPerMillion": 32}}"#;

/// The repository's `events/` folder.
pub fn events_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// A queue on the moto SQS server (started on demand at 127.0.0.1:5055, or found at
/// `TEST_SQS_ENDPOINT`).
pub struct TestSqs {
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
}

impl TestSqs {
    pub async fn new() -> Self {
        let endpoint = ensure_moto().await;
        let credentials =
            aws_sdk_sqs::config::Credentials::new("testing", "testing", None, None, "moto");
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .credentials_provider(credentials)
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .build();
        let client = aws_sdk_sqs::Client::from_conf(config);
        let name = format!("jobs-{}", uuid::Uuid::new_v4().simple());
        let out = client
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("creating a queue on moto");
        Self {
            client,
            queue_url: out.queue_url().unwrap().to_string(),
        }
    }

    pub fn job_queue(&self) -> Arc<dyn JobQueue> {
        Arc::new(SqsQueue::new(
            self.client.clone(),
            self.queue_url.clone(),
            WebhookSecret::parse(WEBHOOK_SECRET).unwrap(),
        ))
    }

    /// A queue on the same moto server whose URL names no queue: every send is answered
    /// with SQS's `QueueDoesNotExist` error, over the wire.
    pub fn refusing_job_queue(&self) -> Arc<dyn JobQueue> {
        let base = self
            .queue_url
            .rsplit_once('/')
            .map_or(self.queue_url.as_str(), |(base, _)| base);
        Arc::new(SqsQueue::new(
            self.client.clone(),
            format!("{base}/no-such-queue-{}", uuid::Uuid::new_v4().simple()),
            WebhookSecret::parse(WEBHOOK_SECRET).unwrap(),
        ))
    }

    /// Everything waiting in the queue now.
    pub async fn receive_all(&self) -> Vec<aws_sdk_sqs::types::Message> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        out.messages.unwrap_or_default()
    }
}

/// `messages`, as received from SQS, in the event Lambda's SQS event source mapping hands
/// to process-job (body and message attributes as they came off the queue).
pub fn sqs_lambda_event(queue_url: &str, messages: &[aws_sdk_sqs::types::Message]) -> Value {
    let queue_name = queue_url.rsplit('/').next().unwrap_or("jobs");
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let attributes: serde_json::Map<String, Value> = m
                .message_attributes()
                .into_iter()
                .flatten()
                .map(|(name, value)| {
                    (
                        name.clone(),
                        json!({
                            "stringValue": value.string_value(),
                            "stringListValues": [],
                            "binaryListValues": [],
                            "dataType": value.data_type(),
                        }),
                    )
                })
                .collect();
            json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1523232000000",
                    "SenderId": "123456789012",
                    "ApproximateFirstReceiveTimestamp": "1523232000001"
                },
                "messageAttributes": attributes,
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:us-east-1:123456789012:{queue_name}"),
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    json!({ "Records": records })
}

pub async fn ensure_moto() -> String {
    if let Ok(endpoint) = std::env::var("TEST_SQS_ENDPOINT") {
        return endpoint;
    }
    let addr = "127.0.0.1:5055";
    let up = || async { tokio::net::TcpStream::connect(addr).await.is_ok() };
    if !up().await {
        let spawned = std::process::Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", "5055"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        if let Err(e) = spawned {
            panic!(
                "These tests need moto's SQS server and could not start `moto_server`: {e}.\n\
                 Install it with `pip install 'moto[server]'` (./infra/test.sh does), or set TEST_SQS_ENDPOINT."
            );
        }
        for _ in 0..100 {
            if up().await {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(up().await, "moto_server did not start listening on {addr}");
    }
    format!("http://{addr}")
}

/// The log events the code under test writes while the guard from [`CapturedLogs::start`]
/// lives, as JSON objects (`fields.message` and the structured fields). Capture is per
/// thread, and a `#[tokio::test]` runs the code it awaits on its own thread.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<std::sync::Mutex<Vec<u8>>>);

struct CaptureWriter(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    pub fn start() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let sink = logs.0.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || CaptureWriter(sink.clone()))
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    /// Every event whose message is `message`.
    pub fn events(&self, message: &str) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|event| event["fields"]["message"] == message)
            .collect()
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
pub async fn serve(state: App) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(momentarium_local::http::serve(
        listener,
        http::router(state),
        std::future::pending(),
    ));
    addr
}

/// Runs a Python snippet (the independent signers from PyPI) and returns its stdout.
pub fn python(code: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed for these tests: {e}"));
    assert!(
        out.status.success(),
        "python failed (install the signers with `pip install standardwebhooks qstash`, as ./infra/test.sh does):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// An HS256 JWT over exactly `header` and `claims` (JSON text), signed with `secret`: for
/// tokens the server must refuse or accept by their claims (`nbf`, `exp`, a bad `alg`).
pub fn sign_jwt(header: &str, claims: &str, secret: &str) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let signing_input = format!("{}.{}", b64.encode(header), b64.encode(claims));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        b64.encode(mac.finalize().into_bytes())
    )
}

/// Asserts a response is the API's error shape with this status and code.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
}

/// An SNS topic on the moto server with an SQS queue subscribed to it: what is published
/// to the topic can be read back from the queue, over the wire.
pub struct TestSns {
    pub topic_arn: String,
    pub sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

impl TestSns {
    pub async fn new() -> Self {
        let endpoint = ensure_moto().await;
        let credentials =
            aws_sdk_sns::config::Credentials::new("testing", "testing", None, None, "moto");
        let sns = aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::Config::builder()
                .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
                .credentials_provider(credentials.clone())
                .region(aws_sdk_sns::config::Region::new("us-east-1"))
                .endpoint_url(&endpoint)
                .build(),
        );
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::Config::builder()
                .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
                .credentials_provider(credentials)
                .region(aws_sdk_sqs::config::Region::new("us-east-1"))
                .endpoint_url(&endpoint)
                .build(),
        );
        let name = format!("alerts-{}", uuid::Uuid::new_v4().simple());
        let topic_arn = sns
            .create_topic()
            .name(&name)
            .send()
            .await
            .expect("creating a topic on moto")
            .topic_arn()
            .unwrap()
            .to_string();
        let queue_url = sqs
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .unwrap()
            .queue_url()
            .unwrap()
            .to_string();
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .unwrap();
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .unwrap();
        Self {
            topic_arn,
            sns,
            sqs,
            queue_url,
        }
    }

    /// The messages published so far (raw bodies).
    pub async fn published(&self) -> Vec<String> {
        let mut out = Vec::new();
        for _ in 0..3 {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            for m in received.messages() {
                out.push(m.body().unwrap_or_default().to_string());
            }
            if !out.is_empty() {
                break;
            }
        }
        out
    }
}
