//! How jobs reach the processor: signed HTTP deliveries (Standard Webhooks, checked
//! against the PyPI `standardwebhooks` signer; QStash JWTs made with PyJWT), SQS batches
//! with partial failures, the process-job Lambda's two event shapes, and the sweep.

#![allow(clippy::unwrap_used)]

use momentarium_shared::adapter::queue::{JobMessage, SignedMessage};
use momentarium_shared::adapter::standard_webhooks::WebhookSecret;
use momentarium_shared::usecase::sweep_jobs::sweep_jobs;
use momentarium_tests::gemini::{GeminiServer, Reply};
use momentarium_tests::photos::{self, Exif};
use momentarium_tests::{TestApp, TestSqs, WEBHOOK_SECRET, events_dir, python};
use serde_json::{Value, json};
use uuid::Uuid;

const SIGN_PY: &str = r#"
import sys, datetime
from standardwebhooks.webhooks import Webhook
secret, msg_id, ts, body = sys.argv[1:5]
print(Webhook(secret).sign(msg_id, datetime.datetime.fromtimestamp(int(ts), tz=datetime.timezone.utc), body))
"#;

const VERIFY_PY: &str = r#"
import sys
from standardwebhooks.webhooks import Webhook
secret, msg_id, ts, sig, body = sys.argv[1:6]
Webhook(secret).verify(body, {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": sig})
print("verified")
"#;

async fn pending_job(app: &TestApp) -> Uuid {
    let token = app.token("alice");
    let photo = photos::jpeg(32, 24, [10, 200, 10], &Exif::default());
    let ids = app
        .upload_photos(&token, &[("a.jpg", "image/jpeg", photo)])
        .await;
    app.process_job_id(&token, &ids).await
}

async fn status(app: &TestApp, job: Uuid) -> String {
    app.db
        .client()
        .await
        .query_one("SELECT status FROM processing_jobs WHERE id = $1", &[&job])
        .await
        .unwrap()
        .get(0)
}

async fn post_signed(app: &TestApp, body: &str, id: &str, ts: i64, sig: &str) -> (u16, Value) {
    let response = app
        .http
        .post(app.url("/api/jobs/process"))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_delivery_signed_by_the_standardwebhooks_package_runs_the_job() {
    let app = TestApp::spawn().await;
    let job = pending_job(&app).await;
    let body = serde_json::to_string(&JobMessage::process(job)).unwrap();
    let id = format!("msg_{}", job.simple());
    let now = chrono::Utc::now().timestamp();
    let sig = python(SIGN_PY, &[WEBHOOK_SECRET, &id, &now.to_string(), &body]);

    let (code, answer) = post_signed(&app, &body, &id, now, &sig).await;

    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["status"], "completed");
    assert_eq!(status(&app, job).await, "completed");
    // The same delivery again: already done, still 200, nothing redone.
    let (code, answer) = post_signed(&app, &body, &id, now, &sig).await;
    assert_eq!((code, answer["status"].as_str()), (200, Some("completed")));
}

#[tokio::test]
async fn a_delivery_while_another_worker_holds_a_live_lease_is_202_and_runs_nothing() {
    let app = TestApp::spawn().await;
    let job = pending_job(&app).await;
    let claim = momentarium_shared::repo::jobs::claim(
        &app.db.client().await,
        job,
        "another-worker",
        std::time::Duration::from_secs(600),
    )
    .await
    .unwrap();
    assert!(matches!(
        claim,
        momentarium_shared::repo::jobs::Claim::Claimed(_)
    ));
    let secret = WebhookSecret::parse(WEBHOOK_SECRET).unwrap();
    let now = chrono::Utc::now().timestamp();
    let signed = SignedMessage::new(&secret, &JobMessage::process(job), now);

    let (code, answer) = post_signed(
        &app,
        &signed.body,
        &signed.headers.id,
        now,
        &signed.headers.signature,
    )
    .await;

    assert_eq!(code, 202, "{answer}");
    assert_eq!(answer, json!({"jobId": job, "status": "processing"}));
    let row = app
        .db
        .client()
        .await
        .query_one(
            "SELECT status, lease_owner, attempts, (SELECT count(*) FROM albums) \
             FROM processing_jobs WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "processing");
    assert_eq!(
        row.get::<_, String>(1),
        "another-worker",
        "the lease is untouched"
    );
    assert_eq!(row.get::<_, i32>(2), 1, "no second attempt counted");
    assert_eq!(row.get::<_, i64>(3), 0, "nothing written");
}

#[test]
fn our_signatures_verify_with_the_standardwebhooks_package() {
    let secret = WebhookSecret::parse(WEBHOOK_SECRET).unwrap();
    let message = JobMessage::process(Uuid::new_v4());
    let now = chrono::Utc::now().timestamp();
    let signed = SignedMessage::new(&secret, &message, now);

    let out = python(
        VERIFY_PY,
        &[
            WEBHOOK_SECRET,
            &signed.headers.id,
            &signed.headers.timestamp,
            &signed.headers.signature,
            &signed.body,
        ],
    );

    assert_eq!(out, "verified");
}

#[tokio::test]
async fn missing_wrong_or_stale_signatures_are_401_and_nothing_runs() {
    let app = TestApp::spawn().await;
    let job = pending_job(&app).await;
    let body = serde_json::to_string(&JobMessage::process(job)).unwrap();
    let id = format!("msg_{}", job.simple());
    let now = chrono::Utc::now().timestamp();
    let good = python(SIGN_PY, &[WEBHOOK_SECRET, &id, &now.to_string(), &body]);
    let stale_ts = now - 600;
    let stale = python(
        SIGN_PY,
        &[WEBHOOK_SECRET, &id, &stale_ts.to_string(), &body],
    );
    let other_key = python(
        SIGN_PY,
        &[
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            &id,
            &now.to_string(),
            &body,
        ],
    );
    let tampered_body = body.replace("gallery.process", "gallery.procesz");

    for (name, body, ts, sig) in [
        ("tampered body", tampered_body.as_str(), now, good.as_str()),
        ("stale timestamp", body.as_str(), stale_ts, stale.as_str()),
        ("another secret", body.as_str(), now, other_key.as_str()),
        ("no signature", body.as_str(), now, ""),
        ("unknown version only", body.as_str(), now, "v2,AAAA"),
    ] {
        let (code, answer) = post_signed(&app, body, &id, ts, sig).await;
        assert_eq!(code, 401, "{name}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_signature", "{name}");
    }
    let bare = app
        .http
        .post(app.url("/api/jobs/process"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 401);
    assert_eq!(status(&app, job).await, "pending", "nothing ran");
}

#[tokio::test]
async fn a_signed_delivery_for_an_unknown_job_is_404_and_a_bad_body_400() {
    let app = TestApp::spawn().await;
    let secret = WebhookSecret::parse(WEBHOOK_SECRET).unwrap();
    let now = chrono::Utc::now().timestamp();
    let signed = SignedMessage::new(&secret, &JobMessage::process(Uuid::new_v4()), now);
    let (code, _) = post_signed(
        &app,
        &signed.body,
        &signed.headers.id,
        now,
        &signed.headers.signature,
    )
    .await;
    assert_eq!(code, 404);

    let body = r#"{"type":"gallery.delete","jobId":"x"}"#;
    let sig = secret.sign("msg_x", now, body.as_bytes());
    let (code, answer) = post_signed(&app, body, "msg_x", now, &sig).await;
    assert_eq!(code, 400, "{answer}");
}

const QSTASH_PY: &str = r#"
import sys, time, hashlib, base64, jwt
key, url, body = sys.argv[1:4]
digest = base64.urlsafe_b64encode(hashlib.sha256(body.encode()).digest()).decode().rstrip("=")
now = int(time.time())
print(jwt.encode({"iss": "Upstash", "sub": url, "exp": now + 300, "nbf": now, "iat": now, "jti": "jwt_test", "body": digest}, key, algorithm="HS256"))
"#;

#[tokio::test]
async fn qstash_deliveries_verify_with_the_current_or_next_key() {
    let url = "https://api.example.com/api/jobs/process";
    let app = TestApp::spawn_configured(
        &[
            ("QSTASH_CURRENT_SIGNING_KEY", "sig_current_test"),
            ("QSTASH_NEXT_SIGNING_KEY", "sig_next_test"),
            ("QSTASH_DESTINATION_URL", url),
        ],
        |a| a,
    )
    .await;
    let job = pending_job(&app).await;
    let body = serde_json::to_string(&JobMessage::process(job)).unwrap();
    let send = |token: String| {
        app.http
            .post(app.url("/api/jobs/process"))
            .header("upstash-signature", token)
            .header("upstash-message-id", "msg_qstash_1")
            .header("upstash-retried", "0")
            .body(body.clone())
            .send()
    };

    let wrong = send(python(QSTASH_PY, &["sig_unknown", url, &body]))
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let elsewhere = send(python(
        QSTASH_PY,
        &["sig_current_test", "https://evil.example/hook", &body],
    ))
    .await
    .unwrap();
    assert_eq!(elsewhere.status(), 401);
    assert_eq!(status(&app, job).await, "pending");

    let next = send(python(QSTASH_PY, &["sig_next_test", url, &body]))
        .await
        .unwrap();
    assert_eq!(next.status(), 200);
    assert_eq!(status(&app, job).await, "completed");
}

fn sqs_record(template: &Value, message_id: &str, body: &str, ts: i64, sig: &str) -> Value {
    let mut r = template.clone();
    r["messageId"] = json!(message_id);
    r["body"] = json!(body);
    r["messageAttributes"]["webhook-id"]["stringValue"] = json!(format!("msg_{message_id}"));
    r["messageAttributes"]["webhook-timestamp"]["stringValue"] = json!(ts.to_string());
    r["messageAttributes"]["webhook-signature"]["stringValue"] = json!(sig);
    r
}

#[tokio::test]
async fn an_sqs_batch_reports_only_the_records_to_redeliver() {
    let gemini = GeminiServer::start(vec![
        Reply::answer(json!({"albums": [{"title": "T", "description": "", "cover": 1, "photos": [1]}], "photos": []})),
        Reply::Error(503, "UNAVAILABLE", vec![]),
    ])
    .await;
    let app = TestApp::spawn_with_gemini(&gemini, &[("GEMINI_MAX_ATTEMPTS", "1")]).await;
    let (good_job, busy_job) = (pending_job(&app).await, pending_job(&app).await);
    let secret = WebhookSecret::parse(WEBHOOK_SECRET).unwrap();
    let now = chrono::Utc::now().timestamp();
    let raw = std::fs::read_to_string(events_dir().join("process-job-sqs.json")).unwrap();
    let mut event: Value = serde_json::from_str(&raw).unwrap();
    let template = event["Records"][0].clone();
    let good = SignedMessage::new(&secret, &JobMessage::process(good_job), now);
    let busy = SignedMessage::new(&secret, &JobMessage::process(busy_job), now - 3600);
    event["Records"] = json!([
        sqs_record(
            &template,
            "m-good",
            &good.body,
            now,
            &good.headers.signature
        ),
        sqs_record(
            &template,
            "m-forged",
            &good.body,
            now,
            "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        ),
        // Signed an hour ago: queue messages may wait, so no freshness window applies.
        sqs_record(
            &template,
            "m-busy",
            &busy.body,
            now - 3600,
            &busy.headers.signature
        ),
    ]);
    // The signatures were made over ids `msg_<job>`; re-sign with the record's own ids.
    for (i, (msg, ts)) in [(&good, now), (&busy, now - 3600)].into_iter().enumerate() {
        let index = if i == 0 { 0 } else { 2 };
        let id = event["Records"][index]["messageAttributes"]["webhook-id"]["stringValue"]
            .as_str()
            .unwrap()
            .to_string();
        event["Records"][index]["messageAttributes"]["webhook-signature"]["stringValue"] =
            json!(secret.sign(&id, ts, msg.body.as_bytes()));
    }

    let response = momentarium_shared::lambda::handle_process_job_event(
        &app.app,
        &momentarium_shared::http::router(app.app.clone()),
        lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default()),
    )
    .await
    .unwrap();

    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "m-forged"}, {"itemIdentifier": "m-busy"}]})
    );
    assert_eq!(status(&app, good_job).await, "completed");
    assert_eq!(
        status(&app, busy_job).await,
        "pending",
        "given back for the redelivery"
    );
}

