//! What every handler and use-case can reach, built once at cold start.

use std::sync::Arc;

use deadpool_postgres::Pool;

use crate::adapter::gemini::{GeminiClient, GeminiOrganiser};
use crate::adapter::queue::{JobQueue, SqsQueue};
use crate::adapter::s3::S3Store;
use crate::config::Config;
use crate::domain::organiser::{Offline, Organiser, WithFallback};
use crate::error::ApiError;

#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub pool: Pool,
    pub storage: Option<S3Store>,
    pub queue: Option<Arc<dyn JobQueue>>,
    /// What turns a batch into albums: Gemini with the offline organiser behind it when a
    /// key is set, the offline organiser alone otherwise.
    pub organiser: Arc<dyn Organiser>,
    /// The model behind the organiser, when there is one.
    pub model: Option<String>,
    /// This process: the prefix of every claim its workers take, so that it can give
    /// them all back when it stops.
    pub instance: Arc<str>,
}

impl App {
    pub fn new(config: Config, pool: Pool) -> Self {
        let gemini = GeminiClient::from_config(&config.gemini).map(Arc::new);
        let model = gemini.as_ref().map(|g| g.model().to_string());
        let organiser: Arc<dyn Organiser> = match gemini {
            Some(client) => Arc::new(WithFallback {
                primary: Arc::new(GeminiOrganiser { client }),
            }),
            None => Arc::new(Offline),
        };
        Self {
            config: Arc::new(config),
            pool,
            storage: None,
            queue: None,
            organiser,
            model,
            instance: format!("worker-{}", uuid::Uuid::new_v4().simple()).into(),
        }
    }

    /// Replaces the organiser (a test's, or another provider's).
    pub fn with_organiser(mut self, organiser: Arc<dyn Organiser>) -> Self {
        self.organiser = organiser;
        self
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
        let pool = crate::adapter::postgres::create_pool(&config.database)?;
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

    /// The object store. Every function that uses it declares `Need::Storage`, so
    /// `Config::require` has refused to start without it; its absence here is a wiring
    /// mistake, one error for every caller.
    pub fn storage(&self) -> Result<&S3Store, NotConfigured> {
        self.storage.as_ref().ok_or(NotConfigured("PHOTO_BUCKET"))
    }
}

/// A part of the app that this process was not given (a wiring mistake: the cold start
/// checks what each function needs).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("{0} is not configured")]
pub struct NotConfigured(pub &'static str);

impl From<NotConfigured> for ApiError {
    fn from(missing: NotConfigured) -> Self {
        ApiError::internal(missing)
    }
}

impl From<NotConfigured> for crate::adapter::s3::StorageError {
    fn from(missing: NotConfigured) -> Self {
        Self::Other(anyhow::Error::new(missing))
    }
}
