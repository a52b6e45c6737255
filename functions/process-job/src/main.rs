//! Lambda: SQS job messages and the signed webhook route. Wiring only.

use lambda_runtime::{LambdaEvent, service_fn};
use momentarium_shared::config::Need;
use momentarium_shared::http;
use momentarium_shared::lambda::{cold_start, handle_process_job_event};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = cold_start(&[Need::Storage, Need::WebhookSecret])
        .await?
        .connect_storage()
        .await
        .with_configured_organiser()
        .with_configured_generators()
        .with_configured_embedder()
        // Budget alerts: the calls that cross 80 % and 100 % are made here.
        .connect_alerts()
        .await;
    let router = http::router_of(app.clone(), http::delivery_routes());
    let (app, router) = (&app, &router);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            handle_process_job_event(app, router, event).await
        },
    ))
    .await
}
