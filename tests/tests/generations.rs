//! Image generation and editing against strict protocol servers for both providers
//! (Gemini's image model, OpenAI's Images API): text-only and with references, an edit,
//! every hostile answer ending in a clear state, other users' photos, limits, a job
//! delivered twice, a crash between storing the picture and writing its row, the circuit
//! breaker, history, retry and retention.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use momentarium_shared::domain::ImageKey;
use momentarium_shared::domain::JobStatus;
use momentarium_shared::usecase::run_job::ProcessOutcome;
use momentarium_shared::usecase::sweep_jobs::sweep_jobs;
use momentarium_tests::image_providers::{ImageReply, ImageServer};
use momentarium_tests::{TestApp, assert_error};
use serde_json::{Value, json};
use uuid::Uuid;

struct Setup {
    app: TestApp,
    gemini: ImageServer,
    openai: ImageServer,
    token: String,
}

async fn setup(extra: &[(&str, &str)]) -> Setup {
    let gemini = ImageServer::gemini(vec![]).await;
    let openai = ImageServer::openai(vec![]).await;
    let app = TestApp::spawn_with_image_providers(&gemini, &openai, extra).await;
    let token = app.token("alice");
    Setup {
        app,
        gemini,
        openai,
        token,
    }
}

impl Setup {
    /// Asks for a generation; the 202 body's id.
    async fn ask(&self, body: Value) -> Uuid {
        let response = self
            .app
            .post_json("/api/generations", &self.token, &body)
            .await;
        assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
        let body: Value = response.json().await.unwrap();
        let id = Uuid::parse_str(body["generationId"].as_str().unwrap()).unwrap();
        assert_eq!(body["status"], "pending");
        assert_eq!(body["statusUrl"], format!("/api/generations/{id}"));
        id
    }

