//! Presigned GETs built straight with `aws-sigv4`, for pages that hand out hundreds of
//! them: the credentials are looked up once per page (not once per URL, as the SDK's
//! `presigned()` does with its whole request pipeline), and the signing time is the start
//! of a fixed window, so the same photo gets the same URL for a while and a browser's
//! cache still hits on the next page load.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::s3::StorageError;

/// Everything but S3's unreserved characters is escaped in a key; `/` separates segments.
const KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');
/// Query values: unreserved characters only.
const QUERY: &AsciiSet = &KEY.add(b'/');

/// How long one signing time is kept: URLs for the same object are identical within it.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Where the bucket's objects are addressed.
#[derive(Debug, Clone)]
pub struct BucketAddress {
    /// `https://bucket.s3.region.amazonaws.com` or `http://127.0.0.1:9000/bucket`.
    pub base: String,
    pub region: String,
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
        Self {
            base,
            region: region.to_string(),
        }
    }
}

/// Signs GET URLs for one page of objects with one set of credentials and one time.
pub struct UrlSigner<'a> {
    address: &'a BucketAddress,
    identity: Identity,
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
        Self {
            address,
            identity: credentials.into(),
            time: window_start(now),
            // The same for every URL of the window, so they stay identical; a signature
            // is good for at most seven days.
            expires_in: (ttl + WINDOW).min(Duration::from_secs(7 * 24 * 3600)),
        }
    }

    /// A presigned GET of `key`, with `response-*` overrides S3 answers with.
    pub fn get(&self, key: &str, overrides: &[(&str, &str)]) -> Result<String, StorageError> {
        let failed =
            |e: &dyn std::fmt::Display| StorageError::Other(anyhow::anyhow!("signing a URL: {e}"));
        let mut url = format!("{}/{}", self.address.base, utf8_percent_encode(key, KEY));
        for (i, (name, value)) in overrides.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(name);
            url.push('=');
            url.extend(utf8_percent_encode(value, QUERY));
        }
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(self.expires_in.as_secs()));
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.address.region)
            .name("s3")
            .time(self.time)
            .settings(settings)
            .build()
            .map_err(|e| failed(&e))?
            .into();
        let request = SignableRequest::new(
            "GET",
            Cow::Borrowed(url.as_str()),
            std::iter::empty(),
            SignableBody::UnsignedPayload,
        )
        .map_err(|e| failed(&e))?;
        let (instructions, _signature) =
            sign(request, &params).map_err(|e| failed(&e))?.into_parts();
        for (name, value) in instructions.params() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(name);
            url.push('=');
            url.extend(utf8_percent_encode(value, QUERY));
        }
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
        let key = "renditions/0b6c5c9e-8d5e-4a8f-9a57-3f1f1d3b6a10/7d1e/thumb.jpg";
        let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000 + 7 * 60);
        for (style, token) in [
            ((None, false), None),
            ((None, false), Some("FwoGZXIvYXdzEBYaD+session/token=")),
            ((Some("http://127.0.0.1:9000"), true), None),
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
            let theirs = sdk_url(style, token, key, ours.time, ours.expires_in).await;
            let sorted = |u: &str| {
                let (path, query) = u.split_once('?').unwrap();
                let mut params: Vec<String> = query.split('&').map(str::to_string).collect();
                params.sort();
                (path.to_string(), params)
            };
            assert_eq!(sorted(&url), sorted(&theirs), "{style:?} {token:?}");
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
            url.starts_with(
                "http://127.0.0.1:9000/b/a%20b/%C3%BC%2Bc?response-content-disposition=attachment%3B%20x%3D1&"
            ),
            "{url}"
        );
    }
}
