//! Deleting photos and galleries: rows in one transaction (album places, covers
//! re-chosen, empty albums), objects removed from the S3-protocol server after the
//! commit or by the sweep when the bucket failed, and a job that holds a photo deleted
//! meanwhile completing without it.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use momentarium_shared::adapter::s3::S3Store;
use momentarium_shared::domain::ImageKey;
use momentarium_shared::domain::prepare::Size;
use momentarium_shared::repo::deletions;
use momentarium_shared::repo::galleries::{NewAlbum, insert_albums};
use momentarium_shared::usecase::run_job::ProcessOutcome;
use momentarium_shared::usecase::sweep_jobs::sweep_jobs;
use momentarium_tests::gemini::{GeminiServer, Reply};
use momentarium_tests::{TestApp, assert_error};
use serde_json::{Value, json};
use uuid::Uuid;

async fn upload(app: &TestApp, token: &str, n: u8) -> Vec<Uuid> {
    app.upload_samples(token, n)
        .await
        .iter()
        .map(|id| Uuid::parse_str(id).unwrap())
        .collect()
}

/// A gallery of three photos in two albums: A = [p0 (cover), p1], B = [p2].
async fn gallery(app: &TestApp, token: &str) -> (Uuid, Vec<Uuid>, Vec<Uuid>, Uuid) {
    let ids = upload(app, token, 3).await;
    let strings: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let accepted = app.process(token, &strings).await;
    let gallery = Uuid::parse_str(accepted["galleryId"].as_str().unwrap()).unwrap();
    let client = app.db.client().await;
    let user: Uuid = client
        .query_one("SELECT user_id FROM galleries WHERE id = $1", &[&gallery])
        .await
        .unwrap()
        .get(0);
    let albums = vec![
        NewAlbum {
            id: Uuid::now_v7(),
            title: "A".into(),
            description: String::new(),
            cover_image_id: Some(ids[0]),
            image_ids: vec![ids[0], ids[1]],
        },
        NewAlbum {
            id: Uuid::now_v7(),
            title: "B".into(),
            description: String::new(),
            cover_image_id: Some(ids[2]),
            image_ids: vec![ids[2]],
        },
    ];
    insert_albums(&client, user, gallery, &albums)
        .await
        .unwrap();
    client
        .execute(
            "UPDATE processing_jobs SET status = 'completed', completed_at = now() \
             WHERE gallery_id = $1",
            &[&gallery],
        )
        .await
        .unwrap();
    (gallery, ids, albums.iter().map(|a| a.id).collect(), user)
}

/// Whether any of a photo's objects (original, three renditions) is in the bucket.
async fn objects_left(app: &TestApp, user: Uuid, image: Uuid) -> Vec<String> {
    let key = ImageKey::new(user, image);
    let mut left = Vec::new();
    for k in [
        key.to_string(),
        key.rendition(Size::Thumb),
        key.rendition(Size::Preview),
        key.rendition(Size::Model),
    ] {
        if app.storage().get_key(&k).await.is_ok() {
            left.push(k);
        }
    }
    left
}