#[tokio::test]
async fn the_process_job_lambda_also_takes_the_http_event() {
    let app = TestApp::spawn().await;
    let job = pending_job(&app).await;
    let secret = WebhookSecret::parse(WEBHOOK_SECRET).unwrap();
    let now = chrono::Utc::now().timestamp();
    let signed = SignedMessage::new(&secret, &JobMessage::process(job), now);
    let raw = std::fs::read_to_string(events_dir().join("process-job-http.json")).unwrap();
    let mut event: Value = serde_json::from_str(&raw).unwrap();
    event["body"] = json!(signed.body);
    event["headers"]["webhook-id"] = json!(signed.headers.id);
    event["headers"]["webhook-timestamp"] = json!(signed.headers.timestamp);
    event["headers"]["webhook-signature"] = json!(signed.headers.signature);

    let response = momentarium_shared::lambda::handle_process_job_event(
        &app.app,
        &momentarium_shared::http::router(app.app.clone()),
        lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default()),
    )
    .await
    .unwrap();

    assert_eq!(response["statusCode"], 200, "{response}");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["status"], "completed");
}

#[tokio::test]
async fn the_sweep_resends_stranded_jobs_and_fails_those_out_of_attempts() {
    // A queue that refuses every send (moto answers QueueDoesNotExist): each request still
    // answers 202, and its job stays pending, never marked enqueued.
    let sqs = TestSqs::new().await;
    let refusing = sqs.refusing_job_queue();
    let app = TestApp::spawn_configured(
        &[("SWEEP_PENDING_AFTER_SECS", "0"), ("JOB_MAX_ATTEMPTS", "3")],
        move |a| a.with_queue(refusing),
    )
    .await;
    let stranded = pending_job(&app).await;
    let exhausted = pending_job(&app).await;
    let expired = pending_job(&app).await;
    let client = app.db.client().await;
    let never_enqueued: i64 = client
        .query_one(
            "SELECT count(*) FROM processing_jobs WHERE status = 'pending' AND enqueued_at IS NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(never_enqueued, 3, "a refused send leaves the job unsent");
    assert!(sqs.receive_all().await.is_empty());
    client
        .execute(
            "UPDATE processing_jobs SET attempts = 3 WHERE id = $1",
            &[&exhausted],
        )
        .await
        .unwrap();
    client
        .execute(
            "UPDATE processing_jobs SET status = 'processing', attempts = 1, lease_owner = 'dead', \
             lease_expires_at = now() - interval '1 minute' WHERE id = $1",
            &[&expired],
        )
        .await
        .unwrap();
    let with_queue = app.app.clone().with_queue(sqs.job_queue());

    let report = sweep_jobs(&with_queue, 100).await.unwrap();

    assert_eq!((report.resent, report.failed), (2, 1));
    let mut sent: Vec<Uuid> = sqs
        .receive_all()
        .await
        .iter()
        .map(|m| {
            serde_json::from_str::<JobMessage>(m.body().unwrap())
                .unwrap()
                .job_id
        })
        .collect();
    sent.sort();
    let mut expected = vec![stranded, expired];
    expected.sort();
    assert_eq!(sent, expected);
    let enqueued: bool = client
        .query_one(
            "SELECT enqueued_at IS NOT NULL FROM processing_jobs WHERE id = $1",
            &[&stranded],
        )
        .await
        .unwrap()
        .get(0);
    assert!(enqueued, "the sweep's send is recorded");
    assert_eq!(status(&app, exhausted).await, "failed");
    let error: String = client
        .query_one(
            "SELECT error FROM processing_jobs WHERE id = $1",
            &[&exhausted],
        )
        .await
        .unwrap()
        .get(0);
    assert!(error.contains("after 3 tries"), "{error}");
    // A job already failed is not failed again.
    let again = sweep_jobs(&with_queue, 100).await.unwrap();
    assert_eq!(again.failed, 0);
}

#[tokio::test]
async fn a_job_given_back_unsent_is_sent_again_when_its_batch_is_asked_for_again() {
    let (app, sqs) = TestApp::spawn_with_sqs().await;
    let token = app.token("alice");
    let photo = photos::jpeg(32, 24, [10, 200, 10], &Exif::default());
    let ids = app
        .upload_photos(&token, &[("a.jpg", "image/jpeg", photo)])
        .await;
    let ask = || {
        app.http
            .post(app.url("/api/galleries/process"))
            .bearer_auth(&token)
            .header("idempotency-key", "the-same-batch")
            .json(&json!({ "imageIds": ids }))
            .send()
    };
    let first: Value = ask().await.unwrap().json().await.unwrap();
    assert_eq!(sqs.receive_all().await.len(), 1, "sent once when created");
    // While it is in a queue, asking again sends nothing.
    let again: Value = ask().await.unwrap().json().await.unwrap();
    assert_eq!(again["jobId"], first["jobId"]);
    assert_eq!(sqs.receive_all().await.len(), 0);
    // A stopping process gives its claims back unsent (`give_back_claims`).
    app.db
        .client()
        .await
        .execute("UPDATE processing_jobs SET enqueued_at = NULL", &[])
        .await
        .unwrap();

    let resumed = ask().await.unwrap();

    assert_eq!(resumed.status(), 202);
    let resumed: Value = resumed.json().await.unwrap();
    assert_eq!(
        resumed["jobId"], first["jobId"],
        "the same job, not a new one"
    );
    let sent = sqs.receive_all().await;
    assert_eq!(sent.len(), 1, "sent again at once, not left for the sweep");
    assert!(
        sent[0]
            .body()
            .unwrap_or("")
            .contains(first["jobId"].as_str().unwrap())
    );
}
