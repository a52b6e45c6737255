//! Lambda: the scheduled sweep of stranded jobs, objects of deleted photos and expired uploads. Wiring
//! only.

use lambda_runtime::{LambdaEvent, service_fn};
use momentarium_shared::config::Need;
use momentarium_shared::lambda::cold_start;
use momentarium_shared::usecase::sweep_jobs::sweep_jobs;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = cold_start(&[Need::Queue, Need::WebhookSecret, Need::Storage])
        .await?
        .connect_queue()
        .await
        .connect_storage()
        .await;
    let app = &app;
    lambda_runtime::run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            let report = sweep_jobs(app, 200).await?;
            Ok::<_, lambda_runtime::Error>(serde_json::json!({
                "resent": report.resent,
                "failed": report.failed,
                "objectsRemoved": report.objects_removed,
                "objectsLeft": report.objects_left,
                "uploadsExpired": report.uploads_expired,
            }))
        },
    ))
    .await
}
