//! The web app: one page and its assets, embedded in the binary and served by the same
//! router (`serve` at `/`; on AWS the `web` function behind the HTTP API).
//!
//! Assets are fingerprinted when first served: each name carries the first 10 hex digits
//! of its content's SHA-256 (`app.3f9c0a1b2d.js`), so they are cached for a year as
//! immutable, while the page itself is revalidated on every load. Nothing here is built:
//! the files under `shared/web/` are what the browser runs.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::error::ApiError;

/// The page's own files: (source name, content type, text).
const SOURCES: [(&str, &str, &str); 3] = [
    (
        "momentarium.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/momentarium.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../web/app.css"),
    ),
];
const INDEX: &str = include_str!("../../web/index.html");

struct Asset {
    content_type: &'static str,
    /// Shared by every response (a clone is a reference count, not a copy).
    body: bytes::Bytes,
}

struct Site {
    /// Fingerprinted name → asset.
    assets: HashMap<String, Asset>,
    /// The page with every `{{name}}` replaced by its fingerprinted path.
    index: String,
}

/// `{{momentarium.js}}` → `/assets/momentarium.<hash>.js` in `text`, for each name known.
fn link(text: &str, names: &HashMap<&str, String>) -> String {
    names.iter().fold(text.to_string(), |text, (source, name)| {
        text.replace(&format!("{{{{{source}}}}}"), &format!("/assets/{name}"))
    })
}

static SITE: LazyLock<Site> = LazyLock::new(|| {
    let mut names: HashMap<&str, String> = HashMap::new();
    let mut assets = HashMap::new();
    // In order: a file may link to the ones before it (app.js imports momentarium.js).
    for (source, content_type, text) in SOURCES {
        let body = link(text, &names);
        let digest = Sha256::digest(body.as_bytes());
        let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
        let (stem, ext) = source.rsplit_once('.').unwrap_or((source, ""));
        let name = format!("{stem}.{hash}.{ext}");
        names.insert(source, name.clone());
        assets.insert(
            name,
            Asset {
                content_type,
                body: body.into(),
            },
        );
    }
    Site {
        index: link(INDEX, &names),
        assets,
    }
});

/// The fingerprinted asset paths, as the page links them (for tests and page-weight
/// reports).
pub fn asset_paths() -> Vec<String> {
    let mut paths: Vec<String> = SITE.assets.keys().map(|n| format!("/assets/{n}")).collect();
    paths.sort();
    paths
}

/// Text for an HTML attribute value.
fn attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// GET / — the app's page. How a person signs in is decided here: with Cognito's hosted
/// UI configured (the template does), through it with the authorization code and PKCE;
/// with dev tokens on (`serve`), a name is enough; otherwise the page asks for a token.
pub async fn index(State(app): State<App>) -> Response {
    let auth = &app.config.auth;
    let (sign_in, domain, client_id) = match (&auth.hosted_ui, &auth.dev_jwt_secret) {
        (Some(ui), _) => ("cognito", ui.domain.as_str(), ui.client_id.as_str()),
        (None, Some(_)) => ("dev", "", ""),
        (None, None) => ("token", "", ""),
    };
    let page = SITE
        .index
        .replace("{{signIn}}", sign_in)
        .replace("{{authDomain}}", &attribute(domain))
        .replace("{{clientId}}", &attribute(client_id))
        .replace("{{version}}", env!("CARGO_PKG_VERSION"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            // Nothing but our own files; images from the bucket's presigned URLs.
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; img-src 'self' https: http: data: blob:; \
                     connect-src 'self' https: http:; style-src 'self'; script-src 'self'; \
                     object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
                ),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        page,
    )
        .into_response()
}

/// GET /assets/{file} — a fingerprinted asset, cached for a year; any other name is 404.
pub async fn asset(Path(file): Path<String>) -> Response {
    match SITE.assets.get(&file) {
        Some(asset) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(asset.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            asset.body.clone(),
        )
            .into_response(),
        None => ApiError::NotFound { what: "asset" }.into_response(),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    name: String,
}

/// POST /api/dev/sign-in `{"name": "…"}` → `{"token", "subject"}`: a dev token for that
/// name, for the page's sign-in under `serve`. Only where dev tokens are on; elsewhere (and
/// on AWS, where this route is not deployed) the same 404 as any unknown path.
pub async fn dev_sign_in(
    State(app): State<App>,
    headers: axum::http::HeaderMap,
    body: Result<axum::Json<SignIn>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let Some(secret) = app.config.auth.dev_jwt_secret.as_ref() else {
        return Err(ApiError::NotFound { what: "route" });
    };
    // Only a page this machine loaded from a loopback address: a web site that points its
    // own name at 127.0.0.1 (DNS rebinding) sends its own name as Host.
    if !loopback_host(headers.get(header::HOST)) {
        return Err(ApiError::NotFound { what: "route" });
    }
    let axum::Json(SignIn { name }) = body.map_err(|_| {
        ApiError::bad_request(
            "invalid_body",
            "Send {\"name\": \"…\"}: 1 to 64 characters.",
        )
    })?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_name",
            "A name is 1 to 64 characters, without control characters.",
        ));
    }
    let ttl = std::time::Duration::from_secs(7 * 24 * 3600);
    Ok(axum::Json(serde_json::json!({
        "token": super::identity::issue_dev_token(secret, name, ttl),
        "subject": name,
        "expiresIn": ttl.as_secs(),
    })))
}

/// Whether a Host header names this machine by a loopback name or address.
fn loopback_host(host: Option<&HeaderValue>) -> bool {
    let Some(host) = host.and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    matches!(name, "localhost" | "127.0.0.1" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_may_sign_in_with_a_name() {
        for host in [
            "localhost",
            "localhost:3000",
            "127.0.0.1:3000",
            "[::1]:3000",
            "[::1]",
        ] {
            assert!(
                loopback_host(Some(&HeaderValue::from_static(host))),
                "{host}"
            );
        }
        for host in [
            "evil.example",
            "evil.example:3000",
            "127.0.0.1.evil.example",
            "10.0.0.5:3000",
        ] {
            assert!(
                !loopback_host(Some(&HeaderValue::from_static(host))),
                "{host}"
            );
        }
        assert!(!loopback_host(None));
    }
}
