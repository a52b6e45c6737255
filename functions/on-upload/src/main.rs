//! Lambda: S3 ObjectCreated events for `uploads/`. Wiring only.

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{LambdaEvent, service_fn};
use momentarium_shared::config::Need;
use momentarium_shared::lambda::{cold_start, handle_s3_event};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = cold_start(&[Need::Storage]).await?.connect_storage().await;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
        handle_s3_event(app, event).await.map(|_| ())
    }))
    .await
}