    async fn generation(&self, id: Uuid) -> Value {
        let response = self
            .app
            .get(&format!("/api/generations/{id}"), &self.token)
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn count(&self, sql: &str) -> i64 {
        self.app
            .db
            .client()
            .await
            .query_one(sql, &[])
            .await
            .unwrap()
            .get(0)
    }

    fn no_violations(&self) {
        assert_eq!(self.gemini.violations(), Vec::<String>::new());
        assert_eq!(self.openai.violations(), Vec::<String>::new());
    }
}

fn cost(v: &Value) -> f64 {
    v["costUsd"].as_f64().unwrap()
}

#[tokio::test]
async fn a_prompt_becomes_a_picture_in_the_library_with_gemini_and_with_openai() {
    let s = setup(&[]).await;
    s.gemini.push(ImageReply::Picture);
    s.openai.push(ImageReply::Picture);
    for (provider, ratio) in [("gemini", "3:2"), ("openai", "3:2")] {
        let id = s
            .ask(json!({"prompt": "a lighthouse at dusk", "aspectRatio": ratio, "provider": provider}))
            .await;
        let outcome = s.app.run_job_now(id).await.unwrap();
        assert!(
            matches!(outcome, ProcessOutcome::Generated { .. }),
            "{outcome:?}"
        );
        let g = s.generation(id).await;
        assert_eq!(g["status"], "completed", "{g}");
        assert_eq!(g["origin"], "generated");
        assert_eq!(g["provider"], provider);
        assert_eq!(g["prompt"], "a lighthouse at dusk");
        assert_eq!(g["calls"], 1);
        let image = g["imageId"].as_str().unwrap();
        assert_eq!(g["imageUrl"], format!("/api/images/{image}/content"));

        // A library image: its details, its permanent URL and its renditions.
        let details: Value = s
            .app
            .get(&format!("/api/images/{image}"), &s.token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(details["status"], "uploaded");
        assert_eq!(details["contentType"], "image/png");
        assert_eq!(
            (details["width"].as_i64(), details["height"].as_i64()),
            (Some(640), Some(427))
        );
        assert!(
            details["filename"]
                .as_str()
                .unwrap()
                .starts_with("generated-")
        );
        assert!(details["thumbUrl"].is_string(), "{details}");
        let redirect = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(s.app.url(&format!("/api/images/{image}/content")))
            .bearer_auth(&s.token)
            .send()
            .await
            .unwrap();
        assert_eq!(redirect.status(), 302);
        let bytes = reqwest::get(redirect.headers()["location"].to_str().unwrap())
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(bytes.starts_with(b"\x89PNG"));
    }
    // What each provider was sent, and what each call cost (by hand, from the prices).
    assert_eq!(s.gemini.seen()[0].shape, "3:2");
    assert_eq!(s.gemini.seen()[0].references, 0);
    assert_eq!(s.openai.seen()[0].path, "/v1/images/generations");
    assert_eq!(s.openai.seen()[0].shape, "1536x1024");
    let list: Value = s
        .app
        .get("/api/generations", &s.token)
        .await
        .json()
        .await
        .unwrap();
    let list = list["generations"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["provider"], "openai", "newest first");
    // Gemini: 20 prompt tokens at $0.30/M, 1,290 image tokens at $30/M = $0.038706.
    assert!((cost(&list[1]) - 0.038706).abs() < 1e-9, "{}", list[1]);
    // OpenAI: 50 text tokens at $5/M, 1,056 image tokens out at $32/M = $0.034042.
    assert!((cost(&list[0]) - 0.034042).abs() < 1e-9, "{}", list[0]);
    s.no_violations();
}

#[tokio::test]
async fn references_reach_each_provider_and_an_edit_keeps_its_source() {
    let s = setup(&[]).await;
    let ids = s.app.upload_samples(&s.token, 3).await;
    s.gemini.push(ImageReply::Picture);
    s.openai.push(ImageReply::Picture);
    s.openai.push(ImageReply::Picture);
    let g = s
        .ask(json!({"prompt": "these three as a postcard", "referenceImageIds": ids, "provider": "gemini"}))
        .await;
    s.app.run_job_now(g).await.unwrap();
    assert_eq!(s.gemini.seen()[0].references, 3);
    let o = s
        .ask(json!({"prompt": "the first two, watercolour", "referenceImageIds": &ids[..2], "provider": "openai"}))
        .await;
    s.app.run_job_now(o).await.unwrap();
    assert_eq!(s.openai.seen()[0].path, "/v1/images/edits");
    assert_eq!(s.openai.seen()[0].references, 2);
    // 50 text tokens at $5/M, 600 image tokens in at $8/M, 1,056 out at $32/M.
    let body = s.generation(o).await;
    assert!((cost(&body) - (50.0 * 5.0 + 600.0 * 8.0 + 1056.0 * 32.0) / 1e6).abs() < 1e-9);

    // An edit: the photo is the first reference; the result is new and remembers it.
    let source = &ids[0];
    let before = s
        .count(&format!(
            "SELECT count(*) FROM images WHERE id = '{source}' AND etag IS NOT NULL"
        ))
        .await;
    let response = s
        .app
        .post_json(
            &format!("/api/images/{source}/edits"),
            &s.token,
            &json!({"prompt": "make it golden hour", "provider": "openai"}),
        )
        .await;
    assert_eq!(response.status(), 202);
    let edit: Value = response.json().await.unwrap();
    let edit = Uuid::parse_str(edit["generationId"].as_str().unwrap()).unwrap();
    s.app.run_job_now(edit).await.unwrap();
    let body = s.generation(edit).await;
    assert_eq!(body["status"], "completed", "{body}");
    assert_eq!(body["origin"], "edited");
    assert_eq!(body["sourceImageId"], source.as_str());
    assert_eq!(body["referenceImageIds"][0], source.as_str());
    assert_ne!(body["imageId"], source.as_str());
    assert_eq!(s.openai.seen()[1].references, 1);
    // The source is untouched: same row, same version.
    assert_eq!(
        s.count(&format!("SELECT count(*) FROM images WHERE id = '{source}' AND etag IS NOT NULL AND origin = 'upload'")).await,
        before
    );
    let details: Value = s
        .app
        .get(
            &format!("/api/images/{}", body["imageId"].as_str().unwrap()),
            &s.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(details["filename"].as_str().unwrap().starts_with("edited-"));
    s.no_violations();
}

#[tokio::test]
async fn every_hostile_answer_ends_in_a_clear_state_with_the_call_recorded() {
    let s = setup(&[("JOB_MAX_ATTEMPTS", "2"), ("IMAGE_TIMEOUT_SECS", "1")]).await;
    // Refusals and unusable answers: failed at once, with a sentence; no picture kept.
    let refusals = [
        (ImageReply::Blocked, "safety"),
        (ImageReply::SafetyFinish, "safety"),
        (ImageReply::NoPicture, "picture"),
        (ImageReply::NotAnImage, "not a usable picture"),
    ];
    for provider in ["gemini", "openai"] {
        for (reply, words) in &refusals {
            let server = if provider == "gemini" {
                &s.gemini
            } else {
                &s.openai
            };
            server.push(reply.clone());
            let id = s
                .ask(json!({"prompt": "a fox", "provider": provider}))
                .await;
            let outcome = s.app.run_job_now(id).await.unwrap();
            assert!(
                matches!(outcome, ProcessOutcome::Failed(_)),
                "{provider} {reply:?}: {outcome:?}"
            );
            let g = s.generation(id).await;
            assert_eq!(g["status"], "failed");
            let error = g["error"].as_str().unwrap().to_lowercase();
            assert!(error.contains(words), "{provider} {reply:?}: {error}");
            assert_eq!(g["imageId"], Value::Null);
            assert_eq!(g["calls"], 1, "the failed call is recorded");
        }
    }
    // A mislabelled picture (the bytes decide) and several pictures (the first is kept).
    for provider in ["gemini", "openai"] {
        let server = if provider == "gemini" {
            &s.gemini
        } else {
            &s.openai
        };
        for reply in [ImageReply::Mislabelled, ImageReply::Pictures(3)] {
            server.push(reply.clone());
            let id = s
                .ask(json!({"prompt": "a fox", "provider": provider}))
                .await;
            s.app.run_job_now(id).await.unwrap();
            let g = s.generation(id).await;
            assert_eq!(g["status"], "completed", "{provider} {reply:?}: {g}");
        }
    }
    assert_eq!(
        s.count("SELECT count(*) FROM images WHERE origin = 'generated' AND status = 'uploaded'")
            .await,
        4,
        "one picture per completed generation"
    );
    // 429, 5xx, a timeout: given back to be retried, then failed when out of tries.
    for provider in ["gemini", "openai"] {
        let server = if provider == "gemini" {
            &s.gemini
        } else {
            &s.openai
        };
        server.push(ImageReply::Status(429));
        server.push(ImageReply::Hang(Duration::from_secs(3)));
        let id = s
            .ask(json!({"prompt": "a fox", "provider": provider}))
            .await;
        let first = s.app.run_job_now(id).await.unwrap_err();
        assert_eq!(
            first.retry_after,
            Some(Duration::from_secs(1)),
            "{provider}: the provider's wait is kept"
        );
        assert_eq!(s.generation(id).await["status"], "pending");
        let last = s.app.run_job_now(id).await.unwrap();
        assert!(matches!(last, ProcessOutcome::Failed(_)), "{last:?}");
        let g = s.generation(id).await;
        assert!(
            g["error"].as_str().unwrap().contains("after 2 tries"),
            "{g}"
        );
        assert_eq!(g["calls"], 2);
    }
    assert_eq!(
        s.count("SELECT count(*) FROM ai_calls WHERE purpose = 'generate' AND NOT ok")
            .await,
        12
    );
    // No half-written picture anywhere: every generated row is a completed result.
    assert_eq!(
        s.count("SELECT count(*) FROM images WHERE origin <> 'upload' AND status <> 'uploaded'")
            .await,
        0
    );
    s.no_violations();
}

async fn post(s: &Setup, body: Value) -> reqwest::Response {
    s.app.post_json("/api/generations", &s.token, &body).await
}

#[tokio::test]
async fn bad_requests_are_refused_before_anything_is_queued() {
    let s = setup(&[]).await;
    let mine = s.app.upload_samples(&s.token, 4).await;
    let bobs = s.app.upload_samples(&s.app.token("bob"), 1).await;
    assert_error(
        post(&s, json!({"prompt": "x".repeat(4001)})).await,
        422,
        "invalid_prompt",
    )
    .await;
    assert_error(
        post(&s, json!({"prompt": "  "})).await,
        422,
        "invalid_prompt",
    )
    .await;
    assert_error(
        post(&s, json!({"prompt": "a", "referenceImageIds": [bobs[0]]})).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        post(&s, json!({"prompt": "a", "referenceImageIds": mine})).await,
        422,
        "too_many_references",
    )
    .await;
    assert_error(
        post(
            &s,
            json!({"prompt": "a", "referenceImageIds": [mine[0], mine[0]]}),
        )
        .await,
        422,
        "duplicate_reference",
    )
    .await;
    assert_error(
        post(&s, json!({"prompt": "a", "provider": "dall-e"})).await,
        422,
        "unknown_provider",
    )
    .await;
    assert_error(
        post(
            &s,
            json!({"prompt": "a", "provider": "openai", "aspectRatio": "16:9"}),
        )
        .await,
        422,
        "unsupported_aspect_ratio",
    )
    .await;
    assert_error(
        post(&s, json!({"prompt": "a", "size": "big"})).await,
        400,
        "invalid_body",
    )
    .await;
    let edit_bobs = s
        .app
        .post_json(
            &format!("/api/images/{}/edits", bobs[0]),
            &s.token,
            &json!({"prompt": "a"}),
        )
        .await;
    assert_error(edit_bobs, 404, "not_found").await;
    // 4,000 characters is the limit, not over it.
    assert_eq!(
        post(&s, json!({"prompt": "é".repeat(4000)})).await.status(),
        202
    );
    assert_eq!(
        s.count("SELECT count(*) FROM processing_jobs WHERE kind = 'generate'")
            .await,
        1
    );

    // Without any provider key: 503 naming what to set, and nothing queued.
    let bare = TestApp::spawn().await;
    let response = bare
        .post_json(
            "/api/generations",
            &bare.token("alice"),
            &json!({"prompt": "a fox"}),
        )
        .await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "generation_not_configured");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("GEMINI_API_KEY") && message.contains("OPENAI_API_KEY"),
        "{message}"
    );
    let jobs: i64 = bare
        .db
        .client()
        .await
        .query_one("SELECT count(*) FROM processing_jobs", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(jobs, 0);
}

#[tokio::test]
async fn a_job_delivered_twice_or_at_once_makes_one_picture() {
    let s = setup(&[]).await;
    s.gemini.push(ImageReply::Picture);
    let id = s.ask(json!({"prompt": "a fox"})).await;
    let (a, b) = tokio::join!(s.app.run_job_now(id), s.app.run_job_now(id));
    let outcomes = [a.unwrap(), b.unwrap()];
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, ProcessOutcome::Generated { .. }))
            .count(),
        1,
        "{outcomes:?}"
    );
    let again = s.app.run_job_now(id).await.unwrap();
    assert!(matches!(
        again,
        ProcessOutcome::AlreadyFinished(JobStatus::Completed)
    ));
    assert_eq!(
        s.count("SELECT count(*) FROM images WHERE origin = 'generated'")
            .await,
        1
    );
    assert_eq!(s.gemini.seen().len(), 1, "the provider was asked once");
    s.no_violations();
}

