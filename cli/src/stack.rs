//! The embedded stack behind `momentarium serve` and `organize`: the same router the
//! Lambdas run, PostgreSQL (found or started), an S3-protocol server in process (unless
//! real S3 is configured), the signed local dispatcher (unless SQS is), and the sweep.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use momentarium_local::http as local_http;
use momentarium_local::s3::{LocalS3, ObjectCreated};
use momentarium_shared::adapter::postgres as db;
use momentarium_shared::adapter::queue::{JobQueue, SqsQueue};
use momentarium_shared::adapter::s3::S3Store;
use momentarium_shared::config::Config;
use momentarium_shared::domain::limits::{Tier, TierLimits, Tiers};
use momentarium_shared::usecase::backfill_renditions::backfill_renditions;
use momentarium_shared::usecase::record_upload::{Renditions, record_upload};
use momentarium_shared::usecase::sweep_jobs::sweep_jobs;
use momentarium_shared::{App, http};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;

use crate::local_db::{self, Database};
use crate::state::Secrets;
use momentarium_local::dispatcher::LocalDispatcher;

pub const LOCAL_BUCKET: &str = "momentarium";

pub struct StackOptions {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub s3_listen: SocketAddr,
    /// See `ProcessorConfig::backfill_renditions`: off for `organize`.
    pub backfill_renditions: bool,
    /// Each upload to the embedded S3 server is recorded, and its renditions made, as it
    /// lands, as the `on-upload` function does for S3's events: on for `serve`. Off for
    /// `organize`, whose jobs settle their uploads and whose page makes its own
    /// thumbnails when the server has none.
    pub upload_events: bool,
}

pub struct Stack {
    pub base_url: String,
    pub app: App,
    pub secrets: Secrets,
    pub database: String,
    pub storage: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    sweeper: JoinHandle<()>,
    backfiller: Option<JoinHandle<()>>,
    uploads: Option<JoinHandle<()>>,
    _s3: Option<LocalS3>,
    _db: Database,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => Ok(l),
        // A fixed default port that is taken: any free port will do.
        Err(_) if addr.port() != 0 => {
            Ok(tokio::net::TcpListener::bind(SocketAddr::new(addr.ip(), 0)).await?)
        }
        Err(e) => Err(e).with_context(|| format!("binding {addr}")),
    }
}

