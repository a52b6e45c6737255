//! The migrate function as the deploy runs it: a CloudFormation custom resource event
//! (events/migrate.json). It must answer CloudFormation's ResponseURL with SUCCESS, or
//! FAILED and the reason, so a bad migration fails the deploy instead of hanging it.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use momentarium_shared::App;
use momentarium_shared::adapter::postgres as db;
use momentarium_shared::lambda::handle_migration_event;
use momentarium_tests::{TestDb, events_dir, test_config};
use serde_json::{Value, json};

/// A stand-in for CloudFormation's presigned S3 response URL: records what is PUT.
async fn response_sink() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route(
            "/response",
            axum::routing::put(
                |State(got): State<Arc<Mutex<Vec<Value>>>>, body: Bytes| async move {
                    got.lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap());
                    ""
                },
            ),
        )
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/response", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

fn event(response_url: &str, request_type: &str) -> Value {
    let raw = std::fs::read_to_string(events_dir().join("migrate.json")).unwrap();
    let mut e: Value = serde_json::from_str(&raw).unwrap();
    e["ResponseURL"] = json!(response_url);
    e["RequestType"] = json!(request_type);
    e
}

async fn invoke(app: &App, payload: Value) -> Result<Value, lambda_runtime::Error> {
    handle_migration_event(
        app,
        lambda_runtime::LambdaEvent::new(payload, lambda_runtime::Context::default()),
    )
    .await
}

#[tokio::test]
async fn a_deploy_migrates_an_empty_database_and_answers_success() {
    let db = TestDb::empty().await;
    let app = App::new(test_config(&db.url), db.pool.clone());
    let (url, got) = response_sink().await;

    invoke(&app, event(&url, "Create")).await.unwrap();
    invoke(&app, event(&url, "Update")).await.unwrap();

    let answers = got.lock().unwrap().clone();
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0]["Status"], "SUCCESS");
    assert_eq!(
        answers[0]["Data"]["Applied"],
        db::embedded_migrations().len()
    );
    assert_eq!(
        answers[1]["Data"]["Applied"], 0,
        "idempotent on the next deploy"
    );
    assert_eq!(answers[0]["LogicalResourceId"], "DatabaseSchema");
    assert_eq!(
        answers[0]["PhysicalResourceId"],
        "momentarium-database-schema"
    );
    let tables: i64 = db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'processing_jobs'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(tables, 1);
}

#[tokio::test]
async fn a_database_that_cannot_be_reached_fails_the_deploy_with_a_reason() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = test_config(&format!("postgres://postgres@127.0.0.1:{port}/none"));
    let pool = db::create_pool(&config.database).unwrap();
    let app = App::new(config, pool);
    let (url, got) = response_sink().await;

    invoke(&app, event(&url, "Update")).await.unwrap();

    let answer = got.lock().unwrap()[0].clone();
    assert_eq!(answer["Status"], "FAILED");
    assert!(
        answer["Reason"]
            .as_str()
            .unwrap()
            .starts_with("migrations failed"),
        "{answer}"
    );
}

#[tokio::test]
async fn deleting_the_stack_leaves_the_schema_and_its_data_and_says_success() {
    let db = TestDb::new().await;
    let client = db.client().await;
    client
        .execute("INSERT INTO users (subject) VALUES ('alice')", &[])
        .await
        .unwrap();
    let schema = "SELECT string_agg(table_name || '.' || column_name, ',' ORDER BY table_name, column_name) \
                  FROM information_schema.columns WHERE table_schema = 'public'";
    let before: String = client.query_one(schema, &[]).await.unwrap().get(0);
    let app = App::new(test_config(&db.url), db.pool.clone());
    let (url, got) = response_sink().await;

    invoke(&app, event(&url, "Delete")).await.unwrap();

    assert_eq!(got.lock().unwrap()[0]["Status"], "SUCCESS");
    let after: String = client.query_one(schema, &[]).await.unwrap().get(0);
    assert_eq!(after, before, "every table and column is still there");
    assert!(after.contains("processing_jobs.status"), "{after}");
    let users: i64 = client
        .query_one("SELECT count(*) FROM users WHERE subject = 'alice'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(users, 1, "the data outlives the stack");
}