#[tokio::test]
async fn a_failing_provider_is_rested_and_requests_are_told_when_to_come_back() {
    let s = setup(&[
        ("MODEL_CIRCUIT_FAILURES", "2"),
        ("MODEL_CIRCUIT_COOLDOWN_SECS", "30"),
    ])
    .await;
    for _ in 0..2 {
        s.openai.push(ImageReply::Status(503));
        let id = s
            .ask(json!({"prompt": "a fox", "provider": "openai"}))
            .await;
        assert!(s.app.run_job_now(id).await.is_err());
    }
    let response = s
        .app
        .post_json(
            "/api/generations",
            &s.token,
            &json!({"prompt": "a fox", "provider": "openai"}),
        )
        .await;
    assert_eq!(response.status(), 503);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "provider_resting");
    // The other provider is unaffected.
    s.gemini.push(ImageReply::Picture);
    let id = s
        .ask(json!({"prompt": "a fox", "provider": "gemini"}))
        .await;
    assert!(matches!(
        s.app.run_job_now(id).await.unwrap(),
        ProcessOutcome::Generated { .. }
    ));
    s.no_violations();
}

#[tokio::test]
async fn history_is_paged_private_and_a_failed_generation_can_be_retried() {
    let s = setup(&[]).await;
    s.gemini.push(ImageReply::Blocked);
    let failed = s
        .ask(json!({"prompt": "first", "aspectRatio": "16:9"}))
        .await;
    s.app.run_job_now(failed).await.unwrap();
    s.ask(json!({"prompt": "second"})).await;
    let page: Value = s
        .app
        .get("/api/generations?limit=1", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["generations"][0]["prompt"], "second");
    let cursor = page["nextCursor"].as_str().unwrap();
    let next: Value = s
        .app
        .get(
            &format!("/api/generations?limit=1&cursor={cursor}"),
            &s.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["generations"][0]["prompt"], "first");
    assert_eq!(next["nextCursor"], Value::Null);
    // Nobody else sees them.
    let bob = s.app.token("bob");
    let theirs: Value = s
        .app
        .get("/api/generations", &bob)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["generations"], json!([]));
    assert_error(
        s.app.get(&format!("/api/generations/{failed}"), &bob).await,
        404,
        "not_found",
    )
    .await;
    // The jobs list shows both, of kind generate.
    let jobs: Value = s.app.get("/api/jobs", &s.token).await.json().await.unwrap();
    assert!(
        jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["kind"] == "generate" && j["galleryId"].is_null())
    );

    // Retry: the same prompt and ratio, as a new generation.
    s.gemini.push(ImageReply::Picture);
    let response = s
        .app
        .post(&format!("/api/jobs/{failed}/retry"), &s.token)
        .await;
    assert_eq!(response.status(), 202);
    let retried: Value = response.json().await.unwrap();
    assert_eq!(retried["kind"], "generate");
    let new = Uuid::parse_str(retried["jobId"].as_str().unwrap()).unwrap();
    assert_eq!(retried["statusUrl"], format!("/api/generations/{new}"));
    s.app.run_job_now(new).await.unwrap();
    let g = s.generation(new).await;
    assert_eq!(
        (
            g["prompt"].as_str(),
            g["aspectRatio"].as_str(),
            g["status"].as_str()
        ),
        (Some("first"), Some("16:9"), Some("completed"))
    );
    s.no_violations();
}

