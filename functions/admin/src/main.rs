//! Lambda: the operators' path, invoked directly (no HTTP route: IAM decides who may).
//! Sets a user's tier and budget. Wiring only.

use lambda_runtime::{LambdaEvent, service_fn};
use momentarium_shared::lambda::{cold_start, handle_admin_event};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = cold_start(&[]).await?;
    let app = &app;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            handle_admin_event(app, event).await
        },
    ))
    .await
}
