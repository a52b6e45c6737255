//! Limits and costs, rule by rule: the 429 and its headers exactly, two requests for the
//! last unit of a quota, storage, a budget crossed at 80 % and 100 % by jobs (organising
//! then goes offline, pictures are refused), the month and the day turning, prices summed
//! against a hand computation, tiers set by an operator.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Timelike;
use momentarium_shared::adapter::alerts::SnsAlerts;
use momentarium_shared::domain::limits::Tier;
use momentarium_shared::usecase::limits::set_tier;
use momentarium_tests::image_providers::{ImageReply, ImageServer};
use momentarium_tests::{TestApp, TestSns, assert_error};
use serde_json::{Value, json};
use uuid::Uuid;

fn tiers(free: Value) -> String {
    let mut limits = json!({
        "readPerMinute": 1200, "writePerMinute": 300, "aiPerMinute": 30,
        "photosPerDay": 1000, "generationsPerDay": 20,
        "storageBytes": 10_737_418_240_u64, "monthlyBudgetUsd": 2.0
    });
    for (k, v) in free.as_object().unwrap() {
        limits[k] = v.clone();
    }
    json!({"free": limits}).to_string()
}

/// Not in the last seconds of a minute: a per-minute window must not turn mid-test.
async fn early_in_a_minute() {
    let second = chrono::Utc::now().second();
    if second >= 50 {
        tokio::time::sleep(Duration::from_secs(u64::from(61 - second))).await;
    }
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.post_json(path, token, &body).await
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn every_answer_says_where_the_caller_stands_and_the_limit_is_a_429_with_its_reset() {
    let limits = tiers(json!({"readPerMinute": 3}));
    let app = TestApp::spawn_configured(&[("TIER_LIMITS", &limits)], |a| a).await;
    let alice = app.token("alice");
    early_in_a_minute().await;
    for left in [2, 1, 0] {
        let r = app.get("/api/galleries", &alice).await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "ratelimit-policy"), "\"read\";q=3;w=60");
        let current = header(&r, "ratelimit");
        assert!(
            current.starts_with(&format!("\"read\";r={left};t=")),
            "{current}"
        );
    }
    let r = app.get("/api/jobs", &alice).await;
    assert_eq!(r.status(), 429);
    let retry: u64 = header(&r, "retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(header(&r, "ratelimit"), format!("\"read\";r=0;t={retry}"));
    assert_eq!(header(&r, "ratelimit-policy"), "\"read\";q=3;w=60");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(body["error"]["details"]["limit"], "read_per_minute");
    assert_eq!(body["error"]["details"]["quota"], 3);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3 read requests a minute")
    );
    // Another class, and another user, are counted apart.
    let r = app
        .post_json("/api/uploads/generate-urls", &alice, &json!({"files": []}))
        .await;
    assert_ne!(r.status(), 429);
    assert_eq!(header(&r, "ratelimit-policy"), "\"write\";q=300;w=60");
    assert_eq!(
        app.get("/api/galleries", &app.token("bob")).await.status(),
        200
    );
    // A premium caller has the premium tier's numbers.
    set_tier(&app.app, "alice", Tier::Premium, None)
        .await
        .unwrap();
    let r = app.get("/api/galleries", &alice).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "ratelimit-policy"), "\"read\";q=6000;w=60");
}

#[tokio::test]
async fn two_requests_for_the_last_unit_of_a_quota_get_one_each_way() {
    let gemini = ImageServer::gemini(vec![]).await;
    let openai = ImageServer::openai(vec![]).await;
    let limits = tiers(json!({"generationsPerDay": 3}));
    let app =
        TestApp::spawn_with_image_providers(&gemini, &openai, &[("TIER_LIMITS", &limits)]).await;
    let alice = app.token("alice");
    for _ in 0..2 {
        let r = app
            .post_json("/api/generations", &alice, &json!({"prompt": "a fox"}))
            .await;
        assert_eq!(r.status(), 202);
    }
    // Two at once for the third and last.
    let first = post(&app, "/api/generations", &alice, json!({"prompt": "one"}));
    let second = post(&app, "/api/generations", &alice, json!({"prompt": "two"}));
    let (a, b) = tokio::join!(first, second);
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [202, 429]);
    let refused = if a.status() == 429 { a } else { b };
    let retry: u64 = header(&refused, "retry-after").parse().unwrap();
    assert!(retry <= 86_400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "quota_exceeded");
    assert_eq!(body["error"]["details"]["limit"], "generations_per_day");
    assert_eq!(
        (
            body["error"]["details"]["quota"].as_i64(),
            body["error"]["details"]["used"].as_i64()
        ),
        (Some(3), Some(3))
    );
    let jobs: i64 = app
        .db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM processing_jobs WHERE kind = 'generate'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(jobs, 3);
}

