//! Momentarium's core crate.
//!
//! Every Lambda binary under `functions/`, the local `momentarium` command and the test
//! suites use this crate, so all of them run the same code: configuration, telemetry,
//! the database pool and migrations, the HTTP error type and the route handlers.

pub mod app;
pub mod config;
pub mod db;
mod db_tls;
pub mod domain;
pub mod error;
pub mod gemini;
pub mod health;
pub mod http;
pub mod identity;
pub mod inspect;
pub mod lambda;
#[cfg(feature = "local")]
pub mod local_http;
#[cfg(feature = "local")]
pub mod local_s3;
pub mod plan;
pub mod prepare;
pub mod qstash;
pub mod queue;
pub mod repo;
#[cfg(feature = "local")]
pub mod sample;
pub mod storage;
pub mod telemetry;
pub mod usecase;
pub mod webhook;

pub use app::App;
pub use config::Config;
pub use error::ApiError;

/// The version reported by `/api/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