impl Stack {
    pub async fn start(options: StackOptions) -> anyhow::Result<Self> {
        let data_dir = &options.data_dir;
        let secrets = Secrets::load_or_create(data_dir)?;
        let database = local_db::resolve(data_dir).await?;
        let external_storage = env("PHOTO_BUCKET").is_some();
        let (created, mut created_rx) = match options.upload_events && !external_storage {
            true => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                (Some(tx), Some(rx))
            }
            false => (None, None),
        };
        let s3 = if external_storage {
            None
        } else {
            Some(start_s3(data_dir, options.s3_listen, &secrets, created).await?)
        };
        let s3_endpoint = s3.as_ref().map(|s| s.endpoint());
        let mut config = Config::from_lookup(|name| {
            let ours = match name {
                "DATABASE_URL" => Some(database.url.clone()),
                "DEV_JWT_SECRET" => env(name).or_else(|| Some(secrets.dev_jwt_secret.clone())),
                "WEBHOOK_SECRET" => env(name).or_else(|| Some(secrets.webhook_secret.clone())),
                "PHOTO_BUCKET" if !external_storage => Some(LOCAL_BUCKET.to_string()),
                "S3_ENDPOINT_URL" if !external_storage => s3_endpoint.clone(),
                _ => None,
            };
            ours.or_else(|| env(name))
        })?;
        config.processor.backfill_renditions = options.backfill_renditions;
        // On one's own machine the person running it is the operator: no per-minute or
        // daily limits on their own folders unless TIER_LIMITS asks for them. The storage
        // bound and the monthly AI budget are the premium tier's.
        if env("TIER_LIMITS").is_none() {
            let own = config.usage.tiers.of(Tier::Premium);
            let local = TierLimits {
                read_per_minute: u32::MAX >> 1,
                write_per_minute: u32::MAX >> 1,
                ai_per_minute: u32::MAX >> 1,
                photos_per_day: u32::MAX >> 1,
                generations_per_day: u32::MAX >> 1,
                ..own
            };
            config.usage.tiers = Tiers(std::collections::HashMap::from([
                (Tier::Free, local),
                (Tier::Premium, local),
            ]));
        }
        let pool = db::create_pool(&config.database)?;
        db::migrate(&pool)
            .await
            .context("applying database migrations")?;
        let storage_config = config.storage.clone().context("storage is configured")?;
        let store = match &s3 {
            Some(local) => S3Store::with_sdk_config(&local.sdk_config(), &storage_config),
            None => S3Store::connect(&storage_config).await,
        };
        let listener = bind(options.listen).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let secret = config
            .queue
            .webhook_secret
            .clone()
            .context("a webhook secret is configured")?;
        let queue: Arc<dyn JobQueue> = match &config.queue.queue_url {
            Some(url) => Arc::new(
                SqsQueue::connect(url.clone(), config.queue.endpoint_url.as_deref(), secret).await,
            ),
            None => Arc::new(LocalDispatcher::new(
                format!("{base_url}/api/jobs/process"),
                secret,
                config.processor.max_job_attempts + 3,
            )),
        };
        let storage = match &s3 {
            Some(local) => format!(
                "the embedded S3 server at {} (files in {})",
                local.endpoint(),
                data_dir.join("objects").display()
            ),
            None => format!("bucket {}", storage_config.bucket),
        };
        let app = App::new(config, pool)
            .with_storage(store)
            .with_queue(queue)
            .with_configured_organiser()
            .with_configured_generators()
            .with_configured_embedder()
            .with_live_events()
            .connect_alerts()
            .await;
        let (tx, rx) = oneshot::channel::<()>();
        // The dev sign-in mints a token for any name: only for a server on loopback.
        let router = if addr.ip().is_loopback() {
            http::router(app.clone())
        } else {
            tracing::warn!(%addr, "not on loopback: the web app's dev sign-in is off");
            http::router_of(app.clone(), http::routes())
        };
        let server = tokio::spawn(local_http::serve(listener, router, async {
            let _ = rx.await;
        }));
        let uploads = created_rx
            .take()
            .map(|events| tokio::spawn(record_uploads(app.clone(), events)));
        let sweep_app = app.clone();
        let sweeper = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = sweep_jobs(&sweep_app, 100).await {
                    tracing::warn!(error = ?e, "sweep failed");
                }
            }
        });
        // Photos without renditions (organize's, or older ones) get them in the
        // background, so the web app's grid shows thumbnails, never originals: rounds of
        // 20 while there are any, then a look every minute. What fails is not asked for
        // again by this process.
        let backfiller = options.backfill_renditions.then(|| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut failed = Vec::new();
                loop {
                    let made = match backfill_renditions(&app, &failed, 20).await {
                        Ok(report) => {
                            failed.extend(report.failed);
                            report.made
                        }
                        Err(e) => {
                            tracing::warn!(error = ?e, "backfilling renditions failed");
                            0
                        }
                    };
                    if made == 0 {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                    }
                }
            })
        });
        Ok(Self {
            base_url,
            app,
            secrets,
            database: database.description.clone(),
            storage,
            shutdown: Some(tx),
            server,
            sweeper,
            backfiller,
            uploads,
            _s3: s3,
            _db: database,
        })
    }

    /// Stops serving (in-flight requests finish) and the sweep.
    pub async fn stop(mut self) {
        self.sweeper.abort();
        for task in [self.uploads.take(), self.backfiller.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.server).await;
    }
}

/// The embedded bucket's `ObjectCreated` events, handled as the `on-upload` function
/// handles S3's: each upload under `uploads/` inspected, recorded and given its renditions,
/// several at once (as Lambda runs one instance per event). A failure is logged; the
/// job's settling step records the upload anyway, as on AWS when an event is lost.
async fn record_uploads(app: App, mut events: UnboundedReceiver<ObjectCreated>) {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let limit = Arc::new(Semaphore::new(workers));
    while let Some(created) = events.recv().await {
        if !created.key.starts_with("uploads/") {
            continue;
        }
        let Ok(permit) = limit.clone().acquire_owned().await else {
            return;
        };
        let app = app.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let etag = created.etag.as_deref();
            match record_upload(&app, &created.key, etag, Renditions::Make).await {
                Ok(outcome) => tracing::debug!(key = %created.key, ?outcome, "upload recorded"),
                Err(e) => {
                    tracing::warn!(key = %created.key, error = ?e, "recording an upload failed")
                }
            }
        });
    }
}

async fn start_s3(
    data_dir: &Path,
    listen: SocketAddr,
    secrets: &Secrets,
    created: Option<UnboundedSender<ObjectCreated>>,
) -> anyhow::Result<LocalS3> {
    let root = data_dir.join("objects");
    let start = |addr| {
        LocalS3::start_with_events(
            &root,
            LOCAL_BUCKET,
            addr,
            &secrets.s3_access_key,
            &secrets.s3_secret_key,
            created.clone(),
        )
    };
    match start(listen).await {
        Ok(s) => Ok(s),
        Err(_) if listen.port() != 0 => start(SocketAddr::new(listen.ip(), 0)).await,
        Err(e) => Err(e),
    }
}
