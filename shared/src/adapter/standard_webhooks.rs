//! Standard Webhooks: signing and verifying `webhook-id`, `webhook-timestamp`,
//! `webhook-signature` over `{id}.{timestamp}.{body}` with HMAC-SHA256.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a delivery's timestamp may be from now, either way.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// A signing key, from `whsec_<base64>`. Never printed.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl WebhookSecret {
    /// Parses `whsec_<base64>` (the prefix may be omitted). The reason never echoes input.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let b64 = raw.trim().strip_prefix("whsec_").unwrap_or(raw.trim());
        let key = STANDARD
            .decode(b64)
            .map_err(|_| "expected `whsec_` followed by standard base64".to_string())?;
        if !(16..=128).contains(&key.len()) {
            return Err(format!(
                "the key decodes to {} bytes; use 24 to 64 random bytes",
                key.len()
            ));
        }
        Ok(Self(key))
    }

    /// Makes a secret from raw key bytes (e.g. freshly generated).
    pub fn from_bytes(key: Vec<u8>) -> Self {
        Self(key)
    }

    /// The `whsec_…` form, for handing to another process.
    pub fn to_whsec(&self) -> String {
        format!("whsec_{}", STANDARD.encode(&self.0))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        // HMAC accepts keys of any length.
        let mut mac = HmacSha256::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// `v1,<base64 signature>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self.mac(id, timestamp, body).finalize().into_bytes();
        format!("v1,{}", STANDARD.encode(tag))
    }
}

/// The names of the three headers (HTTP) or message attributes (SQS) of a delivery.
pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// The three headers (or SQS message attributes) of a signed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
}

impl SignedHeaders {
    /// Reads the three values by name from wherever they travel (a missing one is empty).
    pub fn read(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name| lookup(name).unwrap_or_default();
        Self {
            id: get(ID_HEADER),
            timestamp: get(TIMESTAMP_HEADER),
            signature: get(SIGNATURE_HEADER),
        }
    }

