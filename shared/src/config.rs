//! One typed configuration, read from the environment once at cold start.
//!
//! `Config::from_env()` fails fast with the name of the variable that is missing or
//! malformed. Secrets are held in [`SecretString`] so they never reach a log line or a
//! `Debug` print.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::adapter::standard_webhooks::WebhookSecret;
use crate::domain::ContentType;
use crate::domain::generation::{PriceTable, Provider};
use crate::domain::limits::Tiers;

/// What went wrong while reading the configuration. Always names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing required environment variable {name}")]
    Missing { name: &'static str },
    #[error("environment variable {name} is malformed: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line: what CloudWatch Logs Insights wants.
    Json,
    /// Human-readable, for a terminal.
    Pretty,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "pretty" | "text" => Ok(Self::Pretty),
            other => Err(format!("expected `json` or `pretty`, got `{other}`")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `postgres://user:password@host:port/db`; secret because it carries the password.
    pub url: SecretString,
    /// Connections per process. Small: one Lambda environment serves one request at a time.
    pub pool_size: usize,
    /// How long to wait for a new connection before giving up.
    pub connect_timeout: Duration,
    /// A PEM bundle to verify the server's certificate against (e.g. Amazon RDS's).
    /// Unset: connections are encrypted when the server offers TLS, unverified (libpq's
    /// `sslmode=prefer`/`require`).
    pub ca_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub format: LogFormat,
    /// An `EnvFilter` directive such as `info` or `momentarium_shared=debug,info`.
    pub filter: String,
}

/// Object storage. Present when `PHOTO_BUCKET` is set.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub bucket: String,
    /// An S3-compatible endpoint instead of AWS (the local server, MinIO, …).
    pub endpoint_url: Option<String>,
    /// Path-style addressing (`host/bucket/key`); on by default with a custom endpoint.
    pub force_path_style: bool,
    pub upload_url_ttl: Duration,
    pub download_url_ttl: Duration,
}

/// Limits on what users may upload.
#[derive(Debug, Clone)]
pub struct LimitsConfig {
    pub max_batch: usize,
    pub max_upload_bytes: u64,
    pub allowed_types: Vec<ContentType>,
    /// Width × height above which an image is refused (decompression bombs).
    pub max_image_pixels: u64,
}

/// Identity. On AWS the HTTP API's JWT authorizer checks tokens; locally, HS256 dev
/// tokens signed with `DEV_JWT_SECRET` are checked by us.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub dev_jwt_secret: Option<SecretString>,
    /// Cognito's hosted UI, where the web app signs people in (authorization code with
    /// PKCE): `COGNITO_DOMAIN` and `COGNITO_CLIENT_ID`, both or neither.
    pub hosted_ui: Option<HostedUi>,
}

/// An OAuth 2.0 authorization server with Cognito's endpoints (`/oauth2/authorize`,
/// `/oauth2/token`) and a public client (no secret) of it.
#[derive(Debug, Clone)]
pub struct HostedUi {
    /// `https://<prefix>.auth.<region>.amazoncognito.com`, no trailing slash.
    pub domain: String,
    pub client_id: String,
}

/// The job queue and the signature on its messages.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// SQS queue URL. Unset: jobs are delivered another way (the local dispatcher).
    pub queue_url: Option<String>,
    /// The premium users' queue, served by its own event source mapping.
    pub priority_queue_url: Option<String>,
    /// An SQS-compatible endpoint instead of AWS.
    pub endpoint_url: Option<String>,
    /// Standard Webhooks secret (`whsec_…`) signing every job message.
    pub webhook_secret: Option<WebhookSecret>,
}

/// The vision model. Without a key, the offline organiser makes the albums.
#[derive(Debug, Clone)]
pub struct GeminiConfig {
    pub api_key: Option<SecretString>,
    pub base_url: String,
    pub model: String,
    /// Bound on one `generateContent` call.
    pub request_timeout: Duration,
    /// Tries per delivery for 429/500/503/504 and timeouts.
    pub max_attempts: u32,
    /// The text embedding model of semantic search.
    pub embedding_model: String,
    /// Semantic results farther than this (cosine distance, 0–2) are not relevant.
    pub search_max_distance: f64,
}

