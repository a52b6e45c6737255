//! Lambda: apply database migrations on every deploy (a CloudFormation custom resource)
//! or when invoked by hand. Wiring only.

use lambda_runtime::{LambdaEvent, service_fn};
use momentarium_shared::lambda::{cold_start, handle_migration_event};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = cold_start(&[]).await?;
    let app = &app;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            handle_migration_event(app, event).await
        },
    ))
    .await
}