    /// `(name, value)` for each of the three, to send as headers or attributes.
    pub fn pairs(&self) -> [(&'static str, &str); 3] {
        [
            (ID_HEADER, &self.id),
            (TIMESTAMP_HEADER, &self.timestamp),
            (SIGNATURE_HEADER, &self.signature),
        ]
    }

    pub fn sign(secret: &WebhookSecret, id: &str, timestamp: i64, body: &[u8]) -> Self {
        Self {
            id: id.to_string(),
            timestamp: timestamp.to_string(),
            signature: secret.sign(id, timestamp, body),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the webhook-id, webhook-timestamp or webhook-signature header is missing")]
    Missing,
    #[error("the webhook-timestamp is not a unix time in seconds")]
    BadTimestamp,
    #[error("the webhook-timestamp is outside the allowed window")]
    Stale,
    #[error("no signature matches")]
    NoMatch,
}

/// Verifies a delivery. `tolerance` bounds the timestamp's distance from `now_unix`
/// (`None` skips the freshness check, for queue messages that may wait in a queue).
/// Any `v1` signature among the space-separated list may match; others are ignored.
pub fn verify(
    secret: &WebhookSecret,
    headers: &SignedHeaders,
    body: &[u8],
    now_unix: i64,
    tolerance: Option<Duration>,
) -> Result<(), VerifyError> {
    if headers.id.is_empty() || headers.timestamp.is_empty() || headers.signature.is_empty() {
        return Err(VerifyError::Missing);
    }
    let timestamp: i64 = headers
        .timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp)?;
    if let Some(tolerance) = tolerance
        && now_unix.abs_diff(timestamp) > tolerance.as_secs()
    {
        return Err(VerifyError::Stale);
    }
    let mac = secret.mac(&headers.id, timestamp, body);
    for candidate in headers.signature.split_whitespace() {
        let Some(encoded) = candidate.strip_prefix("v1,") else {
            continue;
        };
        let Ok(tag) = STANDARD.decode(encoded) else {
            continue;
        };
        // `verify_slice` compares in constant time.
        if mac.clone().verify_slice(&tag).is_ok() {
            return Ok(());
        }
    }
    Err(VerifyError::NoMatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(secret: &str, id: &str, ts: i64, body: &str, expected: &str) {
        let secret = WebhookSecret::parse(secret).unwrap();
        assert_eq!(secret.sign(id, ts, body.as_bytes()), expected);
        let headers = SignedHeaders {
            id: id.into(),
            timestamp: ts.to_string(),
            signature: expected.into(),
        };
        assert_eq!(
            verify(
                &secret,
                &headers,
                body.as_bytes(),
                ts,
                Some(DEFAULT_TOLERANCE)
            ),
            Ok(())
        );
    }

    #[test]
    fn known_answer_vectors_from_the_specification() {
        vector(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            r#"{"email":"test@example.com","username":"test_user"}"#,
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
        );
        vector(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        );
    }

    fn signed(body: &[u8], ts: i64) -> (WebhookSecret, SignedHeaders) {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let headers = SignedHeaders::sign(&secret, "msg_1", ts, body);
        (secret, headers)
    }

    #[test]
    fn a_tampered_body_or_id_does_not_verify() {
        let (secret, headers) = signed(b"{\"jobId\":1}", 1_000);
        assert_eq!(
            verify(&secret, &headers, b"{\"jobId\":2}", 1_000, None),
            Err(VerifyError::NoMatch)
        );
        let other_id = SignedHeaders {
            id: "msg_2".into(),
            ..headers.clone()
        };
        assert_eq!(
            verify(&secret, &other_id, b"{\"jobId\":1}", 1_000, None),
            Err(VerifyError::NoMatch)
        );
        let other_key = WebhookSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        assert_eq!(
            verify(&other_key, &headers, b"{\"jobId\":1}", 1_000, None),
            Err(VerifyError::NoMatch)
        );
    }

    #[test]
    fn rotation_lists_and_unknown_versions_are_handled() {
        let (secret, headers) = signed(b"x", 1_000);
        let listed = SignedHeaders {
            signature: format!("v2,abc v1,AAAA {} v1,!!notbase64", headers.signature),
            ..headers.clone()
        };
        assert_eq!(verify(&secret, &listed, b"x", 1_000, None), Ok(()));
        let only_unknown = SignedHeaders {
            signature: "v2,abc v1a,def".into(),
            ..headers
        };
        assert_eq!(
            verify(&secret, &only_unknown, b"x", 1_000, None),
            Err(VerifyError::NoMatch)
        );
    }

    #[test]
    fn stale_and_future_timestamps_are_refused_on_http_deliveries() {
        let (secret, headers) = signed(b"x", 1_000);
        let tol = Some(DEFAULT_TOLERANCE);
        assert_eq!(verify(&secret, &headers, b"x", 1_000 + 300, tol), Ok(()));
        assert_eq!(
            verify(&secret, &headers, b"x", 1_000 + 301, tol),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify(&secret, &headers, b"x", 1_000 - 301, tol),
            Err(VerifyError::Stale)
        );
        // Queue messages may wait longer than five minutes.
        assert_eq!(
            verify(&secret, &headers, b"x", 1_000 + 86_400, None),
            Ok(())
        );
        let bad = SignedHeaders {
            timestamp: "soon".into(),
            ..headers.clone()
        };
        assert_eq!(
            verify(&secret, &bad, b"x", 1_000, tol),
            Err(VerifyError::BadTimestamp)
        );
        let missing = SignedHeaders {
            signature: String::new(),
            ..headers
        };
        assert_eq!(
            verify(&secret, &missing, b"x", 1_000, tol),
            Err(VerifyError::Missing)
        );
    }

    #[test]
    fn secrets_need_base64_of_a_sensible_length_and_never_print() {
        assert!(WebhookSecret::parse("whsec_!!!").is_err());
        assert!(WebhookSecret::parse("whsec_AAAA").is_err());
        let s = WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(s.to_whsec(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert_eq!(format!("{s:?}"), "WebhookSecret(<redacted>)");
    }
}
