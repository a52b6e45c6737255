//! What every handler and use-case can reach, built once at cold start.

use std::sync::Arc;

use deadpool_postgres::Pool;

use crate::adapter::gemini::{GeminiClient, GeminiOrganiser};
use crate::adapter::gemini_embed::GeminiEmbedder;
use crate::adapter::gemini_images::GeminiImages;
use crate::adapter::openai_images::OpenAiImages;
use crate::adapter::queue::{JobQueue, SqsQueue};
use crate::adapter::s3::S3Store;
use crate::config::Config;
use crate::domain::embedding::Embedder;
use crate::domain::generation::{ImageGenerator, Provider};
use crate::domain::organiser::{Offline, Organiser, WithFallback};
use crate::error::ApiError;

/// Built in one place: [`App::new`] gives the configuration and the pool, and each part a
/// process uses is attached by one call — the real adapter from the configuration
/// (`connect_storage`, `connect_queue`, `with_configured_organiser`) or a stand-in
/// (`with_storage`, `with_queue`, `with_organiser`). A Lambda function attaches only what
/// its routes use, so it links only those adapters: `health` carries neither AWS SDK nor
/// the image stack. What a part's absence means is one error, [`NotConfigured`].
#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub pool: Pool,
    storage: Option<S3Store>,
    queue: Option<Arc<dyn JobQueue>>,
    organiser: Option<Arc<dyn Organiser>>,
    /// Where budget alerts are published (an SNS topic), when configured.
    alerts: Option<crate::adapter::alerts::SnsAlerts>,
    /// Image providers, by the provider they are (only those with a key).
    generators: Vec<Arc<dyn ImageGenerator>>,
    /// Text embeddings for semantic search (with `GEMINI_API_KEY`).
    embedder: Option<Arc<dyn Embedder>>,
    /// Whether the database has pgvector's embeddings table (asked once per process).
    vectors: Arc<tokio::sync::OnceCell<bool>>,
    /// The model behind the organiser, when there is one.
    pub model: Option<String>,
    /// This process: the prefix of every claim its workers take, so that it can give
    /// them all back when it stops.
    pub instance: Arc<str>,
    /// Whether responses may stay open to push events (`serve`); behind API Gateway
    /// (Lambda) they may not, and an event stream answers once and asks to be reopened.
    pub live_events: bool,
}

impl App {
    /// The configuration and the pool; no other part yet.
    pub fn new(config: Config, pool: Pool) -> Self {
        Self {
            config: Arc::new(config),
            pool,
            storage: None,
            queue: None,
            organiser: None,
            alerts: None,
            generators: Vec::new(),
            embedder: None,
            vectors: Arc::default(),
            model: None,
            instance: format!("worker-{}", uuid::Uuid::new_v4().simple()).into(),
            live_events: false,
        }
    }

    /// S3 as configured (`PHOTO_BUCKET`, `S3_ENDPOINT_URL`); nothing when unconfigured.
    pub async fn connect_storage(mut self) -> Self {
        if let Some(storage) = &self.config.storage {
            self.storage = Some(S3Store::connect(storage).await);
        }
        self
    }

    /// SQS as configured (`JOB_QUEUE_URL` and `WEBHOOK_SECRET`, which signs every
    /// message); nothing when either is missing.
    pub async fn connect_queue(mut self) -> Self {
        if let (Some(url), Some(secret)) = (
            &self.config.queue.queue_url,
            &self.config.queue.webhook_secret,
        ) {
            let queue = SqsQueue::connect(
                url.clone(),
                self.config.queue.endpoint_url.as_deref(),
                secret.clone(),
            )
            .await
            .with_priority_queue(self.config.queue.priority_queue_url.clone());
            self.queue = Some(Arc::new(queue));
        }
        self
    }

    /// Gemini with the offline organiser behind it when a key is set, the offline
    /// organiser alone otherwise.
    pub fn with_configured_organiser(mut self) -> Self {
        let gemini = GeminiClient::from_config(&self.config.gemini).map(Arc::new);
        self.model = gemini.as_ref().map(|g| g.model().to_string());
        self.organiser = Some(match gemini {
            Some(client) => Arc::new(WithFallback {
                primary: Arc::new(GeminiOrganiser { client }),
            }),
            None => Arc::new(Offline),
        });
        self
    }

