//! Presigned GETs signed with `aws-sigv4`'s own key derivation and signature, for pages
//! that hand out thousands of them. The signing key is derived once per signer (once per
//! page: it depends only on the day, the region and the secret), not once per URL as the
//! SDK's `presigned()` and `aws_sigv4::http_request::sign` do; each URL then costs one
//! SHA-256 of its canonical request and one HMAC. The signing time is the start of a fixed
//! window, so the same photo gets the same URL for a while and a browser's cache still hits
//! on the next page load.
//!
//! What is ours is only the shape of one request, a presigned `GET` whose one signed header
//! is `host` and whose payload is unsigned: the canonical request and the string to sign
//! as the SigV4 specification spells them out. The unit tests hold every URL equal to the
//! one the SDK signs for the same request (with and without a session token, virtual-hosted
//! and path-style, escaped keys), and the tests' S3 server verifies them as S3 would.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::sign::v4;
use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

use super::s3::StorageError;

/// Everything but S3's unreserved characters is escaped in a key; `/` separates segments.
const KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');
/// Query names and values: unreserved characters only.
const QUERY: &AsciiSet = &KEY.add(b'/');

/// How long one signing time is kept: URLs for the same object are identical within it.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Where the bucket's objects are addressed.
#[derive(Debug, Clone)]
pub struct BucketAddress {
    /// `https://bucket.s3.region.amazonaws.com` or `http://127.0.0.1:9000/bucket`.
    pub base: String,
    pub region: String,
    /// The `Host` header a client sends to `base` (a default port left out).
    host: String,
    /// The path before the key: empty, or `/bucket` when addressed path-style.
    path: String,
}

impl BucketAddress {
    pub fn new(bucket: &str, region: &str, endpoint: Option<&str>, path_style: bool) -> Self {
        let base = match endpoint {
            Some(endpoint) if path_style => {
                format!("{}/{bucket}", endpoint.trim_end_matches('/'))
            }
            Some(endpoint) => {
                let (scheme, host) = endpoint
                    .trim_end_matches('/')
                    .split_once("://")
                    .unwrap_or(("https", endpoint));
                format!("{scheme}://{bucket}.{host}")
            }
            None if path_style => format!("https://s3.{region}.amazonaws.com/{bucket}"),
            None => format!("https://{bucket}.s3.{region}.amazonaws.com"),
        };
        let (scheme, rest) = base.split_once("://").unwrap_or(("https", &base));
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let default_port = if scheme == "http" { ":80" } else { ":443" };
        let host = authority
            .strip_suffix(default_port)
            .unwrap_or(authority)
            .to_string();
        Self {
            host,
            path: path.to_string(),
            base,
            region: region.to_string(),
        }
    }
}

/// Signs GET URLs for one page of objects with one set of credentials and one time.
pub struct UrlSigner<'a> {
    address: &'a BucketAddress,
    /// `AWS4-HMAC-SHA256`'s key for this day, region and service.
    key: Vec<u8>,
    /// The `X-Amz-*` query parameters every URL carries, escaped, sorted, each followed by
    /// `&` (`X-Amz-Signature` is added after signing).
    amz_params: String,
    /// `AWS4-HMAC-SHA256\n{time}\n{scope}\n`: the string to sign but the request's hash.
    sts_prefix: String,
    time: SystemTime,
    expires_in: Duration,
}

/// The start of the window `now` falls in.
pub fn window_start(now: SystemTime) -> SystemTime {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    UNIX_EPOCH + Duration::from_secs(since - since % WINDOW.as_secs())
}

