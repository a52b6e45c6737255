//! What every handler and use-case can reach, built once at cold start.

use std::sync::Arc;

use deadpool_postgres::Pool;

use crate::config::Config;
use crate::error::ApiError;
use crate::gemini::GeminiClient;
use crate::queue::{JobQueue, SqsQueue};
use crate::storage::S3Store;

#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub pool: Pool,
    pub storage: Option<S3Store>,
    pub queue: Option<Arc<dyn JobQueue>>,
    /// The vision model; `None` without an API key (the offline organiser is used).
    pub gemini: Option<Arc<GeminiClient>>,
}

impl App {
    pub fn new(config: Config, pool: Pool) -> Self {
        let gemini = GeminiClient::from_config(&config.gemini).map(Arc::new);
        Self {
            config: Arc::new(config),
            pool,
            storage: None,
            queue: None,
            gemini,
        }
    }

    pub fn with_storage(mut self, storage: S3Store) -> Self {
        self.storage = Some(storage);
        self
    }

    pub fn with_queue(mut self, queue: Arc<dyn JobQueue>) -> Self {
        self.queue = Some(queue);
        self
    }

    /// Production wiring: the pool, and S3 and SQS clients for what is configured.
    pub async fn from_config(config: Config) -> anyhow::Result<Self> {
        let pool = crate::db::create_pool(&config.database)?;
        let storage = match &config.storage {
            Some(storage) => Some(S3Store::connect(storage).await),
            None => None,
        };
        let queue: Option<Arc<dyn JobQueue>> =
            match (&config.queue.queue_url, &config.queue.webhook_secret) {
                (Some(url), Some(secret)) => Some(Arc::new(
                    SqsQueue::connect(
                        url.clone(),
                        config.queue.endpoint_url.as_deref(),
                        secret.clone(),
                    )
                    .await,
                )),
                _ => None,
            };
        let mut app = Self::new(config, pool);
        app.storage = storage;
        app.queue = queue;
        Ok(app)
    }

    /// The object store; its absence is a deployment mistake, reported as a 500.
    pub fn storage(&self) -> Result<&S3Store, ApiError> {
        self.storage
            .as_ref()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("PHOTO_BUCKET is not configured")))
    }
}