#[tokio::test]
async fn a_deleted_photo_leaves_its_albums_its_covers_and_the_bucket() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let (gallery, ids, albums, user) = gallery(&app, &alice).await;
    assert_eq!(
        objects_left(&app, user, ids[0]).await.len(),
        4,
        "the original and its renditions exist before"
    );
    let link: Value = app
        .post_json(
            &format!("/api/galleries/{gallery}/shares"),
            &alice,
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = link["url"]
        .as_str()
        .unwrap()
        .rsplit_once("/s/")
        .unwrap()
        .1
        .to_string();

    // Nobody else can delete it.
    assert_error(
        app.delete(&format!("/api/images/{}", ids[0]), &app.token("bob"))
            .await,
        404,
        "not_found",
    )
    .await;

    // The cover of album A.
    assert_eq!(
        app.delete(&format!("/api/images/{}", ids[0]), &alice)
            .await
            .status(),
        204
    );
    let view: Value = app
        .get(&format!("/api/galleries/{gallery}"), &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        view["albums"][0]["coverImageId"],
        ids[1].to_string(),
        "a new cover"
    );
    assert_eq!(view["albums"][0]["imageCount"], 1);
    assert!(!view.to_string().contains(&ids[0].to_string()));
    assert_error(
        app.get(&format!("/api/images/{}", ids[0]), &alice).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(objects_left(&app, user, ids[0]).await, Vec::<String>::new());
    let queued: i64 = app
        .db
        .client()
        .await
        .query_one("SELECT count(*) FROM object_deletions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(queued, 0, "removed objects are forgotten");
    // Gone from the share at once.
    let shared = app
        .http
        .get(app.url(&format!("/api/shared/{token}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!shared.contains(&ids[0].to_string()));

    // The only photo of album B: the album goes too.
    assert_eq!(
        app.delete(&format!("/api/images/{}", ids[2]), &alice)
            .await
            .status(),
        204
    );
    let albums_left: Vec<Uuid> = app
        .db
        .client()
        .await
        .query("SELECT id FROM albums WHERE gallery_id = $1", &[&gallery])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(albums_left, vec![albums[0]]);

    // Twice is a 404.
    assert_error(
        app.delete(&format!("/api/images/{}", ids[2]), &alice).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_deleted_gallery_keeps_its_photos_unless_asked() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let (first, ids, _, user) = gallery(&app, &alice).await;
    let link: Value = app
        .post_json(
            &format!("/api/galleries/{first}/shares"),
            &alice,
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = link["url"]
        .as_str()
        .unwrap()
        .rsplit_once("/s/")
        .unwrap()
        .1
        .to_string();

    assert_error(
        app.delete(&format!("/api/galleries/{first}"), &app.token("bob"))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.delete(&format!("/api/galleries/{first}?withPhotos=maybe"), &alice)
            .await,
        400,
        "invalid_query",
    )
    .await;
    assert_eq!(
        app.delete(&format!("/api/galleries/{first}"), &alice)
            .await
            .status(),
        204
    );
    assert_error(
        app.get(&format!("/api/galleries/{first}"), &alice).await,
        404,
        "not_found",
    )
    .await;
    let shared = app
        .http
        .get(app.url(&format!("/api/shared/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(shared.status(), 404, "its links went with it");
    for id in &ids {
        assert_eq!(
            app.get(&format!("/api/images/{id}"), &alice).await.status(),
            200
        );
    }

    // With its photos: rows and objects.
    let (second, ids, _, _) = gallery(&app, &alice).await;
    assert_eq!(
        app.delete(&format!("/api/galleries/{second}?withPhotos=true"), &alice)
            .await
            .status(),
        204
    );
    for id in &ids {
        assert_error(
            app.get(&format!("/api/images/{id}"), &alice).await,
            404,
            "not_found",
        )
        .await;
        assert_eq!(objects_left(&app, user, *id).await, Vec::<String>::new());
    }
    let jobs: Value = app.get("/api/jobs", &alice).await.json().await.unwrap();
    assert_eq!(
        jobs["jobs"],
        json!([]),
        "the galleries' jobs went with them"
    );
}

#[tokio::test]
async fn objects_the_bucket_would_not_remove_are_removed_by_the_sweep_once() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let ids = upload(&app, &alice, 2).await;
    let user: Uuid = app
        .db
        .client()
        .await
        .query_one("SELECT id FROM users WHERE subject = 'alice'", &[])
        .await
        .unwrap()
        .get(0);

    // The same app with a bucket that does not answer (a closed port).
    let mut storage = app.app.config.storage.clone().unwrap();
    storage.endpoint_url = Some("http://127.0.0.1:9".into());
    let broken = app
        .app
        .clone()
        .with_storage(S3Store::with_sdk_config(&app.s3.sdk_config(), &storage));
    let caller = momentarium_shared::domain::Caller {
        user_id: user,
        subject: "alice".into(),
    };
    momentarium_shared::usecase::delete_photos::delete_image(&broken, &caller, ids[0])
        .await
        .unwrap();
    // Deleted for the person at once; the objects wait.
    assert_error(
        app.get(&format!("/api/images/{}", ids[0]), &alice).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(objects_left(&app, user, ids[0]).await.len(), 4);
    let queued: i64 = app
        .db
        .client()
        .await
        .query_one("SELECT count(*) FROM object_deletions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(queued, 4);

    // A sweep with the bucket still down removes nothing and keeps them queued.
    let report = sweep_jobs(&broken, 100).await.unwrap();
    assert_eq!((report.objects_removed, report.objects_left), (0, 4));
    // The bucket back: the sweep removes them; run again, it has nothing to do.
    let report = sweep_jobs(&app.app, 100).await.unwrap();
    assert_eq!((report.objects_removed, report.objects_left), (4, 0));
    assert_eq!(objects_left(&app, user, ids[0]).await, Vec::<String>::new());
    assert_eq!(
        objects_left(&app, user, ids[1]).await.len(),
        4,
        "only the deleted photo's"
    );
    let report = sweep_jobs(&app.app, 100).await.unwrap();
    assert_eq!((report.objects_removed, report.objects_left), (0, 0));

    // A worker that finished renditions for the deleted photo afterwards (its mark found
    // no row) queues them; for a photo still there it queues nothing.
    let client = app.db.client().await;
    assert!(
        deletions::queue_if_gone(&client, user, ids[0])
            .await
            .unwrap()
    );
    assert!(
        !deletions::queue_if_gone(&client, user, ids[1])
            .await
            .unwrap()
    );
    let report = sweep_jobs(&app.app, 100).await.unwrap();
    assert_eq!((report.objects_removed, report.objects_left), (4, 0));
}

#[tokio::test]
async fn a_photo_deleted_while_its_job_runs_is_left_out_of_the_albums() {
    let gemini = GeminiServer::start(vec![Reply::Delayed(
        Duration::from_millis(1500),
        Box::new(Reply::answer(json!({
            "albums": [
                {"title": "Garden", "description": "Flowers.", "cover": 1, "photos": [1, 2]},
                {"title": "Sea", "description": "Waves.", "cover": 3, "photos": [3]}
            ],
            "photos": [
                {"photo": 1, "caption": "A ladybird.", "tags": ["insect"]},
                {"photo": 2, "caption": "A rose.", "tags": ["flower"]},
                {"photo": 3, "caption": "A wave.", "tags": ["sea"]}
            ]
        }))),
    )])
    .await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let alice = app.token("alice");
    let ids = upload(&app, &alice, 3).await;
    let strings: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let job = app.process_job_id(&alice, &strings).await;
    let worker = app.run_job_in_background(job);
    app.wait_for_stage(job, "asking_model").await;
    // The cover of the first album, and the only photo of the second.
    for id in [ids[0], ids[2]] {
        assert_eq!(
            app.delete(&format!("/api/images/{id}"), &alice)
                .await
                .status(),
            204
        );
    }
    let outcome = worker.await.unwrap().unwrap();
    assert!(
        matches!(outcome, ProcessOutcome::Completed { .. }),
        "{outcome:?}"
    );
    let status: Value = app
        .get(&format!("/api/jobs/{job}/status"), &alice)
        .await
        .json()
        .await
        .unwrap();
    let gallery: Value = app
        .get(status["resultUrl"].as_str().unwrap(), &alice)
        .await
        .json()
        .await
        .unwrap();
    let albums = gallery["albums"].as_array().unwrap();
    assert_eq!(albums.len(), 1, "{gallery}");
    assert_eq!(albums[0]["title"], "Garden");
    assert_eq!(albums[0]["coverImageId"], ids[1].to_string());
    assert_eq!(albums[0]["images"][0]["caption"], "A rose.");
}

#[tokio::test]
async fn a_job_whose_photos_were_all_deleted_fails_with_a_sentence() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let ids = upload(&app, &alice, 2).await;
    let strings: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let job = app.process_job_id(&alice, &strings).await;
    for id in &ids {
        assert_eq!(
            app.delete(&format!("/api/images/{id}"), &alice)
                .await
                .status(),
            204
        );
    }
    let outcome = app.run_job_now(job).await.unwrap();
    assert!(matches!(outcome, ProcessOutcome::Failed(_)), "{outcome:?}");
    let status: Value = app
        .get(&format!("/api/jobs/{job}/status"), &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "failed");
    assert!(
        status["error"].as_str().unwrap().contains("any more"),
        "{status}"
    );
}

#[tokio::test]
async fn deleting_an_account_leaves_no_row_and_no_object_of_the_user() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let bob = app.token("bob");
    let (alices, ids, albums, user) = gallery(&app, &alice).await;
    // A share link, a member, an upload never completed, and an album of Bob's shared
    // with Alice.
    app.post_json(
        &format!("/api/galleries/{alices}/shares"),
        &alice,
        &json!({"password": "x"}),
    )
    .await;
    app.post_json(
        &format!("/api/albums/{}/members", albums[0]),
        &alice,
        &json!({"subject": "bob"}),
    )
    .await;
    let pending = app
        .upload_urls(&alice, &[("late.jpg", "image/jpeg", 100)])
        .await;
    let (_, _, bobs_albums, bob_id) = gallery(&app, &bob).await;
    let response = app
        .post_json(
            &format!("/api/albums/{}/members", bobs_albums[0]),
            &bob,
            &json!({"subject": "alice"}),
        )
        .await;
    assert_eq!(response.status(), 201);

    let response = app
        .http
        .delete(app.url("/api/me"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    // No row of hers in any table that has a user_id, nor her user, nor her memberships.
    let client = app.db.client().await;
    let tables: Vec<String> = client
        .query(
            "SELECT table_name FROM information_schema.columns \
             WHERE table_schema = 'public' AND column_name = 'user_id'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(tables.len() >= 7, "{tables:?}");
    for table in &tables {
        let n: i64 = client
            .query_one(
                &format!("SELECT count(*) FROM {table} WHERE user_id = $1"),
                &[&user],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "{table} keeps rows of the deleted user");
    }
    for (sql, what) in [
        ("SELECT count(*) FROM users WHERE id = $1", "the user"),
        (
            "SELECT count(*) FROM album_members WHERE subject = (SELECT 'alice') AND $1::uuid IS NOT NULL",
            "her memberships",
        ),
        (
            "SELECT count(*) FROM object_deletions WHERE $1::uuid IS NOT NULL",
            "queued objects",
        ),
    ] {
        let n: i64 = client.query_one(sql, &[&user]).await.unwrap().get(0);
        assert_eq!(n, 0, "{what}");
    }
    // No object of hers in the bucket.
    let pending_id = Uuid::parse_str(pending[0]["imageId"].as_str().unwrap()).unwrap();
    for id in ids.iter().chain([&pending_id]) {
        assert_eq!(objects_left(&app, user, *id).await, Vec::<String>::new());
    }
    // Bob's things are untouched.
    let n: i64 = client
        .query_one("SELECT count(*) FROM images WHERE user_id = $1", &[&bob_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 3);

    // A second call: no account to delete (and none is made by asking).
    let response = app
        .http
        .delete(app.url("/api/me"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "not_found").await;
    let n: i64 = client
        .query_one("SELECT count(*) FROM users WHERE subject = 'alice'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn the_sweep_removes_uploads_left_incomplete_or_rejected_for_a_day_once() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let kept = upload(&app, &alice, 1).await;
    // Three uploads never completed: one whose bytes arrived without their event, one
    // with no bytes, one recent; and one rejected (not a JPEG inside).
    let tickets = app
        .upload_urls(
            &alice,
            &[
                ("sent.jpg", "image/jpeg", 100),
                ("never.jpg", "image/jpeg", 100),
                ("recent.jpg", "image/jpeg", 100),
            ],
        )
        .await;
    assert_eq!(app.put(&tickets[0], vec![7u8; 100]).await.status(), 200);
    let bad = app
        .upload_urls(&alice, &[("bad.jpg", "image/jpeg", 11)])
        .await;
    assert_eq!(
        app.put(&bad[0], b"not a jpeg!".to_vec()).await.status(),
        200
    );
    app.s3_event(&[bad[0]["key"].as_str().unwrap()])
        .await
        .unwrap();
    let id = |t: &Value| Uuid::parse_str(t["imageId"].as_str().unwrap()).unwrap();
    let (sent, never, recent, rejected) = (
        id(&tickets[0]),
        id(&tickets[1]),
        id(&tickets[2]),
        id(&bad[0]),
    );
    let client = app.db.client().await;
    let status: String = client
        .query_one("SELECT status FROM images WHERE id = $1", &[&rejected])
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "rejected");
    client
        .execute(
            "UPDATE images SET created_at = now() - interval '25 hours' WHERE id = ANY($1)",
            &[&vec![sent, never, rejected, kept[0]]],
        )
        .await
        .unwrap();
    let user: Uuid = client
        .query_one("SELECT user_id FROM images WHERE id = $1", &[&sent])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        objects_left(&app, user, sent).await.len(),
        1,
        "its bytes are there"
    );

    let report = sweep_jobs(&app.app, 100).await.unwrap();
    assert_eq!(report.uploads_expired, 3);
    let left: Vec<Uuid> = client
        .query("SELECT id FROM images ORDER BY created_at", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(left.len(), 2);
    assert!(
        left.contains(&kept[0]),
        "an uploaded photo stays, however old"
    );
    assert!(left.contains(&recent), "a recent upload may still complete");
    assert_eq!(objects_left(&app, user, sent).await, Vec::<String>::new());
    // Run again: nothing more to do.
    let report = sweep_jobs(&app.app, 100).await.unwrap();
    assert_eq!((report.uploads_expired, report.objects_removed), (0, 0));
}