impl<'a> UrlSigner<'a> {
    /// URLs valid for at least `ttl` from `now` (and at most `ttl` + [`WINDOW`]).
    pub fn new(
        address: &'a BucketAddress,
        credentials: Credentials,
        now: SystemTime,
        ttl: Duration,
    ) -> Self {
        let time = window_start(now);
        // The same for every URL of the window, so they stay identical; a signature is
        // good for at most seven days.
        let expires_in = (ttl + WINDOW).min(Duration::from_secs(7 * 24 * 3600));
        let at = DateTime::<Utc>::from(time);
        let date = at.format("%Y%m%d").to_string();
        let stamp = at.format("%Y%m%dT%H%M%SZ").to_string();
        let scope = format!("{date}/{}/s3/aws4_request", address.region);
        let credential = format!("{}/{scope}", credentials.access_key_id());
        // Sorted by name, as the canonical query wants them; a session token is signed too.
        let mut amz_params = format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date={stamp}&X-Amz-Expires={}&",
            utf8_percent_encode(&credential, QUERY),
            expires_in.as_secs(),
        );
        if let Some(token) = credentials.session_token() {
            let _ = write!(
                amz_params,
                "X-Amz-Security-Token={}&",
                utf8_percent_encode(token, QUERY)
            );
        }
        amz_params.push_str("X-Amz-SignedHeaders=host&");
        let key =
            v4::generate_signing_key(credentials.secret_access_key(), time, &address.region, "s3")
                .as_ref()
                .to_vec();
        Self {
            address,
            key,
            amz_params,
            sts_prefix: format!("AWS4-HMAC-SHA256\n{stamp}\n{scope}\n"),
            time,
            expires_in,
        }
    }

    /// The time every URL of this signer is signed at (the start of its window).
    pub fn signed_at(&self) -> SystemTime {
        self.time
    }

    /// `X-Amz-Expires`: how long after [`Self::signed_at`] the URLs work.
    pub fn expires_in(&self) -> Duration {
        self.expires_in
    }

    /// A presigned GET of `key`, with `response-*` (or other) overrides S3 answers with.
    /// Every override name must sort after `X-Amz-*`, as lower-case names do.
    pub fn get(&self, key: &str, overrides: &[(&str, &str)]) -> Result<String, StorageError> {
        if let Some((name, _)) = overrides
            .iter()
            .find(|(name, _)| !name.starts_with(|c: char| c.is_ascii_lowercase()))
        {
            return Err(StorageError::Other(anyhow::anyhow!(
                "signing a URL: the override {name:?} must be a lower-case name"
            )));
        }
        let mut sorted: [(&str, &str); 4] = [("", ""); 4];
        let sorted = match overrides.len() {
            0..=4 => {
                sorted[..overrides.len()].copy_from_slice(overrides);
                &mut sorted[..overrides.len()]
            }
            _ => {
                return Err(StorageError::Other(anyhow::anyhow!(
                    "signing a URL: at most four overrides"
                )));
            }
        };
        sorted.sort_unstable();

        // The path and the query as sent are also their canonical forms.
        let mut url = String::with_capacity(self.address.base.len() + key.len() + 512);
        url.push_str(&self.address.base);
        let path_at = url.len() - self.address.path.len();
        url.push('/');
        url.extend(utf8_percent_encode(key, KEY));
        let path_end = url.len();
        url.push('?');
        url.push_str(&self.amz_params);
        for (name, value) in sorted.iter() {
            url.extend(utf8_percent_encode(name, QUERY));
            url.push('=');
            url.extend(utf8_percent_encode(value, QUERY));
            url.push('&');
        }
        url.pop();

        let mut hash = Sha256::new();
        hash.update(b"GET\n");
        hash.update(&url.as_bytes()[path_at..path_end]);
        hash.update(b"\n");
        hash.update(&url.as_bytes()[path_end + 1..]);
        hash.update(b"\nhost:");
        hash.update(self.address.host.as_bytes());
        hash.update(b"\n\nhost\nUNSIGNED-PAYLOAD");
        let mut string_to_sign = String::with_capacity(self.sts_prefix.len() + 64);
        string_to_sign.push_str(&self.sts_prefix);
        for byte in hash.finalize() {
            let _ = write!(string_to_sign, "{byte:02x}");
        }
        let signature = v4::calculate_signature(&self.key, string_to_sign.as_bytes());
        url.push_str("&X-Amz-Signature=");
        url.push_str(&signature);
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use aws_sdk_s3::presigning::PresigningConfig;

    fn credentials(token: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_string),
            None,
            "test",
        )
    }

    /// The SDK's own presigned GET for the same object, time and lifetime.
    async fn sdk_url(
        address_style: (Option<&str>, bool),
        token: Option<&str>,
        key: &str,
        time: SystemTime,
        expires_in: Duration,
    ) -> String {
        let mut config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("eu-central-1"))
            .credentials_provider(credentials(token))
            .force_path_style(address_style.1);
        if let Some(endpoint) = address_style.0 {
            config = config.endpoint_url(endpoint);
        }
        let client = aws_sdk_s3::Client::from_conf(config.build());
        let presigning = PresigningConfig::builder()
            .start_time(time)
            .expires_in(expires_in)
            .build()
            .unwrap();
        client
            .get_object()
            .bucket("photos-bucket")
            .key(key)
            .response_content_type("image/jpeg")
            .presigned(presigning)
            .await
            .unwrap()
            .uri()
            .to_string()
    }

    #[tokio::test]
    async fn urls_are_the_ones_the_sdk_signs_for_the_same_request() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000 + 7 * 60);
        for (style, token, key) in [
            (
                (None, false),
                None,
                "renditions/0b6c5c9e-8d5e-4a8f-9a57-3f1f1d3b6a10/7d1e/thumb.jpg",
            ),
            (
                (None, false),
                Some("FwoGZXIvYXdzEBYaD+session/token="),
                "uploads/u/i",
            ),
            ((Some("http://127.0.0.1:9000"), true), None, "a b/ü+c=d~e"),
            ((Some("http://localhost:80"), true), None, "k"),
        ] {
            let address = BucketAddress::new("photos-bucket", "eu-central-1", style.0, style.1);
            let ours = UrlSigner::new(&address, credentials(token), now, Duration::from_secs(3600));
            // The SDK adds `x-id=GetObject`; ask for it too so both sign the same request.
            let url = ours
                .get(
                    key,
                    &[
                        ("response-content-type", "image/jpeg"),
                        ("x-id", "GetObject"),
                    ],
                )
                .unwrap();
            let theirs = sdk_url(style, token, key, ours.signed_at(), ours.expires_in()).await;
            let sorted = |u: &str| {
                let (path, query) = u.split_once('?').unwrap();
                let mut params: Vec<String> = query.split('&').map(str::to_string).collect();
                params.sort();
                (path.to_string(), params)
            };
            assert_eq!(sorted(&url), sorted(&theirs), "{style:?} {token:?} {key}");
        }
    }

    #[test]
    fn the_same_object_gets_the_same_url_within_a_window_and_a_new_one_after() {
        let address = BucketAddress::new("b", "eu-central-1", None, false);
        let start = UNIX_EPOCH + Duration::from_secs(1_795_000_000 - 1_795_000_000 % 900);
        let at = |secs| {
            UrlSigner::new(
                &address,
                credentials(None),
                start + Duration::from_secs(secs),
                Duration::from_secs(3600),
            )
            .get("uploads/a/b", &[])
            .unwrap()
        };
        assert_eq!(
            at(10),
            at(890),
            "two loads in one window must hit the browser cache"
        );
        assert_ne!(at(10), at(910));
    }

    #[test]
    fn a_url_is_valid_for_at_least_the_ttl_from_when_it_was_asked_for() {
        let address = BucketAddress::new("b", "eu-central-1", None, false);
        let start = UNIX_EPOCH + Duration::from_secs(1_795_000_000 - 1_795_000_000 % 900);
        let signer = UrlSigner::new(
            &address,
            credentials(None),
            start + Duration::from_secs(600),
            Duration::from_secs(3600),
        );
        let url = signer.get("k", &[]).unwrap();
        assert!(url.contains("X-Amz-Expires=4500"), "{url}");
        assert!(
            url.starts_with("https://b.s3.eu-central-1.amazonaws.com/k?"),
            "{url}"
        );
    }

    #[test]
    fn keys_and_values_are_escaped() {
        let address = BucketAddress::new("b", "eu-central-1", Some("http://127.0.0.1:9000/"), true);
        let signer = UrlSigner::new(
            &address,
            credentials(None),
            UNIX_EPOCH,
            Duration::from_secs(60),
        );
        let url = signer
            .get(
                "a b/ü+c",
                &[("response-content-disposition", "attachment; x=1")],
            )
            .unwrap();
        assert!(
            url.starts_with("http://127.0.0.1:9000/b/a%20b/%C3%BC%2Bc?X-Amz-"),
            "{url}"
        );
        assert!(
            url.contains("&response-content-disposition=attachment%3B%20x%3D1&X-Amz-Signature="),
            "{url}"
        );
    }

    #[test]
    fn overrides_that_would_break_the_canonical_order_are_refused() {
        let address = BucketAddress::new("b", "eu-central-1", None, false);
        let signer = UrlSigner::new(&address, credentials(None), UNIX_EPOCH, WINDOW);
        assert!(signer.get("k", &[("Response-Content-Type", "x")]).is_err());
        assert!(signer.get("k", &[("a", ""); 5]).is_err());
        assert!(signer.get("k", &[("a", ""); 4]).is_ok());
    }

    #[test]
    fn the_host_signed_leaves_out_a_default_port_only() {
        let host = |endpoint, path_style| {
            BucketAddress::new("b", "eu-central-1", Some(endpoint), path_style).host
        };
        assert_eq!(host("http://127.0.0.1:9000", true), "127.0.0.1:9000");
        assert_eq!(host("http://minio:80/", true), "minio");
        assert_eq!(host("https://s3.example:443", false), "b.s3.example");
        assert_eq!(
            BucketAddress::new("b", "eu-central-1", None, true).path,
            "/b"
        );
    }
}