/// Image generation and editing: the providers, their models, and the price table every
/// AI call is costed with.
#[derive(Debug, Clone)]
pub struct GenerationConfig {
    /// Gemini's image model (the key and base URL are Gemini's own).
    pub gemini_model: String,
    pub openai_api_key: Option<SecretString>,
    pub openai_base_url: String,
    /// The current GPT image model (`gpt-image-1` was retired in October 2026).
    pub openai_model: String,
    /// The provider a request without `provider` gets, when its key is set.
    pub default_provider: Provider,
    /// Bound on one provider call.
    pub request_timeout: Duration,
    /// Days a generated or edited image is kept; 0 keeps them.
    pub retention_days: u32,
    pub prices: PriceTable,
}

/// Limits per user by tier, and where budget alerts go.
#[derive(Debug, Clone)]
pub struct LimitsByTier {
    pub tiers: Tiers,
    /// Off: no per-minute limits (the quotas and budgets still hold).
    pub rate_limits: bool,
    /// The SNS topic budget alerts are published to (on AWS).
    pub alert_topic_arn: Option<String>,
    pub sns_endpoint_url: Option<String>,
}

/// The processor: attempts, leases, the sweep, QStash keys.
#[derive(Debug, Clone)]
pub struct ProcessorConfig {
    /// Deliveries of a job before it is given up (matches the queue's maxReceiveCount).
    pub max_job_attempts: u32,
    /// How long a claim holds before another worker may take the job over.
    pub lease: Duration,
    /// Time budget for one HTTP-delivered run (a Lambda's timeout, less a margin).
    pub http_budget: Duration,
    /// Pending jobs older than this, never sent or not picked up, are re-sent by the sweep.
    pub sweep_after: Duration,
    pub qstash_current_key: Option<SecretString>,
    pub qstash_next_key: Option<SecretString>,
    /// The URL QStash delivers to; when set, the token's `sub` must equal it.
    pub qstash_destination_url: Option<String>,
    /// Whether a job makes the renditions of photos that have none even when its
    /// organiser needs no pixels (so galleries get thumbnails). On for every deployment;
    /// `momentarium organize` turns it off, since its page makes its own thumbnails for
    /// such photos and the work would double its time on large folders.
    pub backfill_renditions: bool,
    /// How long after it was asked for a job gets the model's albums; past it, the
    /// offline organiser delivers them, with the reason on the job.
    pub job_deadline: Duration,
    /// Failures or timeouts of the model in a row that open its circuit breaker…
    pub circuit_failures: u32,
    /// …and how long it then stays open before one trial call is let through.
    pub circuit_cooldown: Duration,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub gemini: GeminiConfig,
    pub generation: GenerationConfig,
    pub usage: LimitsByTier,
    pub processor: ProcessorConfig,
    pub database: DatabaseConfig,
    pub telemetry: TelemetryConfig,
    pub storage: Option<StorageConfig>,
    pub limits: LimitsConfig,
    pub auth: AuthConfig,
    pub queue: QueueConfig,
}

