//! One typed configuration, read from the environment once at cold start.
//!
//! `Config::from_env()` fails fast with the name of the variable that is missing or
//! malformed. Secrets are held in [`SecretString`] so they never reach a log line or a
//! `Debug` print.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

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
}

#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub format: LogFormat,
    /// An `EnvFilter` directive such as `info` or `momentarium_shared=debug,info`.
    pub filter: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub telemetry: TelemetryConfig,
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
        Ok(Self {
            database: DatabaseConfig {
                url: SecretString::from(url),
                pool_size,
                connect_timeout: Duration::from_millis(connect_timeout_ms),
            },
            telemetry: TelemetryConfig {
                format: env.parsed("LOG_FORMAT", default_format)?,
                filter: env.get("RUST_LOG").unwrap_or_else(|| "info".to_string()),
            },
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

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
