//! Momentarium's core crate, laid out so the tree tells the architecture:
//!
//! - [`domain`]: types and pure rules (ids, content types, upload inspection, the album
//!   plan and its repair, photo preparation), no I/O;
//! - [`usecase`]: one module per thing the system decides (`issue_upload_urls`,
//!   `record_upload`, `request_processing`, `run_job`, …), given an [`App`];
//! - [`repo`]: all SQL; [`adapter`]: every outside system (PostgreSQL, S3, SQS, Gemini,
//!   Standard Webhooks, QStash) behind a small type or trait;
//! - [`http`]: the routes, one module per resource, and the extractors; [`error`]: the
//!   one error type at the edge (use-cases return it, so it sits below `http`);
//!   [`lambda`]: the Lambda event shapes (S3, SQS, the process-job function).
//!
//! Every Lambda binary under `functions/`, the local `momentarium` command (with the
//! stand-ins of `momentarium-local`) and the test suites run this same code.

pub mod adapter;
pub mod app;
pub mod config;
pub mod contract;
pub mod domain;
pub mod error;
pub mod http;
pub mod lambda;
pub mod repo;
pub mod telemetry;
pub mod usecase;

pub use app::App;
pub use config::Config;
pub use error::ApiError;

/// The version reported by `/api/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
