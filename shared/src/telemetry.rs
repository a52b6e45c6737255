//! Tracing set-up: JSON lines on Lambda, readable text in a terminal.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, TelemetryConfig};

/// Installs the global subscriber. Safe to call more than once (later calls are no-ops),
/// which the tests and the local server rely on.
pub fn init(config: &TelemetryConfig) {
    let filter = EnvFilter::try_new(&config.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.format {
        // Lambda adds its own timestamp and request id to every line; keep ours for parity
        // with local logs but drop ANSI colours, which CloudWatch shows as noise.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_ansi(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