#[tokio::test]
async fn concurrent_claims_on_a_daily_quota_never_pass_it() {
    let limits = tiers(json!({"photosPerDay": 5}));
    let app = TestApp::spawn_configured(&[("TIER_LIMITS", &limits)], |a| a).await;
    let alice = app.token("alice");
    let ids = app.upload_samples(&alice, 8).await;
    // Eight one-photo batches at once against a quota of five.
    let asks: Vec<_> = ids
        .iter()
        .map(|id| {
            post(
                &app,
                "/api/galleries/process",
                &alice,
                json!({"imageIds": [id]}),
            )
        })
        .collect();
    let answers = futures::future::join_all(asks).await;
    let accepted = answers.iter().filter(|r| r.status() == 202).count();
    let refused = answers.iter().filter(|r| r.status() == 429).count();
    assert_eq!((accepted, refused), (5, 3));
    let usage: Value = app.get("/api/usage", &alice).await.json().await.unwrap();
    let photos = usage["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "photos_organised_per_day")
        .unwrap()
        .clone();
    assert_eq!(
        (photos["used"].as_i64(), photos["left"].as_i64()),
        (Some(5), Some(0))
    );
    // A refused request takes nothing: bad input, and a batch larger than what is left.
    let bob = app.token("bob");
    let r = post(
        &app,
        "/api/galleries/process",
        &bob,
        json!({"imageIds": []}),
    )
    .await;
    assert_eq!(r.status(), 422);
    let theirs = app.upload_samples(&bob, 6).await;
    let r = post(
        &app,
        "/api/galleries/process",
        &bob,
        json!({"imageIds": theirs}),
    )
    .await;
    assert_eq!(r.status(), 429, "six photos against five a day");
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (
            body["error"]["details"]["used"].as_i64(),
            body["error"]["details"]["requested"].as_i64()
        ),
        (Some(0), Some(6))
    );
    let usage: Value = app.get("/api/usage", &bob).await.json().await.unwrap();
    let photos = usage["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "photos_organised_per_day")
        .unwrap()
        .clone();
    assert_eq!(photos["used"], 0, "nothing was taken by the refusals");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_past_the_tiers_storage_are_refused() {
    let limits = tiers(json!({"storageBytes": 1000}));
    let app = TestApp::spawn_configured(&[("TIER_LIMITS", &limits)], |a| a).await;
    let alice = app.token("alice");
    let ok = app
        .post_json(
            "/api/uploads/generate-urls",
            &alice,
            &json!({"files": [{"filename": "a.jpg", "contentType": "image/jpeg", "size": 600}]}),
        )
        .await;
    assert_eq!(ok.status(), 200);
    let over = app
        .post_json(
            "/api/uploads/generate-urls",
            &alice,
            &json!({"files": [{"filename": "b.jpg", "contentType": "image/jpeg", "size": 600}]}),
        )
        .await;
    assert_eq!(over.status(), 429);
    let body: Value = over.json().await.unwrap();
    assert_eq!(body["error"]["code"], "quota_exceeded");
    assert_eq!(body["error"]["details"]["limit"], "storage_bytes");
    assert_eq!(body["error"]["details"]["resetsAt"], Value::Null);

    // Ten at once of 250 bytes for another person's 1,000: exactly four fit.
    let carol = app.token("carol");
    let files = json!({"files": [{"filename": "c.jpg", "contentType": "image/jpeg", "size": 250}]});
    let asks: Vec<_> = (0..10)
        .map(|_| post(&app, "/api/uploads/generate-urls", &carol, files.clone()))
        .collect();
    let answers = futures::future::join_all(asks).await;
    let fitted = answers.iter().filter(|r| r.status() == 200).count();
    let refused = answers.iter().filter(|r| r.status() == 429).count();
    assert_eq!((fitted, refused), (4, 6));
}

#[tokio::test]
async fn a_budget_crossed_by_jobs_warns_at_80_stops_ai_at_100_and_renews_with_the_month() {
    let gemini = ImageServer::gemini(vec![ImageReply::Picture, ImageReply::Picture]).await;
    let openai = ImageServer::openai(vec![]).await;
    let sns = TestSns::new().await;
    let alerts = SnsAlerts::with_client(sns.sns.clone(), sns.topic_arn.clone());
    let (g, o) = (gemini.base_url(), openai.base_url());
    let vars = [
        (
            "GEMINI_API_KEY",
            momentarium_tests::image_providers::GEMINI_KEY,
        ),
        ("GEMINI_BASE_URL", g.as_str()),
        (
            "GEMINI_IMAGE_MODEL",
            momentarium_tests::image_providers::GEMINI_IMAGE_MODEL,
        ),
        ("GEMINI_MODEL", "gemini-organiser-test"),
        (
            "OPENAI_API_KEY",
            momentarium_tests::image_providers::OPENAI_KEY,
        ),
        ("OPENAI_BASE_URL", o.as_str()),
        (
            "OPENAI_IMAGE_MODEL",
            momentarium_tests::image_providers::OPENAI_IMAGE_MODEL,
        ),
        ("AI_PRICES", momentarium_tests::TEST_IMAGE_PRICES),
    ];
    let app = TestApp::spawn_configured(&vars, move |a| a.with_alerts(alerts)).await;
    let alice = app.token("alice");
    // $0.04: one picture ($0.038706) is 97 %, two pass 100 %.
    set_tier(&app.app, "alice", Tier::Free, Some(Some(0.04)))
        .await
        .unwrap();
    let ask = |prompt: &str| post(&app, "/api/generations", &alice, json!({"prompt": prompt}));
    let first: Value = ask("one").await.json().await.unwrap();
    let second: Value = ask("two").await.json().await.unwrap();
    let first = Uuid::parse_str(first["generationId"].as_str().unwrap()).unwrap();
    let second = Uuid::parse_str(second["generationId"].as_str().unwrap()).unwrap();

    app.run_job_now(first).await.unwrap();
    let usage: Value = app.get("/api/usage", &alice).await.json().await.unwrap();
    assert_eq!(usage["budget"]["state"], "warning", "{usage}");
    assert_eq!(usage["notifications"].as_array().unwrap().len(), 1);
    assert_eq!(usage["notifications"][0]["kind"], "budget_warning");

    // The second was queued before the line: its call is made and recorded.
    app.run_job_now(second).await.unwrap();
    let g: Value = app
        .get(&format!("/api/generations/{second}"), &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(g["status"], "completed");
    let usage: Value = app.get("/api/usage", &alice).await.json().await.unwrap();
    assert_eq!(usage["budget"]["state"], "exhausted");
    let kinds: Vec<&str> = usage["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["budget_warning", "budget_exhausted"]);
    // By hand: two pictures at 20 × $0.30/M + 1,290 × $30/M = $0.038706 each.
    assert!(
        (usage["totalCostUsd"].as_f64().unwrap() - 0.077412).abs() < 1e-9,
        "{usage}"
    );
    assert_eq!(usage["ai"][0]["kind"], "generate");
    assert_eq!(
        (
            usage["ai"][0]["calls"].as_i64(),
            usage["ai"][0]["outputTokens"].as_i64()
        ),
        (Some(2), Some(2580))
    );
    assert_eq!(
        format!("{:.2}", usage["budget"]["spentUsd"].as_f64().unwrap()),
        "0.08"
    );

    // Published to the alert topic, once each.
    let published = sns.published().await;
    assert_eq!(published.len(), 2, "{published:?}");
    assert!(published.iter().any(|m| m.contains("budget_exhausted")));

    // At 100 %: pictures are refused until the month turns; organising goes offline.
    let refused = ask("three").await;
    assert_eq!(refused.status(), 429);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "budget_exhausted");
    let ids = app.upload_samples(&alice, 2).await;
    let job = app.process_job_id(&alice, &ids).await;
    app.run_job_now(job).await.unwrap();
    let status: Value = app
        .get(&format!("/api/jobs/{job}/status"), &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["organizer"], "offline");
    assert!(
        status["fallbackReason"]
            .as_str()
            .unwrap()
            .contains("budget"),
        "{status}"
    );
    assert_eq!(
        gemini.seen().len(),
        2,
        "the organiser's model was not asked"
    );

    // The month turns: last month's calls no longer count.
    app.db
        .client()
        .await
        .batch_execute(
            "UPDATE ai_calls SET created_at = created_at - interval '40 days'; \
             UPDATE notifications SET period = to_char(now() - interval '40 days', 'YYYY-MM');",
        )
        .await
        .unwrap();
    let usage: Value = app.get("/api/usage", &alice).await.json().await.unwrap();
    assert_eq!(
        (
            usage["budget"]["state"].as_str(),
            usage["totalCostUsd"].as_f64()
        ),
        (Some("ok"), Some(0.0))
    );
    assert_eq!(usage["notifications"], json!([]));
    assert_eq!(ask("four").await.status(), 202);
}

#[tokio::test]
async fn a_raised_budget_lets_ai_work_again_and_the_day_turning_renews_quotas() {
    let gemini = ImageServer::gemini(vec![]).await;
    let openai = ImageServer::openai(vec![]).await;
    let limits = tiers(json!({"generationsPerDay": 1, "monthlyBudgetUsd": 0.0}));
    let app =
        TestApp::spawn_with_image_providers(&gemini, &openai, &[("TIER_LIMITS", &limits)]).await;
    let alice = app.token("alice");
    let ask = || post(&app, "/api/generations", &alice, json!({"prompt": "a fox"}));
    assert_error(ask().await, 429, "budget_exhausted").await;
    set_tier(&app.app, "alice", Tier::Free, Some(Some(5.0)))
        .await
        .unwrap();
    assert_eq!(ask().await.status(), 202);
    assert_error(ask().await, 429, "quota_exceeded").await;
    app.db
        .client()
        .await
        .execute(
            "UPDATE quota_usage SET period_start = period_start - interval '1 day'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(ask().await.status(), 202, "a new day");
}

#[tokio::test]
async fn the_operators_path_sets_tiers_and_no_user_token_reaches_it() {
    let app = TestApp::spawn().await;
    let event = |payload: Value| {
        lambda_runtime::LambdaEvent::new(payload, lambda_runtime::Context::default())
    };
    let answer = momentarium_shared::lambda::handle_admin_event(
        &app.app,
        event(json!({"action": "set-tier", "subject": "carol", "tier": "premium", "monthlyBudgetUsd": 12.5})),
    )
    .await
    .unwrap();
    assert_eq!(
        answer,
        json!({"subject": "carol", "tier": "premium", "monthlyBudgetUsd": 12.5})
    );
    // The stored example (events/admin-set-tier.json), as `aws lambda invoke` sends it.
    let stored: Value = serde_json::from_str(
        &std::fs::read_to_string(momentarium_tests::events_dir().join("admin-set-tier.json"))
            .unwrap(),
    )
    .unwrap();
    let answer = momentarium_shared::lambda::handle_admin_event(&app.app, event(stored.clone()))
        .await
        .unwrap();
    assert_eq!(answer["subject"], stored["subject"]);
    assert_eq!(answer["tier"], "premium");
    let usage: Value = app
        .get("/api/usage", &app.token("carol"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            usage["tier"].as_str(),
            usage["budget"]["monthlyUsd"].as_f64()
        ),
        (Some("premium"), Some(12.5))
    );
    for bad in [
        json!({"action": "drop-tables"}),
        json!({"action": "set-tier", "subject": "carol", "tier": "gold"}),
        json!({"action": "set-tier", "subject": "", "tier": "free"}),
        json!({"action": "set-tier", "subject": "carol", "tier": "free", "monthlyBudgetUsd": -1}),
    ] {
        let answer = momentarium_shared::lambda::handle_admin_event(&app.app, event(bad.clone()))
            .await
            .unwrap();
        assert!(answer["error"]["code"].is_string(), "{bad} → {answer}");
    }
    // No route of the API sets a tier.
    let r = app
        .http
        .patch(app.url("/api/me"))
        .bearer_auth(app.token("carol"))
        .json(&json!({"tier": "free"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "invalid_body").await;
}

#[tokio::test]
async fn a_premium_job_behind_twenty_free_ones_finishes_before_them() {
    use momentarium_local::dispatcher::LocalDispatcher;
    use momentarium_shared::adapter::standard_webhooks::WebhookSecret;
    use momentarium_shared::domain::JobKind;
    use momentarium_shared::usecase::request_processing::enqueue;
    use momentarium_tests::gemini::{GeminiServer, Reply};

    let plan = || {
        Reply::answer(json!({
            "albums": [{"title": "One", "description": "", "cover": 1, "photos": [1]}],
            "photos": []
        }))
    };
    // The first job holds the one worker for a second while the rest are queued.
    let mut script = vec![Reply::Delayed(Duration::from_secs(1), Box::new(plan()))];
    script.extend((0..21).map(|_| plan()));
    let gemini = GeminiServer::start(script).await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let (free, paula) = (app.token("fred"), app.token("paula"));
    set_tier(&app.app, "paula", Tier::Premium, None)
        .await
        .unwrap();
    let photos = app.upload_samples(&free, 20).await;
    let mut jobs = Vec::new();
    for photo in &photos {
        jobs.push(app.process_job_id(&free, std::slice::from_ref(photo)).await);
    }
    let theirs = app.upload_samples(&paula, 1).await;
    let premium = app.process_job_id(&paula, &theirs).await;
    let (fred_id, paula_id): (Uuid, Uuid) = {
        let c = app.db.client().await;
        (
            c.query_one("SELECT id FROM users WHERE subject = 'fred'", &[])
                .await
                .unwrap()
                .get(0),
            c.query_one("SELECT id FROM users WHERE subject = 'paula'", &[])
                .await
                .unwrap()
                .get(0),
        )
    };
    // The jobs were made without a queue; now they are sent, the free ones first.
    let dispatcher = LocalDispatcher::with_workers(
        app.url("/api/jobs/process"),
        WebhookSecret::parse(momentarium_tests::WEBHOOK_SECRET).unwrap(),
        5,
        1,
    );
    let queued = app.app.clone().with_queue(std::sync::Arc::new(dispatcher));
    for job in &jobs {
        enqueue(&queued, *job, JobKind::Organise, fred_id).await;
    }
    enqueue(&queued, premium, JobKind::Organise, paula_id).await;

    let client = app.db.client().await;
    let order: Vec<Uuid> = loop {
        let done: i64 = client
            .query_one(
                "SELECT count(*) FROM processing_jobs WHERE status = 'completed'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if done == 21 {
            break client
                .query("SELECT id FROM processing_jobs ORDER BY completed_at", &[])
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(order[0], jobs[0], "the job that held the worker");
    assert_eq!(
        order[1], premium,
        "the premium job went ahead of the 19 free ones waiting"
    );
    assert_eq!(
        &order[2..],
        &jobs[1..],
        "the free ones in the order they came"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_requests_at_once_against_a_limit_of_ten_let_exactly_ten_through() {
    let limits = tiers(json!({"readPerMinute": 10}));
    let app = TestApp::spawn_configured(&[("TIER_LIMITS", &limits)], |a| a).await;
    let alice = app.token("alice");
    early_in_a_minute().await;
    let asks: Vec<_> = (0..30).map(|_| app.get("/api/jobs", &alice)).collect();
    let answers = futures::future::join_all(asks).await;
    let ok = answers.iter().filter(|r| r.status() == 200).count();
    let refused = answers.iter().filter(|r| r.status() == 429).count();
    assert_eq!((ok, refused), (10, 20));
    let counted: i64 = app
        .db
        .client()
        .await
        .query_one(
            "SELECT sum(used)::bigint FROM rate_windows WHERE class = 'read'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(counted, 10, "counted up to the limit, not past it");
}
