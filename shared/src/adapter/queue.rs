//! The job queue port: SQS in production, an in-process dispatcher locally. Every message
//! is the same signed envelope: body `{"type":"gallery.process","jobId":…}` (or
//! `generation.process` for a picture to make) with Standard
//! Webhooks `webhook-id`, `webhook-timestamp`, `webhook-signature` beside it (SQS message
//! attributes, or HTTP headers).

use async_trait::async_trait;
use aws_sdk_sqs::types::MessageAttributeValue;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::adapter::standard_webhooks::{SignedHeaders, WebhookSecret};

pub const MESSAGE_TYPE: &str = "gallery.process";
/// The message of a generation job.
pub const GENERATION_MESSAGE_TYPE: &str = "generation.process";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobMessage {
    #[serde(rename = "type")]
    pub kind: String,
    pub job_id: Uuid,
}

impl JobMessage {
    pub fn process(job_id: Uuid) -> Self {
        Self {
            kind: MESSAGE_TYPE.to_string(),
            job_id,
        }
    }

    /// The message for a job of `kind`.
    pub fn for_job(kind: crate::domain::JobKind, job_id: Uuid) -> Self {
        Self {
            kind: match kind {
                crate::domain::JobKind::Organise => MESSAGE_TYPE,
                crate::domain::JobKind::Generate => GENERATION_MESSAGE_TYPE,
            }
            .to_string(),
            job_id,
        }
    }

    /// Whether this is a message the processor takes. Either type runs the job the id
    /// names, as the job's own row says (the type only labels the message).
    pub fn is_process(&self) -> bool {
        self.kind == MESSAGE_TYPE || self.kind == GENERATION_MESSAGE_TYPE
    }

    /// The `webhook-id`: the same on every delivery of this job, so receivers can dedupe.
    pub fn message_id(&self) -> String {
        format!("msg_{}", self.job_id.simple())
    }
}

/// A message ready to send: the exact body bytes and their signature.
#[derive(Debug, Clone)]
pub struct SignedMessage {
    pub body: String,
    pub headers: SignedHeaders,
}

impl SignedMessage {
    pub fn new(secret: &WebhookSecret, message: &JobMessage, now_unix: i64) -> Self {
        let body = serde_json::to_string(message).unwrap_or_default();
        let headers = SignedHeaders::sign(secret, &message.message_id(), now_unix, body.as_bytes());
        Self { body, headers }
    }
}

/// Which line a job waits in: premium users' jobs go ahead of free users'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Priority {
    #[default]
    Normal,
    High,
}

#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Hands the job to the queue. An error means it may not have been delivered; the
    /// sweep re-sends jobs left pending.
    async fn enqueue(&self, message: &JobMessage, priority: Priority) -> anyhow::Result<()>;
}

/// SQS, via aws-sdk-sqs.
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    /// The premium users' queue, with its own event source mapping and concurrency.
    priority_url: Option<String>,
    secret: WebhookSecret,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: String, secret: WebhookSecret) -> Self {
        Self {
            client,
            queue_url,
            priority_url: None,
            secret,
        }
    }

    /// Sends high-priority jobs to `url` instead.
    pub fn with_priority_queue(mut self, url: Option<String>) -> Self {
        self.priority_url = url;
        self
    }

    pub async fn connect(
        queue_url: String,
        endpoint_url: Option<&str>,
        secret: WebhookSecret,
    ) -> Self {
        let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let mut builder = aws_sdk_sqs::config::Builder::from(&shared);
        if let Some(endpoint) = endpoint_url {
            builder = builder.endpoint_url(endpoint);
        }
        Self::new(
            aws_sdk_sqs::Client::from_conf(builder.build()),
            queue_url,
            secret,
        )
    }
}

fn attribute(value: &str) -> anyhow::Result<MessageAttributeValue> {
    Ok(MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()?)
}

#[async_trait]
impl JobQueue for SqsQueue {
    async fn enqueue(&self, message: &JobMessage, priority: Priority) -> anyhow::Result<()> {
        let signed = SignedMessage::new(&self.secret, message, chrono::Utc::now().timestamp());
        let queue_url = match (priority, &self.priority_url) {
            (Priority::High, Some(url)) => url,
            _ => &self.queue_url,
        };
        let out = self
            .client
            .send_message()
            .queue_url(queue_url)
            .message_body(&signed.body)
            .set_message_attributes(Some(
                signed
                    .headers
                    .pairs()
                    .into_iter()
                    .map(|(name, value)| Ok((name.to_string(), attribute(value)?)))
                    .collect::<anyhow::Result<_>>()?,
            ))
            .send()
            .await
            .map_err(|e| anyhow::Error::new(e.into_service_error()))?;
        tracing::info!(job_id = %message.job_id, ?priority, sqs_message_id = out.message_id(), "job enqueued");
        Ok(())
    }
}
