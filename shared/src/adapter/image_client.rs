//! What each image provider's adapter holds: an HTTP client, the key, the API's base,
//! the model and how long one call may take.

use std::time::Duration;

use secrecy::SecretString;

pub struct ImageClient {
    pub(crate) http: reqwest::Client,
    pub(crate) api_key: SecretString,
    pub(crate) base_url: String,
    pub(crate) model: String,
    pub(crate) timeout: Duration,
}

impl ImageClient {
    pub fn new(api_key: SecretString, base_url: &str, model: &str, timeout: Duration) -> Self {
        Self {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            api_key,
            base_url: base_url.to_string(),
            model: model.to_string(),
            timeout,
        }
    }
}