#[tokio::test]
async fn generated_pictures_expire_after_the_retention_days_and_uploads_stay() {
    let s = setup(&[("GENERATED_RETENTION_DAYS", "30")]).await;
    let uploads = s.app.upload_samples(&s.token, 1).await;
    s.gemini.push(ImageReply::Picture);
    s.gemini.push(ImageReply::Picture);
    let old = s.ask(json!({"prompt": "old"})).await;
    let new = s.ask(json!({"prompt": "new"})).await;
    s.app.run_job_now(old).await.unwrap();
    s.app.run_job_now(new).await.unwrap();
    let client = s.app.db.client().await;
    client
        .execute(
            "UPDATE images SET created_at = now() - interval '31 days' \
             WHERE id = (SELECT image_id FROM generations WHERE job_id = $1)",
            &[&old],
        )
        .await
        .unwrap();
    client
        .execute(
            "UPDATE images SET created_at = now() - interval '400 days' WHERE id = $1",
            &[&Uuid::parse_str(&uploads[0]).unwrap()],
        )
        .await
        .unwrap();
    let report = sweep_jobs(&s.app.app, 100).await.unwrap();
    assert_eq!(report.generated_expired, 1, "{report:?}");
    assert_eq!(s.generation(old).await["imageId"], Value::Null);
    assert!(s.generation(new).await["imageId"].is_string());
    assert_eq!(
        s.count("SELECT count(*) FROM images WHERE origin = 'upload'")
            .await,
        1
    );
    assert_eq!(
        sweep_jobs(&s.app.app, 100).await.unwrap().generated_expired,
        0
    );
}