    /// The budget alert topic (`BUDGET_ALERT_TOPIC_ARN`, `SNS_ENDPOINT_URL`), when set.
    pub async fn connect_alerts(mut self) -> Self {
        if let Some(arn) = &self.config.usage.alert_topic_arn {
            self.alerts = Some(
                crate::adapter::alerts::SnsAlerts::connect(
                    arn.clone(),
                    self.config.usage.sns_endpoint_url.as_deref(),
                )
                .await,
            );
        }
        self
    }

    /// Another alert topic (a test's).
    pub fn with_alerts(mut self, alerts: crate::adapter::alerts::SnsAlerts) -> Self {
        self.alerts = Some(alerts);
        self
    }

    pub fn alerts(&self) -> Option<&crate::adapter::alerts::SnsAlerts> {
        self.alerts.as_ref()
    }

    /// The image providers whose keys are set: Gemini's image model with
    /// `GEMINI_API_KEY`, OpenAI's Images API with `OPENAI_API_KEY`.
    pub fn with_configured_generators(mut self) -> Self {
        let g = &self.config.generation;
        let mut generators: Vec<Arc<dyn ImageGenerator>> = Vec::new();
        if let Some(key) = &self.config.gemini.api_key {
            generators.push(Arc::new(GeminiImages::new(
                key.clone(),
                &self.config.gemini.base_url,
                &g.gemini_model,
                g.request_timeout,
            )));
        }
        if let Some(key) = &g.openai_api_key {
            generators.push(Arc::new(OpenAiImages::new(
                key.clone(),
                &g.openai_base_url,
                &g.openai_model,
                g.request_timeout,
            )));
        }
        self.generators = generators;
        self
    }

    /// Gemini's embedding model, when `GEMINI_API_KEY` is set.
    pub fn with_configured_embedder(mut self) -> Self {
        let g = &self.config.gemini;
        self.embedder = g.api_key.clone().and_then(|key| {
            GeminiEmbedder::new(key, &g.base_url, &g.embedding_model)
                .map(|e| Arc::new(e) as Arc<dyn Embedder>)
        });
        self
    }

    /// Another embedder (a test's).
    pub fn with_embedder(mut self, embedder: Arc<dyn Embedder>) -> Self {
        self.embedder = Some(embedder);
        self
    }

    pub fn embedder(&self) -> Option<&dyn Embedder> {
        self.embedder.as_deref()
    }

    /// Whether semantic search can be stored and asked here (pgvector's table exists);
    /// asked once per process (a failed question is asked again next time).
    pub async fn has_vectors(&self) -> bool {
        let answer = self
            .vectors
            .get_or_try_init(|| async {
                crate::adapter::postgres::with_client(&self.pool, |client| async move {
                    crate::repo::search::has_vectors(&client).await
                })
                .await
            })
            .await;
        match answer {
            Ok(found) => *found,
            Err(e) => {
                tracing::warn!(error = %e, "could not tell whether pgvector is there; keyword search this time");
                false
            }
        }
    }

    /// The image provider `provider`, when its key is set.
    pub fn generator(&self, provider: Provider) -> Option<&dyn ImageGenerator> {
        self.generators
            .iter()
            .find(|g| g.provider() == provider)
            .map(|g| g.as_ref())
    }

    /// Another organiser (a test's, or another provider's).
    pub fn with_organiser(mut self, organiser: Arc<dyn Organiser>) -> Self {
        self.organiser = Some(organiser);
        self
    }

    /// This process can hold a response open: job events are pushed as they happen.
    pub fn with_live_events(mut self) -> Self {
        self.live_events = true;
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

    /// The object store. Every function that uses it declares `Need::Storage`, so
    /// `Config::require` has refused to start without it; its absence here is a wiring
    /// mistake, one error for every caller.
    pub fn storage(&self) -> Result<&S3Store, NotConfigured> {
        self.storage.as_ref().ok_or(NotConfigured("PHOTO_BUCKET"))
    }

    /// The job queue, when this process sends jobs through one (without it, jobs are
    /// recorded unsent and the sweep sends them).
    pub fn queue(&self) -> Option<&dyn JobQueue> {
        self.queue.as_deref()
    }

    /// What turns a batch into albums.
    pub fn organiser(&self) -> Result<&dyn Organiser, NotConfigured> {
        self.organiser
            .as_deref()
            .ok_or(NotConfigured("the organiser"))
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
