//! Momentarium's core crate.
//!
//! Every Lambda binary under `functions/`, the local `momentarium` command and the test
//! suites use this crate, so all of them run the same code: configuration, telemetry,
//! the database pool and migrations, the HTTP error type and the route handlers.

pub mod config;
pub mod db;
pub mod error;
pub mod health;
pub mod http;
pub mod telemetry;

pub use config::Config;
pub use error::ApiError;

/// The version reported by `/api/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
