//! Who is calling. The user is the JWT `sub`:
//! - on AWS, the HTTP API's JWT authorizer has checked the token and put its claims in the
//!   request context, which `lambda_http` hands us as a request extension;
//! - locally and in tests, HS256 dev tokens signed with `DEV_JWT_SECRET` are checked here.
//!
//! Either way the handler receives the same [`Caller`]; the user row is created on first
//! sight.

use std::time::Duration;

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lambda_http::request::RequestContext;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::domain::Caller;
use crate::domain::limits::RouteClass;
use crate::error::ApiError;
use crate::http::RateSlot;
use crate::usecase::identify_caller::identify_caller;
use crate::usecase::limits;

pub const DEV_ISSUER: &str = "momentarium-dev";

#[derive(Debug, Serialize, Deserialize)]
struct DevClaims {
    sub: String,
    iss: String,
    iat: i64,
    exp: i64,
}

/// Signs a dev token for `subject`, valid for `ttl`.
pub fn issue_dev_token(secret: &SecretString, subject: &str, ttl: Duration) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = DevClaims {
        sub: subject.to_string(),
        iss: DEV_ISSUER.to_string(),
        iat: now,
        exp: now + ttl.as_secs() as i64,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.expose_secret().as_bytes()),
    )
    .unwrap_or_default()
}

/// Checks a dev token and returns its subject.
pub fn verify_dev_token(secret: &SecretString, token: &str) -> Result<String, ApiError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[DEV_ISSUER]);
    validation.set_required_spec_claims(&["exp", "sub", "iss"]);
    validation.leeway = 5;
    // A token whose `nbf` is still ahead is not valid yet.
    validation.validate_nbf = true;
    let data = jsonwebtoken::decode::<DevClaims>(
        token,
        &DecodingKey::from_secret(secret.expose_secret().as_bytes()),
        &validation,
    )
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
            ApiError::unauthorized("token_expired", "The token has expired; sign in again.")
        }
        jsonwebtoken::errors::ErrorKind::ImmatureSignature => ApiError::unauthorized(
            "invalid_token",
            "The token is not valid yet (its nbf is ahead).",
        ),
        _ => ApiError::unauthorized("invalid_token", "The token is not valid."),
    })?;
    valid_subject(data.claims.sub)
}

fn valid_subject(sub: String) -> Result<String, ApiError> {
    if sub.is_empty() || sub.len() > 255 || sub.chars().any(char::is_control) {
        return Err(ApiError::unauthorized(
            "invalid_token",
            "The token's subject is not usable.",
        ));
    }
    Ok(sub)
}

fn subject_from(parts: &Parts, app: &App) -> Result<String, ApiError> {
    // On AWS: claims the JWT authorizer already verified.
    if let Some(RequestContext::ApiGatewayV2(ctx)) = parts.extensions.get::<RequestContext>()
        && let Some(sub) = ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .and_then(|jwt| jwt.claims.get("sub"))
    {
        return valid_subject(sub.clone());
    }
    let missing = || {
        ApiError::unauthorized(
            "missing_token",
            "Send `Authorization: Bearer <token>` with this request.",
        )
    };
    let secret = app
        .config
        .auth
        .dev_jwt_secret
        .as_ref()
        .ok_or_else(missing)?;
    let header = parts.headers.get(AUTHORIZATION).ok_or_else(missing)?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("invalid_token", "The token is not valid."))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(missing)?;
    verify_dev_token(secret, token)
}

/// The verified subject alone, without creating its user on first sight: for a request
/// that must not bring an account into being (deleting one).
pub struct CallerSubject(pub String);

impl FromRequestParts<App> for CallerSubject {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        subject_from(parts, app).map(Self)
    }
}

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    /// The caller, counted against their per-minute limit for the route's class (the
    /// state goes to the `RateLimit` headers; over the limit, 429).
    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let subject = subject_from(parts, app)?;
        let Some(template) = parts.extensions.get::<MatchedPath>() else {
            return identify_caller(app, subject).await;
        };
        let class = RouteClass::of(parts.method.as_str(), template.as_str());
        let slot = parts.extensions.get::<RateSlot>().cloned();
        let (result, state) = match limits::identify_and_count(app, subject, class).await {
            Ok((caller, state)) => (Ok(caller), state),
            Err((error, state)) => (Err(error), state),
        };
        if let (Some(slot), Some(state)) = (slot, state) {
            slot.put(state);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_tokens_round_trip_and_forgeries_fail() {
        let secret = SecretString::from("s3cret-for-tests");
        let token = issue_dev_token(&secret, "alice", Duration::from_secs(60));
        assert_eq!(verify_dev_token(&secret, &token).unwrap(), "alice");

        let other = SecretString::from("another-secret");
        let err = verify_dev_token(&other, &token).unwrap_err();
        assert_eq!(err.code(), "invalid_token");

        let err = verify_dev_token(&secret, "not.a.jwt").unwrap_err();
        assert_eq!(err.code(), "invalid_token");
    }

    #[test]
    fn expired_tokens_say_so() {
        let secret = SecretString::from("s3cret-for-tests");
        let now = chrono::Utc::now().timestamp();
        let claims = DevClaims {
            sub: "alice".into(),
            iss: DEV_ISSUER.into(),
            iat: now - 7200,
            exp: now - 3600,
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"s3cret-for-tests"),
        )
        .unwrap();
        assert_eq!(
            verify_dev_token(&secret, &token).unwrap_err().code(),
            "token_expired"
        );
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        // alg "none": header {"alg":"none","typ":"JWT"}, claims with sub alice.
        let secret = SecretString::from("s3cret-for-tests");
        let exp = chrono::Utc::now().timestamp() + 600;
        let b64 = |s: &str| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
        };
        let token = format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&format!(
                r#"{{"sub":"alice","iss":"{DEV_ISSUER}","iat":0,"exp":{exp}}}"#
            ))
        );
        assert_eq!(
            verify_dev_token(&secret, &token).unwrap_err().code(),
            "invalid_token"
        );
    }
}
