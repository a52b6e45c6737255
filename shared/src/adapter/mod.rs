//! Every outside system, each behind a small type or trait in the domain's terms: the
//! production adapter here, a strict protocol server for it in `tests/`.

pub mod alerts;
pub mod gemini;
pub mod gemini_embed;
pub mod gemini_images;
pub mod image_client;
pub mod openai_images;
pub mod postgres;
mod postgres_tls;
pub mod qstash;
pub mod queue;
pub mod s3;
pub mod s3_urls;
pub mod standard_webhooks;
