//! Budget alerts to an SNS topic (on AWS the template creates it; email or any other
//! subscriber takes it from there). Without a topic, alerts are stored and logged only.

use uuid::Uuid;

use crate::app::App;

#[derive(Clone)]
pub struct SnsAlerts {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsAlerts {
    /// A client made elsewhere (a test's, with its own endpoint and credentials).
    pub fn with_client(client: aws_sdk_sns::Client, topic_arn: String) -> Self {
        Self { client, topic_arn }
    }

    pub async fn connect(topic_arn: String, endpoint_url: Option<&str>) -> Self {
        let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let mut builder = aws_sdk_sns::config::Builder::from(&shared);
        if let Some(endpoint) = endpoint_url {
            builder = builder.endpoint_url(endpoint);
        }
        Self {
            client: aws_sdk_sns::Client::from_conf(builder.build()),
            topic_arn,
        }
    }
}

/// Publishes one alert; failures are logged (the alert is stored either way).
pub async fn publish(app: &App, user_id: Uuid, kind: &str, message: &str) {
    let Some(alerts) = app.alerts() else {
        return;
    };
    let body = serde_json::json!({"userId": user_id, "kind": kind, "message": message});
    let sent = alerts
        .client
        .publish()
        .topic_arn(&alerts.topic_arn)
        .subject("Momentarium budget alert")
        .message(body.to_string())
        .send()
        .await;
    match sent {
        Ok(out) => tracing::info!(
            kind,
            message_id = out.message_id.as_deref().unwrap_or(""),
            "budget alert published"
        ),
        Err(e) => {
            tracing::warn!(kind, error = %aws_sdk_sns::error::DisplayErrorContext(&e), "budget alert not published")
        }
    }
}