/// Starts the generation's job on a task of its own and waits until the provider has it.
async fn asked(
    s: &Setup,
    id: Uuid,
) -> tokio::task::JoinHandle<Result<ProcessOutcome, momentarium_shared::usecase::run_job::RetryLater>>
{
    let run = s.app.run_job_in_background(id);
    s.app.wait_for_stage(id, "asking_model").await;
    run
}

async fn objects_of(s: &Setup, image: &str) -> usize {
    let key = ImageKey::new(
        s.app
            .db
            .client()
            .await
            .query_one("SELECT id FROM users WHERE subject = 'alice'", &[])
            .await
            .unwrap()
            .get(0),
        Uuid::parse_str(image).unwrap(),
    );
    let mut found = 0;
    if s.app.storage().head(&key).await.is_ok() {
        found += 1;
    }
    for size in ["thumb", "preview", "model"] {
        let rendition = format!("renditions/{}/{}/{size}.jpg", key.user_id, key.image_id);
        if s.app.storage().get_key(&rendition).await.is_ok() {
            found += 1;
        }
    }
    found
}

/// Makes the database refuse to complete `job`: the run fails after storing its picture
/// and before recording it, as a crash there would leave things.
async fn refuse_completion(s: &Setup, job: Uuid) {
    let client = s.app.db.client().await;
    client
        .batch_execute(&format!(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.id = '{job}' AND NEW.status = 'completed' THEN \
                     RAISE EXCEPTION 'the process died here'; END IF; RETURN NEW; END $$; \
             CREATE TRIGGER refuse BEFORE UPDATE ON processing_jobs \
                 FOR EACH ROW EXECUTE FUNCTION refuse();"
        ))
        .await
        .unwrap();
}

