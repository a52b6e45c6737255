//! `momentarium`: run Momentarium on one machine.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use momentarium_shared::{Config, db, http, telemetry};

mod local_db;

#[derive(Parser)]
#[command(
    name = "momentarium",
    version,
    about = "AI photo organiser, on your own machine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API locally (the same handlers the Lambdas run).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "MOMENTARIUM_LISTEN", default_value = "127.0.0.1:3000")]
        listen: SocketAddr,
    },
    /// Apply database migrations and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let database_url = local_db::resolve().await?;
    let config = Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some(database_url.clone()),
        other => std::env::var(other).ok(),
    })?;
    telemetry::init(&config.telemetry);
    let pool = db::create_pool(&config.database)?;
    let report = db::migrate(&pool)
        .await
        .context("applying database migrations")?;
    tracing::info!(applied = ?report.applied, "database ready");

    match cli.command {
        Command::Migrate => Ok(()),
        Command::Serve { listen } => {
            let app = http::router(http::AppState::new(config, pool));
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            tracing::info!(address = %listener.local_addr()?, "momentarium is serving");
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                    tracing::info!("shutting down");
                })
                .await?;
            Ok(())
        }
    }
}
