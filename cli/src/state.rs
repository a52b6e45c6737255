//! What `momentarium` keeps between runs in its data directory: generated secrets (dev
//! token key, webhook secret, embedded S3 keys), the stored photos, a private PostgreSQL
//! cluster if one was needed.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// The data directory: `MOMENTARIUM_DATA_DIR`, else `$XDG_DATA_HOME/momentarium`, else
/// `~/.local/share/momentarium`.
pub fn data_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Ok(p) = std::env::var("MOMENTARIUM_DATA_DIR")
        && !p.is_empty()
    {
        return PathBuf::from(p);
    }
    let base = std::env::var("XDG_DATA_HOME")
        .ok()
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| ".".into())).join(".local/share")
        });
    base.join("momentarium")
}

/// Secrets generated on first run and kept (mode 0600) so tokens and URLs stay valid.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Secrets {
    pub dev_jwt_secret: String,
    pub webhook_secret: String,
    pub s3_access_key: String,
    pub s3_secret_key: String,
}

fn random(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    b
}

impl Secrets {
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("secrets.json");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return serde_json::from_str(&text)
                .with_context(|| format!("reading {}", path.display()));
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let secrets = Self {
            dev_jwt_secret: URL_SAFE_NO_PAD.encode(random(32)),
            webhook_secret: format!("whsec_{}", STANDARD.encode(random(32))),
            s3_access_key: format!("MOMENT{}", hex(&random(7)).to_uppercase()),
            s3_secret_key: URL_SAFE_NO_PAD.encode(random(30)),
        };
        std::fs::write(&path, serde_json::to_vec_pretty(&secrets)?)?;
        restrict(&path);
        Ok(secrets)
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(unix)]
fn restrict(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict(_: &Path) {}
