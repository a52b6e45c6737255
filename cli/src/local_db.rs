//! Finding a PostgreSQL for `momentarium` on this machine, in order:
//! 1. `DATABASE_URL`, if set;
//! 2. the server on 127.0.0.1:5432, if it answers (a `momentarium` database is created);
//! 3. a private cluster under the data directory, made with this machine's `initdb` and
//!    started with `pg_ctl` on a loopback port (stopped again on exit);
//! 4. otherwise, an error saying how to install PostgreSQL.
//!
//! `MOMENTARIUM_POSTGRES=server|private` skips the automatic choice.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio_postgres::NoTls;

const LOCAL_SERVER: &str = "postgres://postgres@127.0.0.1:5432";
const DATABASE: &str = "momentarium";
const PRIVATE_PORT: u16 = 54329;

/// A private cluster this process started; stopped when dropped.
pub struct PrivateCluster {
    dir: PathBuf,
    as_postgres_user: bool,
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = pg_command("pg_ctl", self.as_postgres_user)
            .args(["-D"])
            .arg(&self.dir)
            .args(["-m", "fast", "-w", "stop"])
            .output();
    }
}

pub struct Database {
    pub url: String,
    /// Held so the private cluster is stopped when this is dropped.
    pub _cluster: Option<PrivateCluster>,
    pub description: String,
}

pub async fn resolve(data_dir: &Path) -> anyhow::Result<Database> {
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.trim().is_empty()
    {
        return Ok(Database {
            url,
            _cluster: None,
            description: "DATABASE_URL".into(),
        });
    }
    let mode = std::env::var("MOMENTARIUM_POSTGRES").unwrap_or_default();
    if mode != "private" {
        match ensure_database(&format!("{LOCAL_SERVER}/postgres"), DATABASE).await {
            Ok(()) => {
                return Ok(Database {
                    url: format!("{LOCAL_SERVER}/{DATABASE}"),
                    _cluster: None,
                    description: "the PostgreSQL server on 127.0.0.1:5432".into(),
                });
            }
            Err(e) if mode == "server" => return Err(e.context("MOMENTARIUM_POSTGRES=server")),
            Err(e) => {
                tracing::info!(error = %e, "no usable PostgreSQL on 127.0.0.1:5432; starting a private one")
            }
        }
    }
    start_private(&data_dir.join("postgres")).await
}

async fn ensure_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let (client, connection) = tokio::time::timeout(
        Duration::from_secs(3),
        tokio_postgres::connect(admin_url, NoTls),
    )
    .await
    .context("timed out")??;
    tokio::spawn(connection);
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await?
        .is_some();
    if !exists
        && let Err(e) = client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
        && e.code() != Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE)
    {
        return Err(e).context("creating the momentarium database");
    }
    Ok(())
}

/// The directory holding `initdb` and `pg_ctl`: on PATH, or Debian's versioned directory.
fn pg_bin_dir() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `initdb` and `pg_ctl` refuse to run as root; then they run as the `postgres` user.
fn pg_command(tool: &str, as_postgres_user: bool) -> Command {
    let path = pg_bin_dir()
        .map(|d| d.join(tool))
        .unwrap_or_else(|| PathBuf::from(tool));
    if as_postgres_user {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

async fn start_private(dir: &Path) -> anyhow::Result<Database> {
    if pg_bin_dir().is_none() {
        bail!(
            "Momentarium needs PostgreSQL, and found none: DATABASE_URL is not set, nothing answers on \
             127.0.0.1:5432, and there is no initdb to start a private server with.\n\
             Install it (Debian/Ubuntu: `sudo apt-get install postgresql`; macOS: `brew install postgresql`) \
             and run this again, or set DATABASE_URL to a server you have."
        );
    }
    let as_postgres_user = is_root();
    if !dir.join("PG_VERSION").exists() {
        std::fs::create_dir_all(dir)?;
        if as_postgres_user {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir)
                .status()?;
            anyhow::ensure!(
                status.success(),
                "could not hand {} to the postgres user",
                dir.display()
            );
        }
        let out = pg_command("initdb", as_postgres_user)
            .args(["-D"])
            .arg(dir)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ])
            .output()
            .context("running initdb")?;
        anyhow::ensure!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let options = format!(
        "-p {PRIVATE_PORT} -k {} -c listen_addresses=127.0.0.1",
        dir.display()
    );
    let out = pg_command("pg_ctl", as_postgres_user)
        .args(["-D"])
        .arg(dir)
        .args(["-o", &options, "-l"])
        .arg(dir.join("server.log"))
        .args(["-w", "start"])
        .output()
        .context("running pg_ctl")?;
    // "already running" is fine: an earlier run left it up.
    if !out.status.success()
        && !String::from_utf8_lossy(&out.stderr).contains("another server might be running")
    {
        bail!(
            "the private PostgreSQL did not start: {} (see {})",
            String::from_utf8_lossy(&out.stderr).trim(),
            dir.join("server.log").display()
        );
    }
    let cluster = PrivateCluster {
        dir: dir.to_path_buf(),
        as_postgres_user,
    };
    let admin = format!("postgres://postgres@127.0.0.1:{PRIVATE_PORT}/postgres");
    ensure_database(&admin, DATABASE).await?;
    Ok(Database {
        url: format!("postgres://postgres@127.0.0.1:{PRIVATE_PORT}/{DATABASE}"),
        _cluster: Some(cluster),
        description: format!("a private PostgreSQL in {}", dir.display()),
    })
}