async fn allow_completion(s: &Setup) {
    s.app
        .db
        .client()
        .await
        .batch_execute("DROP TRIGGER refuse ON processing_jobs; DROP FUNCTION refuse();")
        .await
        .unwrap();
}

async fn planned_image(s: &Setup, job: Uuid) -> String {
    s.app
        .db
        .client()
        .await
        .query_one(
            "SELECT image_id::text FROM generations WHERE job_id = $1",
            &[&job],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_failure_between_storing_the_picture_and_recording_it_leaves_no_orphan() {
    let s = setup(&[]).await;
    // Stored, not recorded; delivered again: the same image, one picture.
    s.gemini.push(ImageReply::Picture);
    s.gemini.push(ImageReply::Picture);
    let id = s.ask(json!({"prompt": "a fox"})).await;
    refuse_completion(&s, id).await;
    assert!(
        s.app.run_job_now(id).await.is_err(),
        "given back to be delivered again"
    );
    let image = planned_image(&s, id).await;
    assert_eq!(
        objects_of(&s, &image).await,
        4,
        "the picture and its renditions were stored"
    );
    allow_completion(&s).await;
    s.app.run_job_now(id).await.unwrap();
    let g = s.generation(id).await;
    assert_eq!(
        (g["status"].as_str(), g["imageId"].as_str()),
        (Some("completed"), Some(image.as_str()))
    );
    assert_eq!(
        s.count("SELECT count(*) FROM images WHERE origin = 'generated'")
            .await,
        1
    );
    assert_eq!(objects_of(&s, &image).await, 4);

    // Stored, not recorded; then cancelled: the sweep removes the row and the objects.
    s.gemini.push(ImageReply::Picture);
    let id = s.ask(json!({"prompt": "a hare"})).await;
    refuse_completion(&s, id).await;
    assert!(s.app.run_job_now(id).await.is_err());
    allow_completion(&s).await;
    let image = planned_image(&s, id).await;
    assert_eq!(objects_of(&s, &image).await, 4);
    assert_eq!(
        s.app
            .post(&format!("/api/jobs/{id}/cancel"), &s.token)
            .await
            .status(),
        200
    );
    let report = sweep_jobs(&s.app.app, 100).await.unwrap();
    assert_eq!(report.generated_abandoned, 1, "{report:?}");
    assert_eq!(objects_of(&s, &image).await, 0);
    assert_eq!(
        s.count(&format!("SELECT count(*) FROM images WHERE id = '{image}'"))
            .await,
        0
    );
    // The sweep run again finds nothing more.
    assert_eq!(
        sweep_jobs(&s.app.app, 100)
            .await
            .unwrap()
            .generated_abandoned,
        0
    );
    s.no_violations();
}

#[tokio::test]
async fn a_generation_cancelled_while_the_provider_works_stores_nothing() {
    let s = setup(&[]).await;
    s.gemini.push(ImageReply::Delayed(
        Duration::from_millis(600),
        Box::new(ImageReply::Picture),
    ));
    let id = s.ask(json!({"prompt": "a fox"})).await;
    let run = asked(&s, id).await;
    assert_eq!(
        s.app
            .post(&format!("/api/jobs/{id}/cancel"), &s.token)
            .await
            .status(),
        200
    );
    let outcome = run.await.unwrap().unwrap();
    assert!(
        matches!(outcome, ProcessOutcome::HeldElsewhere),
        "{outcome:?}"
    );
    let image = planned_image(&s, id).await;
    assert_eq!(
        objects_of(&s, &image).await,
        0,
        "the run stopped before storing"
    );
    assert_eq!(
        s.count("SELECT count(*) FROM images WHERE origin <> 'upload'")
            .await,
        0
    );
    // The call was made and paid for: it is on record.
    assert_eq!(s.generation(id).await["calls"], 1);
    s.no_violations();
}

#[tokio::test]
async fn a_reference_deleted_while_the_picture_is_made_means_no_picture_is_kept() {
    let s = setup(&[]).await;
    let refs = s.app.upload_samples(&s.token, 1).await;
    s.openai.push(ImageReply::Delayed(
        Duration::from_millis(600),
        Box::new(ImageReply::Picture),
    ));
    let response = s
        .app
        .post_json(
            &format!("/api/images/{}/edits", refs[0]),
            &s.token,
            &json!({"prompt": "a", "provider": "openai"}),
        )
        .await;
    let id = Uuid::parse_str(
        response.json::<Value>().await.unwrap()["generationId"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let run = asked(&s, id).await;
    assert_eq!(
        s.app
            .delete(&format!("/api/images/{}", refs[0]), &s.token)
            .await
            .status(),
        204
    );
    let outcome = run.await.unwrap().unwrap();
    assert!(
        matches!(&outcome, ProcessOutcome::Failed(why) if why.contains("deleted meanwhile")),
        "{outcome:?}"
    );
    assert_eq!(
        sweep_jobs(&s.app.app, 100)
            .await
            .unwrap()
            .generated_abandoned,
        1
    );
    assert_eq!(
        s.count("SELECT count(*) FROM images").await,
        0,
        "neither the photo nor a picture of it"
    );
}

#[tokio::test]
async fn an_account_deleted_while_the_picture_is_made_leaves_no_object() {
    let s = setup(&[]).await;
    s.gemini.push(ImageReply::Delayed(
        Duration::from_millis(600),
        Box::new(ImageReply::Picture),
    ));
    let id = s.ask(json!({"prompt": "a fox"})).await;
    let image: Uuid = s
        .app
        .db
        .client()
        .await
        .query_one("SELECT image_id FROM generations WHERE job_id = $1", &[&id])
        .await
        .unwrap()
        .get(0);
    let user: Uuid = s
        .app
        .db
        .client()
        .await
        .query_one("SELECT id FROM users WHERE subject = 'alice'", &[])
        .await
        .unwrap()
        .get(0);
    let run = asked(&s, id).await;
    assert_eq!(s.app.delete("/api/me", &s.token).await.status(), 204);
    let _ = run.await.unwrap();
    // Whatever the run wrote is queued for removal; the sweep removes it.
    sweep_jobs(&s.app.app, 100).await.unwrap();
    let key = ImageKey::new(user, image);
    assert!(
        s.app.storage().head(&key).await.is_err(),
        "no picture of a deleted account"
    );
    assert_eq!(s.count("SELECT count(*) FROM object_deletions").await, 0);
}

#[tokio::test]
async fn a_job_waiting_out_a_rested_provider_keeps_its_tries() {
    let s = setup(&[
        ("MODEL_CIRCUIT_FAILURES", "1"),
        ("MODEL_CIRCUIT_COOLDOWN_SECS", "30"),
    ])
    .await;
    // Queued before the provider fails.
    let waiting = s
        .ask(json!({"prompt": "later", "provider": "openai"}))
        .await;
    s.openai.push(ImageReply::Status(500));
    let failing = s.ask(json!({"prompt": "now", "provider": "openai"})).await;
    assert!(s.app.run_job_now(failing).await.is_err());
    let rested = s.app.run_job_now(waiting).await.unwrap_err();
    assert!(
        rested
            .retry_after
            .is_some_and(|d| d <= Duration::from_secs(30)),
        "{rested:?}"
    );
    let g = s.generation(waiting).await;
    assert_eq!(
        (
            g["status"].as_str(),
            g["attempts"].as_i64(),
            g["calls"].as_i64()
        ),
        (Some("pending"), Some(0), Some(0)),
        "{g}"
    );
    assert_eq!(s.openai.seen().len(), 1, "no call while the provider rests");
}
