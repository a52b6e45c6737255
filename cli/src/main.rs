//! `momentarium`: Momentarium on one machine. Wiring only: each command starts what it
//! needs and hands over to its module.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use momentarium_shared::config::{LogFormat, TelemetryConfig};
use momentarium_shared::http::identity::issue_dev_token;
use momentarium_shared::telemetry;
use momentarium_shared::usecase::run_job::give_back_claims;
use secrecy::SecretString;

mod client;
mod generate;
mod html;
mod local_db;
mod organize;
mod search;
mod stack;
mod state;

#[derive(Parser)]
#[command(
    name = "momentarium",
    version,
    about = "Organise photos into themed albums, on your own machine"
)]
struct Cli {
    /// Where secrets, stored photos and a private database live.
    #[arg(long, global = true, env = "MOMENTARIUM_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Organise a folder of photos into albums and write an HTML gallery page.
    Organize {
        /// The folder holding the photos.
        folder: PathBuf,
        /// Where to write the gallery page (default: momentarium.html in the folder).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Use a running Momentarium API instead of starting one here.
        #[arg(long, env = "MOMENTARIUM_API")]
        api: Option<String>,
        /// Bearer token for --api.
        #[arg(long, env = "MOMENTARIUM_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Photos per gallery request (at most 50).
        #[arg(long, default_value_t = 50)]
        batch_size: usize,
        /// Upload every photo again, even ones the server already holds.
        #[arg(long)]
        force_upload: bool,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Print how long each phase took (reading, uploading, organising, the page).
        #[arg(long)]
        timings: bool,
    },
    /// Write a folder of sample photos (two outings, one photo without EXIF, one file that
    /// is not a photo) and organise it, to see Momentarium work before using your own.
    Demo {
        /// Where to write the sample folder.
        #[arg(default_value = "momentarium-demo")]
        folder: PathBuf,
    },
    /// Serve the HTTP API (the same handlers the Lambdas run) with embedded stand-ins.
    Serve {
        #[arg(long, env = "MOMENTARIUM_LISTEN", default_value = "127.0.0.1:3000")]
        listen: SocketAddr,
        /// The embedded S3 server's address (presigned URLs point here).
        #[arg(long, env = "MOMENTARIUM_S3_LISTEN", default_value = "127.0.0.1:9300")]
        s3_listen: SocketAddr,
    },
    /// Make a picture from a prompt (and reference photos) with the configured image
    /// provider (GEMINI_API_KEY or OPENAI_API_KEY), and save it.
    Generate {
        /// What the picture should show.
        prompt: String,
        /// A photo the picture should draw on (up to 3).
        #[arg(long = "ref", value_name = "PHOTO")]
        references: Vec<PathBuf>,
        /// Where to write the picture (default: its name, in the current folder).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// gemini or openai (default: IMAGE_PROVIDER, else whichever has a key).
        #[arg(long)]
        provider: Option<String>,
        /// E.g. 3:2, 1:1, 16:9.
        #[arg(long)]
        aspect_ratio: Option<String>,
        /// Use a running Momentarium API instead of starting one here.
        #[arg(long, env = "MOMENTARIUM_API")]
        api: Option<String>,
        /// Bearer token for --api.
        #[arg(long, env = "MOMENTARIUM_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Find your photos again: dates ("last summer", "May 2025"), places ("Portugal",
    /// a town you took photos in) and words, e.g. `search "beach in Portugal last summer"`.
    Search {
        /// What to look for (empty: everything, newest first).
        #[arg(default_value = "")]
        query: String,
        /// First day, YYYY-MM-DD (overrides the query's dates).
        #[arg(long)]
        from: Option<String>,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: Option<String>,
        /// A country or a town (overrides the query's place).
        #[arg(long)]
        place: Option<String>,
        /// Photos like this one (an image id from an earlier search's --json).
        #[arg(long)]
        similar_to: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print the API's JSON answer.
        #[arg(long)]
        json: bool,
        /// Use a running Momentarium API instead of starting one here.
        #[arg(long, env = "MOMENTARIUM_API")]
        api: Option<String>,
        /// Bearer token for --api.
        #[arg(long, env = "MOMENTARIUM_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Print a dev token for NAME, for `Authorization: Bearer` against `serve`.
    Token {
        name: String,
        #[arg(long, default_value_t = 30)]
        days: u64,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Operators' settings of a user.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Put user NAME (their sign-in name here; their `sub` with Cognito) on a tier:
    /// free or premium. Their limits, quotas and budget follow the tier's.
    SetTier {
        name: String,
        tier: String,
        /// Their own monthly AI budget in dollars, instead of the tier's.
        #[arg(long, conflicts_with = "tier_budget")]
        budget: Option<f64>,
        /// Go back to the tier's budget.
        #[arg(long)]
        tier_budget: bool,
    },
}

/// Logging for the CLI. The embedded S3 server logs every refused request at ERROR
/// (expected ones included); what matters already reaches us as an answer, so it is off
/// unless RUST_LOG asks for it.
fn logs(default: &str) {
    let default = format!("{default},s3s=off");
    telemetry::init(&TelemetryConfig {
        format: match std::env::var("LOG_FORMAT").as_deref() {
            Ok("json") => LogFormat::Json,
            _ => LogFormat::Pretty,
        },
        filter: std::env::var("RUST_LOG").unwrap_or(default),
    });
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let data_dir = state::data_dir(cli.data_dir.as_deref());
    match cli.command {
        Command::Token { name, days } => {
            let secrets = state::Secrets::load_or_create(&data_dir)?;
            let secret = std::env::var("DEV_JWT_SECRET").unwrap_or(secrets.dev_jwt_secret);
            let token = issue_dev_token(
                &SecretString::from(secret),
                &name,
                Duration::from_secs(days * 86_400),
            );
            #[allow(clippy::print_stdout)]
            {
                println!("{token}");
            }
            Ok(())
        }
        Command::User {
            action:
                UserAction::SetTier {
                    name,
                    tier,
                    budget,
                    tier_budget,
                },
        } => {
            logs("warn");
            let tier = momentarium_shared::domain::limits::Tier::parse(&tier)
                .with_context(|| format!("`{tier}` is not a tier: free or premium"))?;
            let database = local_db::resolve(&data_dir).await?;
            let config = momentarium_shared::Config::from_lookup(|n| match n {
                "DATABASE_URL" => Some(database.url.clone()),
                other => std::env::var(other).ok(),
            })?;
            let pool = momentarium_shared::adapter::postgres::create_pool(&config.database)?;
            momentarium_shared::adapter::postgres::migrate(&pool).await?;
            let app = momentarium_shared::App::new(config, pool);
            let budget = if tier_budget {
                Some(None)
            } else {
                budget.map(Some)
            };
            let (tier, own) =
                momentarium_shared::usecase::limits::set_tier(&app, &name, tier, budget)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            let limits = app.config.usage.tiers.of(tier);
            #[allow(clippy::print_stdout)]
            {
                println!(
                    "{name} is on the {} tier: {} photos organised and {} pictures a day, {:.1} GiB stored, ${:.2} of AI a month{}.",
                    tier.as_str(),
                    limits.photos_per_day,
                    limits.generations_per_day,
                    limits.storage_bytes as f64 / f64::from(1u32 << 30),
                    own.unwrap_or(limits.monthly_budget_usd),
                    if own.is_some() {
                        " (their own budget)"
                    } else {
                        ""
                    }
                );
            }
            Ok(())
        }
        Command::Migrate => {
            logs("info");
            let database = local_db::resolve(&data_dir).await?;
            let config = momentarium_shared::Config::from_lookup(|n| match n {
                "DATABASE_URL" => Some(database.url.clone()),
                other => std::env::var(other).ok(),
            })?;
            let pool = momentarium_shared::adapter::postgres::create_pool(&config.database)?;
            let report = momentarium_shared::adapter::postgres::migrate(&pool).await?;
            tracing::info!(applied = ?report.applied, "migrations done");
            Ok(())
        }
        Command::Serve { listen, s3_listen } => {
            logs("info");
            let stack = stack::Stack::start(stack::StackOptions {
                data_dir: data_dir.clone(),
                listen,
                s3_listen,
                backfill_renditions: true,
                upload_events: true,
            })
            .await?;
            tracing::info!(
                api = %stack.base_url,
                database = %stack.database,
                storage = %stack.storage,
                organiser = if stack.app.model.is_some() { "gemini" } else { "offline (set GEMINI_API_KEY for Gemini)" },
                search = match (stack.app.embedder().is_some(), stack.app.has_vectors().await) {
                    (true, true) => "words and meaning",
                    (false, _) => "words and filters (set GEMINI_API_KEY for meaning too)",
                    (true, false) => "words and filters (this PostgreSQL has no pgvector)",
                },
                "momentarium is serving; get a token with `momentarium token <name>`"
            );
            #[allow(clippy::print_stdout)] // what a person reads first
            {
                println!(
                    "The web app: {}/ (sign in with any name). Ctrl-C stops.",
                    stack.base_url
                );
            }
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
            // In-flight requests finish first; what is still held then is handed back.
            let app = stack.app.clone();
            stack.stop().await;
            if let Err(e) = give_back_claims(&app).await {
                tracing::warn!(error = %e, "could not give back the jobs in progress");
            }
            Ok(())
        }
        Command::Demo { folder } => {
            momentarium_local::sample::demo_folder(&folder)
                .with_context(|| format!("writing sample photos to {}", folder.display()))?;
            #[allow(clippy::print_stdout)]
            {
                println!(
                    "Wrote sample photos to {}/ — organising them:",
                    folder.display()
                );
            }
            let options = organize::Options {
                folder,
                out: None,
                batch_size: 50,
                force_upload: false,
                quiet: false,
                timings: false,
                scanned_in: Duration::ZERO,
            };
            organize_command(&data_dir, options, None, None).await
        }
        Command::Generate {
            prompt,
            references,
            out,
            provider,
            aspect_ratio,
            api,
            token,
        } => {
            let options = generate::Options {
                prompt,
                references,
                out,
                provider,
                aspect_ratio,
            };
            generate_command(&data_dir, options, api, token).await
        }
        Command::Search {
            query,
            from,
            to,
            place,
            similar_to,
            limit,
            json,
            api,
            token,
        } => {
            let options = search::Options {
                query,
                from,
                to,
                place,
                similar_to,
                limit,
                json,
            };
            search_command(&data_dir, options, api, token).await
        }
        Command::Organize {
            folder,
            out,
            api,
            token,
            batch_size,
            force_upload,
            quiet,
            timings,
        } => {
            let options = organize::Options {
                folder,
                out,
                batch_size,
                force_upload,
                quiet,
                timings,
                scanned_in: Duration::ZERO,
            };
            organize_command(&data_dir, options, api, token).await
        }
    }
}

/// Organises `options.folder` through `api`, or through an embedded stack started here.
async fn organize_command(
    data_dir: &std::path::Path,
    mut options: organize::Options,
    api: Option<String>,
    token: Option<String>,
) -> anyhow::Result<()> {
    logs("warn");
    anyhow::ensure!(
        options.folder.is_dir(),
        "{} is not a folder",
        options.folder.display()
    );
    let started = std::time::Instant::now();
    let scanned = organize::scan_for_photos(&options.folder)?;
    options.scanned_in = started.elapsed();
    let ledger = data_dir.join("uploaded.json");
    // The embedded stack, unless a running API was named.
    let stack = match &api {
        Some(_) => None,
        None => Some(
            stack::Stack::start(stack::StackOptions {
                data_dir: data_dir.to_path_buf(),
                listen: "127.0.0.1:0".parse()?,
                s3_listen: "127.0.0.1:0".parse()?,
                backfill_renditions: false,
                upload_events: false,
            })
            .await?,
        ),
    };
    let run = async {
        match (&api, &stack) {
            (Some(api), _) => {
                let token = token.context("--api needs --token (or MOMENTARIUM_TOKEN)")?;
                let client = client::ApiClient::new(api, &token);
                let instance = format!("api:{api}:{}", &state::hex(&sha2_digest(&token))[..16]);
                organize::organize(&client, &instance, &ledger, &options, scanned).await
            }
            (None, Some(stack)) => {
                let subject = std::env::var("USER").unwrap_or_else(|_| "local".into());
                let token = issue_dev_token(
                    &SecretString::from(stack.secrets.dev_jwt_secret.clone()),
                    &subject,
                    Duration::from_secs(86_400),
                );
                let client = client::ApiClient::new(&stack.base_url, &token);
                let instance = format!("local:{subject}");
                let page = organize::organize(&client, &instance, &ledger, &options, scanned).await;
                if page.is_ok() && !options.quiet {
                    #[allow(clippy::print_stdout)] // the summary's last line
                    {
                        println!(
                            "In the web app: ./infra/run.sh serve, then open \
                             http://127.0.0.1:3000/ and sign in as \"{subject}\"."
                        );
                    }
                }
                page
            }
            (None, None) => anyhow::bail!("no API to organise with"),
        }
    };
    let result = tokio::select! {
        result = run => result.map(|_| ()),
        _ = tokio::signal::ctrl_c() => {
            // Jobs this process was organising are handed back at once, so the next run
            // picks them up straight away rather than after their claims lapse.
            if let Some(stack) = &stack
                && let Err(e) = give_back_claims(&stack.app).await
            {
                tracing::warn!(error = %e, "could not give back the jobs in progress");
            }
            eprintln!("\nStopped. Nothing is lost: run the same command again to pick up where it left off.");
            std::process::exit(130);
        }
    };
    if let Some(stack) = stack {
        stack.stop().await;
    }
    result
}

/// Makes a picture through `api`, or through an embedded stack started here.
/// A client of `api` with `token`, or of an embedded stack started here for the local
/// user (stop it when done).
async fn client_for(
    data_dir: &std::path::Path,
    api: Option<String>,
    token: Option<String>,
) -> anyhow::Result<(client::ApiClient, Option<stack::Stack>)> {
    Ok(match api {
        Some(api) => {
            let token = token.context("--api needs --token (or MOMENTARIUM_TOKEN)")?;
            (client::ApiClient::new(&api, &token), None)
        }
        None => {
            let stack = stack::Stack::start(stack::StackOptions {
                data_dir: data_dir.to_path_buf(),
                listen: "127.0.0.1:0".parse()?,
                s3_listen: "127.0.0.1:0".parse()?,
                backfill_renditions: false,
                upload_events: false,
            })
            .await?;
            let subject = std::env::var("USER").unwrap_or_else(|_| "local".into());
            let token = issue_dev_token(
                &SecretString::from(stack.secrets.dev_jwt_secret.clone()),
                &subject,
                Duration::from_secs(86_400),
            );
            (client::ApiClient::new(&stack.base_url, &token), Some(stack))
        }
    })
}

async fn generate_command(
    data_dir: &std::path::Path,
    options: generate::Options,
    api: Option<String>,
    token: Option<String>,
) -> anyhow::Result<()> {
    // What goes wrong reaches the person as the error line; logs would say it twice.
    logs("error");
    let (client, stack) = client_for(data_dir, api, token).await?;
    let result = generate::generate(&client, &options).await;
    if let Some(stack) = stack {
        stack.stop().await;
    }
    let out = result?;
    #[allow(clippy::print_stdout)] // the one line a script reads: where the picture is
    {
        println!("{}", out.display());
    }
    Ok(())
}

async fn search_command(
    data_dir: &std::path::Path,
    options: search::Options,
    api: Option<String>,
    token: Option<String>,
) -> anyhow::Result<()> {
    logs("error");
    let (client, stack) = client_for(data_dir, api, token).await?;
    let result = search::search(&client, &options).await;
    if let Some(stack) = stack {
        stack.stop().await;
    }
    let out = result?;
    #[allow(clippy::print_stdout)] // the results are the command's output
    {
        print!("{out}");
    }
    Ok(())
}

fn sha2_digest(s: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes()).to_vec()
}
