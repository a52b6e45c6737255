//! Upstash QStash deliveries: `Upstash-Signature` is an HS256 JWT keyed with the signing
//! key's UTF-8 bytes, whose `body` claim is base64url(SHA-256(raw body)). The current key
//! is tried first, then the next one (key rotation).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Deserialize)]
struct Claims {
    body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QstashError {
    #[error("no QStash signing key matches the signature")]
    BadSignature,
    #[error("the signed body hash does not match the body")]
    BodyMismatch,
}

fn verify_with(
    key: &SecretString,
    token: &str,
    body: &[u8],
    destination: Option<&str>,
) -> Result<(), QstashError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&["Upstash"]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "nbf"]);
    validation.validate_nbf = true;
    validation.leeway = 5;
    if let Some(url) = destination {
        validation.sub = Some(url.to_string());
    }
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(key.expose_secret().as_bytes()),
        &validation,
    )
    .map_err(|_| QstashError::BadSignature)?;
    let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(body));
    if data.claims.body.trim_end_matches('=') == digest.trim_end_matches('=') {
        Ok(())
    } else {
        Err(QstashError::BodyMismatch)
    }
}

/// Verifies a delivery against the current key, then the next.
/// The header carrying QStash's signature JWT, and the one naming the message (stable
/// across its retries).
pub const SIGNATURE_HEADER: &str = "upstash-signature";
pub const MESSAGE_ID_HEADER: &str = "upstash-message-id";

pub fn verify(
    current: &SecretString,
    next: Option<&SecretString>,
    token: &str,
    body: &[u8],
    destination: Option<&str>,
) -> Result<(), QstashError> {
    match verify_with(current, token, body, destination) {
        Ok(()) => Ok(()),
        Err(first) => match next {
            Some(next) => verify_with(next, token, body, destination),
            None => Err(first),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    fn token(key: &str, body: &[u8], sub: &str, exp_in: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "iss": "Upstash", "sub": sub, "exp": now + exp_in, "nbf": now - 1, "iat": now - 1,
            "jti": "jwt_1", "body": URL_SAFE_NO_PAD.encode(Sha256::digest(body)),
        });
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(key.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn current_and_next_keys_verify_and_others_do_not() {
        let current = SecretString::from("sig_current");
        let next = SecretString::from("sig_next");
        let body = br#"{"type":"gallery.process","jobId":"x"}"#;
        let url = "https://api.example.com/api/jobs/process";
        assert_eq!(
            verify(
                &current,
                Some(&next),
                &token("sig_current", body, url, 300),
                body,
                Some(url)
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                &current,
                Some(&next),
                &token("sig_next", body, url, 300),
                body,
                Some(url)
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                &current,
                Some(&next),
                &token("sig_other", body, url, 300),
                body,
                Some(url)
            ),
            Err(QstashError::BadSignature)
        );
        assert_eq!(
            verify(
                &current,
                None,
                &token("sig_current", body, url, 300),
                b"{}",
                Some(url)
            ),
            Err(QstashError::BodyMismatch)
        );
        assert_eq!(
            verify(
                &current,
                None,
                &token("sig_current", body, url, -60),
                body,
                Some(url)
            ),
            Err(QstashError::BadSignature),
            "expired"
        );
        assert_eq!(
            verify(
                &current,
                None,
                &token("sig_current", body, "https://evil.example", 300),
                body,
                Some(url)
            ),
            Err(QstashError::BadSignature),
            "another destination"
        );
    }
}