/// What a binary needs configured, checked at cold start by [`Config::require`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Storage,
    Queue,
    WebhookSecret,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, which returns a variable's value if set.
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        let url = env.required("DATABASE_URL")?;
        if let Err(e) = tokio_postgres::Config::from_str(&url) {
            // The value carries a password: describe the problem, never echo the value.
            return Err(ConfigError::Invalid {
                name: "DATABASE_URL",
                reason: format!("not a PostgreSQL connection string ({e})"),
            });
        }
        let pool_size: usize = env.parsed("DATABASE_POOL_SIZE", 2)?;
        if pool_size == 0 {
            return Err(ConfigError::Invalid {
                name: "DATABASE_POOL_SIZE",
                reason: "must be at least 1".into(),
            });
        }
        let connect_timeout_ms: u64 = env.parsed("DATABASE_CONNECT_TIMEOUT_MS", 3_000)?;
        let on_lambda = env.get("AWS_LAMBDA_FUNCTION_NAME").is_some();
        let default_format = if on_lambda {
            LogFormat::Json
        } else {
            LogFormat::Pretty
        };
        let storage = match env.get("PHOTO_BUCKET") {
            None => None,
            Some(bucket) => {
                let endpoint_url = env.get("S3_ENDPOINT_URL");
                Some(StorageConfig {
                    bucket,
                    force_path_style: env.parsed("S3_FORCE_PATH_STYLE", endpoint_url.is_some())?,
                    endpoint_url,
                    upload_url_ttl: Duration::from_secs(env.parsed("UPLOAD_URL_TTL_SECS", 300)?),
                    download_url_ttl: Duration::from_secs(
                        env.parsed("DOWNLOAD_URL_TTL_SECS", 3600)?,
                    ),
                })
            }
        };
        let allowed_types = match env.get("ALLOWED_CONTENT_TYPES") {
            None => ContentType::ALL.to_vec(),
            Some(list) => list
                .split(',')
                .map(|t| {
                    ContentType::parse(t).ok_or_else(|| ConfigError::Invalid {
                        name: "ALLOWED_CONTENT_TYPES",
                        reason: format!("`{}` is not an image type Momentarium can read", t.trim()),
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let limits = LimitsConfig {
            max_batch: env.parsed("MAX_BATCH_SIZE", 50)?,
            max_upload_bytes: env.parsed("MAX_UPLOAD_BYTES", 25 * 1024 * 1024)?,
            allowed_types,
            max_image_pixels: env.parsed("MAX_IMAGE_PIXELS", 150_000_000)?,
        };
        let webhook_secret = match env.get("WEBHOOK_SECRET") {
            None => None,
            Some(raw) => {
                Some(
                    WebhookSecret::parse(&raw).map_err(|reason| ConfigError::Invalid {
                        name: "WEBHOOK_SECRET",
                        reason,
                    })?,
                )
            }
        };
        let gemini = GeminiConfig {
            api_key: env.get("GEMINI_API_KEY").map(SecretString::from),
            base_url: env
                .get("GEMINI_BASE_URL")
                .unwrap_or_else(|| "https://generativelanguage.googleapis.com".to_string())
                .trim_end_matches('/')
                .to_string(),
            model: env
                .get("GEMINI_MODEL")
                .unwrap_or_else(|| "gemini-2.5-flash".to_string()),
            request_timeout: Duration::from_secs(env.parsed("GEMINI_TIMEOUT_SECS", 90)?),
            max_attempts: env.parsed("GEMINI_MAX_ATTEMPTS", 3)?,
            embedding_model: env
                .get("GEMINI_EMBEDDING_MODEL")
                .unwrap_or_else(|| "gemini-embedding-001".to_string()),
            search_max_distance: {
                let d: f64 = env.parsed("SEARCH_MAX_DISTANCE", 0.6)?;
                if !(0.0..=2.0).contains(&d) {
                    return Err(ConfigError::Invalid {
                        name: "SEARCH_MAX_DISTANCE",
                        reason: format!("`{d}`: a cosine distance from 0 to 2"),
                    });
                }
                d
            },
        };
        let default_provider = match env.get("IMAGE_PROVIDER") {
            None => Provider::Gemini,
            Some(raw) => Provider::parse(raw.trim()).ok_or_else(|| ConfigError::Invalid {
                name: "IMAGE_PROVIDER",
                reason: format!("`{raw}`: gemini or openai"),
            })?,
        };
        let prices = match env.get("AI_PRICES") {
            None => PriceTable::published(),
            Some(json) => {
                PriceTable::with_overrides(&json).map_err(|reason| ConfigError::Invalid {
                    name: "AI_PRICES",
                    reason,
                })?
            }
        };
        let generation = GenerationConfig {
            gemini_model: env
                .get("GEMINI_IMAGE_MODEL")
                .unwrap_or_else(|| "gemini-2.5-flash-image".to_string()),
            openai_api_key: env.get("OPENAI_API_KEY").map(SecretString::from),
            openai_base_url: env
                .get("OPENAI_BASE_URL")
                .unwrap_or_else(|| "https://api.openai.com".to_string())
                .trim_end_matches('/')
                .to_string(),
            openai_model: env
                .get("OPENAI_IMAGE_MODEL")
                .unwrap_or_else(|| "gpt-image-1.5".to_string()),
            default_provider,
            request_timeout: Duration::from_secs(env.parsed("IMAGE_TIMEOUT_SECS", 120)?),
            retention_days: env.parsed("GENERATED_RETENTION_DAYS", 30)?,
            prices,
        };
        let tiers = match env.get("TIER_LIMITS") {
            None => Tiers::defaults(),
            Some(json) => Tiers::with_overrides(&json).map_err(|reason| ConfigError::Invalid {
                name: "TIER_LIMITS",
                reason,
            })?,
        };
        let usage = LimitsByTier {
            tiers,
            rate_limits: env.parsed("RATE_LIMITS", true)?,
            alert_topic_arn: env.get("BUDGET_ALERT_TOPIC_ARN"),
            sns_endpoint_url: env.get("SNS_ENDPOINT_URL"),
        };
        let processor = ProcessorConfig {
            max_job_attempts: env.parsed("JOB_MAX_ATTEMPTS", 5)?,
            lease: Duration::from_secs(env.parsed("JOB_LEASE_SECS", 900)?),
            http_budget: Duration::from_secs(env.parsed("JOB_HTTP_BUDGET_SECS", 240)?),
            sweep_after: Duration::from_secs(env.parsed("SWEEP_PENDING_AFTER_SECS", 120)?),
            qstash_current_key: env
                .get("QSTASH_CURRENT_SIGNING_KEY")
                .map(SecretString::from),
            qstash_next_key: env.get("QSTASH_NEXT_SIGNING_KEY").map(SecretString::from),
            qstash_destination_url: env.get("QSTASH_DESTINATION_URL"),
            backfill_renditions: true,
            job_deadline: Duration::from_secs(env.parsed("JOB_DEADLINE_SECS", 240)?),
            circuit_failures: env.parsed("MODEL_CIRCUIT_FAILURES", 3)?,
            circuit_cooldown: Duration::from_secs(env.parsed("MODEL_CIRCUIT_COOLDOWN_SECS", 60)?),
        };
        Ok(Self {
            gemini,
            generation,
            usage,
            processor,
            storage,
            limits,
            auth: AuthConfig {
                dev_jwt_secret: env.get("DEV_JWT_SECRET").map(SecretString::from),
                hosted_ui: hosted_ui(env.get("COGNITO_DOMAIN"), env.get("COGNITO_CLIENT_ID"))?,
            },
            queue: QueueConfig {
                queue_url: env.get("JOB_QUEUE_URL"),
                priority_queue_url: env.get("PRIORITY_JOB_QUEUE_URL"),
                endpoint_url: env.get("SQS_ENDPOINT_URL"),
                webhook_secret,
            },
            database: DatabaseConfig {
                url: SecretString::from(url),
                pool_size,
                connect_timeout: Duration::from_millis(connect_timeout_ms),
                ca_file: env.get("DATABASE_CA_FILE").map(std::path::PathBuf::from),
            },
            telemetry: TelemetryConfig {
                format: env.parsed("LOG_FORMAT", default_format)?,
                filter: env.get("RUST_LOG").unwrap_or_else(|| "info".to_string()),
            },
        })
    }
}

impl Config {
    /// Every environment variable the configuration reads, found by watching a read.
    pub fn variables() -> Vec<String> {
        let asked = std::cell::RefCell::new(Vec::new());
        let _ = Self::from_lookup(|name| {
            asked.borrow_mut().push(name.to_string());
            // Enough for every optional section to be read too.
            match name {
                "DATABASE_URL" => Some("postgres://localhost/momentarium".into()),
                "PHOTO_BUCKET" => Some("bucket".into()),
                "S3_ENDPOINT_URL" => Some("http://127.0.0.1:9000".into()),
                _ => None,
            }
        });
        let mut names = asked.into_inner();
        names.sort();
        names.dedup();
        names
    }

    /// The variable a [`Need`] stands for.
    pub fn variable_for(need: Need) -> &'static str {
        match need {
            Need::Storage => "PHOTO_BUCKET",
            Need::Queue => "JOB_QUEUE_URL",
            Need::WebhookSecret => "WEBHOOK_SECRET",
        }
    }

    /// Fails unless everything in `needs` is configured, naming the missing variable.
    pub fn require(&self, needs: &[Need]) -> Result<(), ConfigError> {
        for need in needs {
            let missing = match need {
                Need::Storage => self.storage.is_none().then_some("PHOTO_BUCKET"),
                Need::Queue => self.queue.queue_url.is_none().then_some("JOB_QUEUE_URL"),
                Need::WebhookSecret => self
                    .queue
                    .webhook_secret
                    .is_none()
                    .then_some("WEBHOOK_SECRET"),
            };
            if let Some(name) = missing {
                return Err(ConfigError::Missing { name });
            }
        }
        Ok(())
    }
}

impl DatabaseConfig {
    /// The parsed connection settings. Validated in [`Config::from_lookup`].
    pub fn pg_config(&self) -> tokio_postgres::Config {
        tokio_postgres::Config::from_str(self.url.expose_secret())
            .unwrap_or_else(|_| tokio_postgres::Config::new())
    }
}

struct Env<'a, F: Fn(&str) -> Option<String>>(&'a F);

impl<F: Fn(&str) -> Option<String>> Env<'_, F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.get(name).ok_or(ConfigError::Missing { name })
    }

    fn parsed<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|e: T::Err| ConfigError::Invalid {
                    name,
                    reason: format!("`{raw}`: {e}"),
                }),
        }
    }
}

/// The hosted UI from its two variables: both set, or neither.
fn hosted_ui(
    domain: Option<String>,
    client_id: Option<String>,
) -> Result<Option<HostedUi>, ConfigError> {
    match (domain, client_id) {
        (None, None) => Ok(None),
        (Some(domain), Some(client_id)) => {
            let domain = domain.trim_end_matches('/').to_string();
            if !(domain.starts_with("https://") || domain.starts_with("http://")) {
                return Err(ConfigError::Invalid {
                    name: "COGNITO_DOMAIN",
                    reason: "an https:// URL (the user pool's domain)".into(),
                });
            }
            Ok(Some(HostedUi { domain, client_id }))
        }
        (Some(_), None) => Err(ConfigError::Invalid {
            name: "COGNITO_CLIENT_ID",
            reason: "set it with COGNITO_DOMAIN".into(),
        }),
        (None, Some(_)) => Err(ConfigError::Invalid {
            name: "COGNITO_DOMAIN",
            reason: "set it with COGNITO_CLIENT_ID".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_hosted_ui_needs_both_variables_and_an_http_url() {
        let db = ("DATABASE_URL", "postgres://localhost/db");
        let domain = (
            "COGNITO_DOMAIN",
            "https://m-1.auth.eu-central-1.amazoncognito.com/",
        );
        let client = ("COGNITO_CLIENT_ID", "abc123");
        let ui = Config::from_lookup(lookup(&[db, domain, client]))
            .unwrap()
            .auth
            .hosted_ui
            .unwrap();
        assert_eq!(ui.domain, "https://m-1.auth.eu-central-1.amazoncognito.com");
        assert_eq!(ui.client_id, "abc123");
        assert!(
            Config::from_lookup(lookup(&[db]))
                .unwrap()
                .auth
                .hosted_ui
                .is_none()
        );
        for (vars, name) in [
            (vec![db, domain], "COGNITO_CLIENT_ID"),
            (vec![db, client], "COGNITO_DOMAIN"),
            (
                vec![db, ("COGNITO_DOMAIN", "m-1.auth.example"), client],
                "COGNITO_DOMAIN",
            ),
        ] {
            match Config::from_lookup(lookup(&vars)) {
                Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{vars:?}: {other:?}"),
            }
        }
    }

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn missing_database_url_names_the_variable() {
        let err = Config::from_lookup(lookup(&[])).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Missing {
                name: "DATABASE_URL"
            }
        );
        assert_eq!(
            err.to_string(),
            "missing required environment variable DATABASE_URL"
        );
    }

    #[test]
    fn empty_value_counts_as_missing() {
        let err = Config::from_lookup(lookup(&[("DATABASE_URL", "  ")])).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Missing {
                name: "DATABASE_URL"
            }
        );
    }

    #[test]
    fn malformed_database_url_is_named_without_echoing_the_secret() {
        let err = Config::from_lookup(lookup(&[(
            "DATABASE_URL",
            "postgres://u:hunter2@host:notaport/db",
        )]))
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("DATABASE_URL"), "{text}");
        assert!(!text.contains("hunter2"), "secret leaked: {text}");
    }

    #[test]
    fn malformed_number_names_the_variable_and_value() {
        let err = Config::from_lookup(lookup(&[
            ("DATABASE_URL", "postgres://localhost/db"),
            ("DATABASE_POOL_SIZE", "many"),
        ]))
        .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "DATABASE_POOL_SIZE",
                ..
            }
        ));
        assert!(err.to_string().contains("`many`"));
    }

    #[test]
    fn zero_pool_size_is_rejected() {
        let err = Config::from_lookup(lookup(&[
            ("DATABASE_URL", "postgres://localhost/db"),
            ("DATABASE_POOL_SIZE", "0"),
        ]))
        .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "DATABASE_POOL_SIZE",
                ..
            }
        ));
    }

    #[test]
    fn defaults_apply_and_lambda_gets_json_logs() {
        let cfg = Config::from_lookup(lookup(&[
            ("DATABASE_URL", "postgres://localhost/db"),
            ("AWS_LAMBDA_FUNCTION_NAME", "health"),
        ]))
        .unwrap();
        assert_eq!(cfg.database.pool_size, 2);
        assert_eq!(cfg.database.connect_timeout, Duration::from_secs(3));
        assert_eq!(cfg.telemetry.format, LogFormat::Json);
        assert_eq!(cfg.telemetry.filter, "info");

        let local =
            Config::from_lookup(lookup(&[("DATABASE_URL", "postgres://localhost/db")])).unwrap();
        assert_eq!(local.telemetry.format, LogFormat::Pretty);
    }

    #[test]
    fn storage_needs_a_bucket_and_require_names_it() {
        let cfg =
            Config::from_lookup(lookup(&[("DATABASE_URL", "postgres://localhost/db")])).unwrap();
        assert!(cfg.storage.is_none());
        assert_eq!(
            cfg.require(&[Need::Storage]).unwrap_err(),
            ConfigError::Missing {
                name: "PHOTO_BUCKET"
            }
        );
        assert_eq!(
            cfg.require(&[Need::WebhookSecret]).unwrap_err(),
            ConfigError::Missing {
                name: "WEBHOOK_SECRET"
            }
        );
        let cfg = Config::from_lookup(lookup(&[
            ("DATABASE_URL", "postgres://localhost/db"),
            ("PHOTO_BUCKET", "photos"),
            ("S3_ENDPOINT_URL", "http://127.0.0.1:9000"),
        ]))
        .unwrap();
        let storage = cfg.storage.as_ref().unwrap();
        assert!(storage.force_path_style);
        assert_eq!(storage.upload_url_ttl, Duration::from_secs(300));
        assert!(cfg.require(&[Need::Storage]).is_ok());
    }

    #[test]
    fn limits_default_to_the_documented_values() {
        let cfg =
            Config::from_lookup(lookup(&[("DATABASE_URL", "postgres://localhost/db")])).unwrap();
        assert_eq!(cfg.limits.max_batch, 50);
        assert_eq!(cfg.limits.max_upload_bytes, 25 * 1024 * 1024);
        assert_eq!(cfg.limits.allowed_types, ContentType::ALL.to_vec());
    }

    #[test]
    fn bad_allowed_type_and_bad_webhook_secret_are_named() {
        let err = Config::from_lookup(lookup(&[
            ("DATABASE_URL", "postgres://localhost/db"),
            ("ALLOWED_CONTENT_TYPES", "image/jpeg,image/gif"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("ALLOWED_CONTENT_TYPES"));
        assert!(err.to_string().contains("image/gif"));
        let err = Config::from_lookup(lookup(&[
            ("DATABASE_URL", "postgres://localhost/db"),
            ("WEBHOOK_SECRET", "whsec_not base64!"),
        ]))
        .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "WEBHOOK_SECRET",
                ..
            }
        ));
        assert!(
            !err.to_string().contains("not base64"),
            "secret echoed: {err}"
        );
    }

    #[test]
    fn the_variable_list_is_read_off_the_configuration() {
        let names = Config::variables();
        for expected in [
            "DATABASE_URL",
            "PHOTO_BUCKET",
            "S3_FORCE_PATH_STYLE",
            "GEMINI_MODEL",
            "QSTASH_CURRENT_SIGNING_KEY",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} missing from {names:?}"
            );
        }
    }

    #[test]
    fn debug_output_never_shows_the_database_password() {
        let cfg = Config::from_lookup(lookup(&[(
            "DATABASE_URL",
            "postgres://u:hunter2@localhost/db",
        )]))
        .unwrap();
        let printed = format!("{cfg:?}");
        assert!(!printed.contains("hunter2"), "secret leaked: {printed}");
    }
}
