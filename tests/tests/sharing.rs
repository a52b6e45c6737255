//! Sharing: links to a gallery or an album, opened without signing in, and albums shared
//! with people who have accounts. Everything a share must not reveal is looked for in
//! the whole response text, not in one field.

#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use momentarium_shared::usecase::share_links::{self, Attempt};
use momentarium_tests::photos::{self, Exif};
use momentarium_tests::{TestApp, assert_error};
use serde_json::{Value, json};
use uuid::Uuid;

/// Sylt, as the GPS of the evening photos says; the offline organiser writes its town
/// into the album's title and description ("in Westerland, Germany").
const GPS: (f64, f64) = (54.9123, 8.3123);

/// Alice's organised gallery: two evening photos at Sylt (with GPS and a camera) and one
/// photo a week later, in two albums. Returns (gallery id, album ids, image ids per album).
struct Trip {
    gallery: String,
    albums: Vec<String>,
    photos: Vec<Vec<String>>,
    owner: Uuid,
}

async fn trip(app: &TestApp, token: &str) -> Trip {
    let sylt = Exif {
        taken: Some("2026:07:04 19:10:00"),
        offset: Some("+02:00"),
        gps: Some(GPS),
        make: Some("Fujifilm"),
        model: Some("X100V"),
        orientation: None,
    };
    let later = Exif {
        taken: Some("2026:07:11 09:00:00"),
        offset: Some("+02:00"),
        ..Exif::default()
    };
    let mut sylt2 = sylt.clone();
    sylt2.taken = Some("2026:07:04 19:25:00");
    let files = vec![
        (
            "a.jpg",
            "image/jpeg",
            photos::jpeg(64, 48, [200, 90, 40], &sylt),
        ),
        (
            "b.jpg",
            "image/jpeg",
            photos::jpeg(64, 48, [180, 80, 60], &sylt2),
        ),
        (
            "c.jpg",
            "image/jpeg",
            photos::jpeg(64, 48, [40, 90, 200], &later),
        ),
    ];
    let ids = app.upload_photos(token, &files).await;
    let accepted = app.process(token, &ids).await;
    let job = Uuid::parse_str(accepted["jobId"].as_str().unwrap()).unwrap();
    app.run_job_now(job).await.unwrap();
    let gallery = accepted["galleryId"].as_str().unwrap().to_string();
    let body: Value = app
        .get(&format!("/api/galleries/{gallery}"), token)
        .await
        .json()
        .await
        .unwrap();
    let albums: Vec<&Value> = body["albums"].as_array().unwrap().iter().collect();
    assert_eq!(albums.len(), 2, "{body}");
    assert!(
        albums[0]["description"]
            .as_str()
            .unwrap()
            .contains("in Westerland, Germany")
            && albums[0]["title"].as_str().unwrap().contains("Westerland"),
        "the owner's own view carries the place, so hiding it is a real test: {body}"
    );
    let owner = app
        .db
        .client()
        .await
        .query_one(
            "SELECT user_id FROM galleries WHERE id = $1",
            &[&Uuid::parse_str(&gallery).unwrap()],
        )
        .await
        .unwrap()
        .get(0);
    Trip {
        gallery,
        albums: albums
            .iter()
            .map(|a| a["albumId"].as_str().unwrap().to_string())
            .collect(),
        photos: albums
            .iter()
            .map(|a| {
                a["images"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["imageId"].as_str().unwrap().to_string())
                    .collect()
            })
            .collect(),
        owner,
    }
}

async fn share(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let response = app.post_json(path, token, &body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

fn token_of(created: &Value) -> String {
    let url = created["url"].as_str().unwrap();
    url.rsplit_once("/s/").unwrap().1.to_string()
}

async fn open(app: &TestApp, token: &str, password: Option<&str>) -> reqwest::Response {
    let mut request = app.http.get(app.url(&format!("/api/shared/{token}")));
    if let Some(p) = password {
        request = request.header(
            "share-password",
            percent_encoding::utf8_percent_encode(p, percent_encoding::NON_ALPHANUMERIC)
                .to_string(),
        );
    }
    request.send().await.unwrap()
}

fn image_ids(view: &Value) -> Vec<String> {
    view["albums"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["images"].as_array().unwrap().clone())
        .map(|i| i["imageId"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_gallery_link_shows_the_gallery_to_anyone_and_nothing_more() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let trip = trip(&app, &alice).await;

    let created = share(
        &app,
        &alice,
        &format!("/api/galleries/{}/shares", trip.gallery),
        json!({}),
    )
    .await;
    assert_eq!(created["kind"], "gallery");
    assert_eq!(
        created["allowDownload"], true,
        "downloads are on by default"
    );
    assert_eq!(
        created["showLocation"], false,
        "locations are off by default"
    );
    assert_eq!(created["hasPassword"], false);
    let url = created["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("http://{}/s/", app.addr)), "{url}");
    let token = token_of(&created);
    assert_eq!(token.len(), 43, "256 bits of base64url");

    // Only the token's hash is stored: the token is in no column of the row.
    let client = app.db.client().await;
    let leaks: i64 = client
        .query_one(
            "SELECT count(*) FROM share_links s WHERE strpos(row_to_json(s)::text, $1) > 0 \
             OR strpos(encode(s.token_sha256, 'escape'), $1) > 0",
            &[&token],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(leaks, 0);

    // What a model given "in Westerland at 54.9123, 8.3123, camera Fujifilm X100V" might
    // write.
    client
        .execute(
            "UPDATE images SET caption = 'Sunset near Westerland at 54.9123, 8.3123 with the Fujifilm X100V', \
                    tags = '{X100V,beach}' WHERE id = $1",
            &[&Uuid::parse_str(&trip.photos[0][0]).unwrap()],
        )
        .await
        .unwrap();

    // Without any token.
    let response = open(&app, &token, None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    let text = response.text().await.unwrap();
    let view: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(view["kind"], "gallery");
    let albums = view["albums"].as_array().unwrap();
    assert_eq!(albums.len(), 2);
    assert_eq!(albums[0]["imageCount"], 2);
    assert_eq!(albums[1]["imageCount"], 1);
    let mut all: Vec<String> = trip.photos.concat();
    let mut seen = image_ids(&view);
    all.sort();
    seen.sort();
    assert_eq!(seen, all);
    let first = albums[0]["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["imageId"] == trip.photos[0][0].as_str())
        .unwrap();
    assert!(first["thumbUrl"].as_str().unwrap().contains("/renditions/"));
    assert!(first["previewUrl"].as_str().is_some());
    // Downloads allowed, locations hidden: the preview rendition, never an original
    // (its EXIF would carry the GPS and the camera).
    assert_eq!(view["downloads"], "preview");
    assert_eq!(first["url"], first["previewUrl"]);
    assert!(!text.contains("/uploads/"), "an original leaked: {text}");
    assert_eq!(first["caption"], "Sunset with the");
    assert_eq!(first["tags"], json!(["beach"]));
    assert_eq!(first["takenAtOffsetMinutes"], 120);
    // Location off: no coordinates (not even in the description), place or camera.
    for secret in [
        "54.91",
        "8.31",
        "°",
        "latitude",
        "location",
        "camera",
        "Fujifilm",
        "X100V",
        "Westerland",
        "Schleswig",
        "Germany",
        "\"place\"",
    ] {
        assert!(!text.contains(secret), "{secret:?} leaked: {text}");
    }
    assert!(
        albums[0]["description"]
            .as_str()
            .unwrap()
            .starts_with("2 photos taken between"),
        "{text}"
    );
    // Nothing of the owner's outside the share: not their sign-in name, not the gallery
    // id, and their internal user id only inside the photo URLs' object keys
    // (`renditions/{user}/{image}/…`: a presigned URL must name the object).
    assert!(!text.contains("alice"));
    assert!(!text.contains(&trip.gallery));
    let mut without_urls = view.clone();
    for album in without_urls["albums"].as_array_mut().unwrap() {
        for image in album["images"].as_array_mut().unwrap() {
            for url in ["url", "thumbUrl", "previewUrl"] {
                image.as_object_mut().unwrap().remove(url);
            }
        }
    }
    assert!(!without_urls.to_string().contains(&trip.owner.to_string()));
    // Nothing of the owner's other galleries: their albums and photos are not there.
    let other = app
        .upload_photos(
            &alice,
            &[(
                "z.jpg",
                "image/jpeg",
                photos::jpeg(20, 20, [1, 2, 3], &Exif::default()),
            )],
        )
        .await;
    let job = app.process_job_id(&alice, &other).await;
    app.run_job_now(job).await.unwrap();
    let other_album: Uuid = client
        .query_one(
            "SELECT a.id FROM albums a JOIN processing_jobs j ON j.gallery_id = a.gallery_id \
             WHERE j.id = $1",
            &[&job],
        )
        .await
        .unwrap()
        .get(0);
    let text = open(&app, &token, None).await.text().await.unwrap();
    assert!(!text.contains(&other[0]));
    assert!(!text.contains(&other_album.to_string()));
    let again: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(again["albums"].as_array().unwrap().len(), 2);

    // The owner's list counts views.
    let list: Value = app.get("/api/shares", &alice).await.json().await.unwrap();
    assert_eq!(list["shares"].as_array().unwrap().len(), 1);
    assert_eq!(list["shares"][0]["viewCount"], 2);
    assert!(list["shares"][0]["lastViewedAt"].is_string());
    assert!(
        list["shares"][0].get("url").is_none(),
        "the URL is shown once"
    );
    // Nobody else sees it.
    let bob = app.token("bob");
    let list: Value = app.get("/api/shares", &bob).await.json().await.unwrap();
    assert_eq!(list["shares"], json!([]));
}

#[tokio::test]
async fn download_off_leaves_no_original_and_location_on_shows_it() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let trip = trip(&app, &alice).await;
    let created = share(
        &app,
        &alice,
        &format!("/api/albums/{}/shares", trip.albums[0]),
        json!({"allowDownload": false, "showLocation": true}),
    )
    .await;
    let text = open(&app, &token_of(&created), None)
        .await
        .text()
        .await
        .unwrap();
    let view: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(view["allowDownload"], false);
    // No original URL anywhere: no key of an upload, no `url` field.
    assert!(!text.contains("uploads/"), "{text}");
    assert!(!text.contains("\"url\""), "{text}");
    let image = &view["albums"][0]["images"][0];
    assert!(image["thumbUrl"].as_str().unwrap().contains("renditions/"));
    assert_eq!(image["location"]["latitude"], GPS.0);
    assert_eq!(image["location"]["longitude"], GPS.1);
    assert_eq!(image["camera"], "Fujifilm X100V");
    assert!(
        view["albums"][0]["description"]
            .as_str()
            .unwrap()
            .contains("in Westerland, Germany")
    );
    assert_eq!(view["downloads"], "none");

    // Downloads with locations shown: the originals themselves.
    let created = share(
        &app,
        &alice,
        &format!("/api/albums/{}/shares", trip.albums[0]),
        json!({"showLocation": true}),
    )
    .await;
    let view: Value = open(&app, &token_of(&created), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["downloads"], "original");
    let image = &view["albums"][0]["images"][0];
    assert!(image["url"].as_str().unwrap().contains("/uploads/"));
}

#[tokio::test]
async fn an_album_link_shows_that_album_only_and_its_token_opens_nothing_else() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let trip = trip(&app, &alice).await;
    let a = share(
        &app,
        &alice,
        &format!("/api/albums/{}/shares", trip.albums[0]),
        json!({}),
    )
    .await;
    let b = share(
        &app,
        &alice,
        &format!("/api/albums/{}/shares", trip.albums[1]),
        json!({}),
    )
    .await;
    assert_eq!(a["kind"], "album");
    assert_eq!(a["albumId"], trip.albums[0].as_str());
    let text = open(&app, &token_of(&a), None).await.text().await.unwrap();
    let view: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(view["kind"], "album");
    assert_eq!(view["albums"].as_array().unwrap().len(), 1);
    assert_eq!(image_ids(&view), trip.photos[0]);
    for hidden in trip.photos[1]
        .iter()
        .chain([&trip.albums[1], &trip.gallery])
    {
        assert!(!text.contains(hidden.as_str()), "{hidden} leaked");
    }

    // Album A's token, altered or mistaken for an id, opens nothing; B's link is B's.
    let token = token_of(&a);
    let mut altered = token.clone().into_bytes();
    altered[10] = if altered[10] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let share_id = a["shareId"].as_str().unwrap().to_string();
    let b_id = trip.albums[1].clone();
    for wrong in [altered.as_str(), share_id.as_str(), b_id.as_str(), "x"] {
        assert_error(open(&app, wrong, None).await, 404, "not_found").await;
    }
    let view: Value = open(&app, &token_of(&b), None).await.json().await.unwrap();
    assert_eq!(image_ids(&view), trip.photos[1]);

    // Someone else's gallery or album cannot be shared (404, as if it did not exist).
    let bob = app.token("bob");
    assert_error(
        app.post_json(
            &format!("/api/albums/{}/shares", trip.albums[0]),
            &bob,
            &json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.post_json(
            &format!("/api/galleries/{}/shares", trip.gallery),
            &bob,
            &json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_password_is_asked_for_checked_and_wrong_ones_are_throttled() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let trip = trip(&app, &alice).await;
    let password = "sésame ouvre-toi 100%";
    let created = share(
        &app,
        &alice,
        &format!("/api/galleries/{}/shares", trip.gallery),
        json!({"password": password}),
    )
    .await;
    assert_eq!(created["hasPassword"], true);
    let stored: String = app
        .db
        .client()
        .await
        .query_one("SELECT password_hash FROM share_links", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    assert!(!stored.contains(password));
    let token = token_of(&created);

    assert_error(open(&app, &token, None).await, 401, "password_required").await;
    let right = open(&app, &token, Some(password)).await;
    assert_eq!(right.status(), 200);
    let view: Value = right.json().await.unwrap();
    assert_eq!(image_ids(&view).len(), 3);

    // Five wrong passwords from this address, then even the right one waits.
    for _ in 0..5 {
        assert_error(
            open(&app, &token, Some("open barley")).await,
            401,
            "wrong_password",
        )
        .await;
    }
    let locked = open(&app, &token, Some(password)).await;
    assert_eq!(locked.status(), 429);
    let retry: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    let body: Value = locked.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_attempts");

    // Another address is not locked out by this one…
    let other = share_links::open(
        &app.app,
        &token,
        Attempt {
            password: Some(password),
            address: "198.51.100.9",
        },
    )
    .await;
    assert!(other.is_ok());
    // …until wrong passwords from everywhere reach the link's own limit.
    for i in 0..(share_links::PASSWORD_FAILURES_PER_LINK - 5) {
        let address = format!("198.51.100.{}", 10 + i);
        let err = share_links::open(
            &app.app,
            &token,
            Attempt {
                password: Some("guess"),
                address: &address,
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "wrong_password");
    }
    let err = share_links::open(
        &app.app,
        &token,
        Attempt {
            password: Some(password),
            address: "192.0.2.200",
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "too_many_attempts");

    // When the window has passed, the right password opens the link again.
    app.db
        .client()
        .await
        .execute(
            "UPDATE share_password_failures SET window_started_at = now() - interval '16 minutes'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(open(&app, &token, Some(password)).await.status(), 200);

    // A password header that is not percent-encoded UTF-8.
    let response = app
        .http
        .get(app.url(&format!("/api/shared/{token}")))
        .header("share-password", "%FF%FE")
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "invalid_password_header").await;
}

#[tokio::test]
async fn expired_revoked_and_unknown_links_answer_the_same_404() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let trip = trip(&app, &alice).await;
    let path = format!("/api/galleries/{}/shares", trip.gallery);
    let expiring = share(
        &app,
        &alice,
        &path,
        json!({"expiresAt": (Utc::now() + Duration::hours(1)).to_rfc3339()}),
    )
    .await;
    let revoked = share(&app, &alice, &path, json!({})).await;
    assert_eq!(open(&app, &token_of(&expiring), None).await.status(), 200);
    assert_eq!(open(&app, &token_of(&revoked), None).await.status(), 200);

    app.db
        .client()
        .await
        .execute(
            "UPDATE share_links SET expires_at = now() - interval '1 second' WHERE id = $1",
            &[&Uuid::parse_str(expiring["shareId"].as_str().unwrap()).unwrap()],
        )
        .await
        .unwrap();
    let revoke = format!("/api/shares/{}", revoked["shareId"].as_str().unwrap());
    // Bob cannot revoke Alice's link.
    let bob = app.token("bob");
    let response = app.delete(&revoke, &bob).await;
    assert_error(response, 404, "not_found").await;
    assert_eq!(open(&app, &token_of(&revoked), None).await.status(), 200);
    let response = app.delete(&revoke, &alice).await;
    assert_eq!(response.status(), 204);
    let response = app.delete(&revoke, &alice).await;
    assert_error(response, 404, "not_found").await;

    let unknown = "A".repeat(43);
    let mut bodies = Vec::new();
    for token in [token_of(&expiring), token_of(&revoked), unknown] {
        let response = open(&app, &token, None).await;
        assert_eq!(response.status(), 404);
        bodies.push(response.text().await.unwrap());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");

    // An expiry in the past is refused at creation.
    let response = app
        .post_json(&path, &alice, &json!({"expiresAt": "2020-01-01T00:00:00Z"}))
        .await;
    assert_error(response, 422, "expiry_in_past").await;
}

#[tokio::test]
async fn deleted_photos_vanish_from_shares_and_a_deleted_album_takes_its_links() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let trip = trip(&app, &alice).await;
    let gallery_link = share(
        &app,
        &alice,
        &format!("/api/galleries/{}/shares", trip.gallery),
        json!({}),
    )
    .await;
    let album_link = share(
        &app,
        &alice,
        &format!("/api/albums/{}/shares", trip.albums[0]),
        json!({}),
    )
    .await;
    // The owner deletes a photo: gone from the gallery's link at once.
    let delete = |id: String| {
        let request = app
            .http
            .delete(app.url(&format!("/api/images/{id}")))
            .bearer_auth(&alice);
        async move { request.send().await.unwrap().status() }
    };
    let gone = trip.photos[0][0].clone();
    assert_eq!(delete(gone.clone()).await, 204);
    let view: Value = open(&app, &token_of(&gallery_link), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(!image_ids(&view).contains(&gone));
    assert_eq!(view["albums"][0]["imageCount"], 1);

    // And the album's other photo: the album, left empty, goes, and its link with it.
    assert_eq!(delete(trip.photos[0][1].clone()).await, 204);
    assert_error(
        open(&app, &token_of(&album_link), None).await,
        404,
        "not_found",
    )
    .await;
    let view: Value = open(&app, &token_of(&gallery_link), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["albums"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_member_sees_the_shared_album_and_nothing_else_until_removed() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let bob = app.token("bob");
    let trip = trip(&app, &alice).await;
    let members = format!("/api/albums/{}/members", trip.albums[0]);

    // Bob has never signed in: he is named by his subject.
    let response = app
        .post_json(&members, &alice, &json!({"subject": "bob"}))
        .await;
    assert_eq!(response.status(), 201);
    let member: Value = response.json().await.unwrap();
    assert_eq!(member["role"], "viewer");
    let again = app
        .post_json(
            &members,
            &alice,
            &json!({"subject": "bob", "role": "viewer"}),
        )
        .await;
    assert_eq!(again.status(), 200, "adding twice changes nothing");
    let list: Value = app.get(&members, &alice).await.json().await.unwrap();
    assert_eq!(list["members"].as_array().unwrap().len(), 1);
    assert_eq!(list["members"][0]["subject"], "bob");

    let mine: Value = app
        .get("/api/shared-with-me", &bob)
        .await
        .json()
        .await
        .unwrap();
    let albums = mine["albums"].as_array().unwrap();
    assert_eq!(albums.len(), 1);
    assert_eq!(albums[0]["albumId"], trip.albums[0].as_str());
    assert_eq!(albums[0]["imageCount"], 2);
    assert!(
        albums[0]["coverThumbUrl"]
            .as_str()
            .unwrap()
            .contains("renditions/")
    );
    let response = app
        .get(&format!("/api/shared-with-me/{}", trip.albums[0]), &bob)
        .await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let view: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(image_ids(&view), trip.photos[0]);
    assert!(!text.contains("54.91") && !text.contains("Fujifilm") && !text.contains("Westerland"));
    assert_eq!(view["downloads"], "preview");
    assert!(!text.contains("/uploads/"));

    // Never the owner's other albums, gallery or photos.
    for path in [
        format!("/api/shared-with-me/{}", trip.albums[1]),
        format!("/api/galleries/{}", trip.gallery),
        format!("/api/images/{}", trip.photos[0][0]),
        format!("/api/albums/{}/members", trip.albums[0]),
    ] {
        assert_error(app.get(&path, &bob).await, 404, "not_found").await;
    }
    // Only the owner manages members; nobody shares with themselves; one role.
    assert_error(
        app.post_json(&members, &bob, &json!({"subject": "carol"}))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.post_json(&members, &alice, &json!({"subject": "alice"}))
            .await,
        422,
        "cannot_share_with_yourself",
    )
    .await;
    assert_error(
        app.post_json(
            &members,
            &alice,
            &json!({"subject": "carol", "role": "editor"}),
        )
        .await,
        422,
        "invalid_role",
    )
    .await;

    let remove = format!("{members}/bob");
    let response = app.delete(&remove, &bob).await;
    assert_error(response, 404, "not_found").await;
    let response = app.delete(&remove, &alice).await;
    assert_eq!(response.status(), 204);
    let mine: Value = app
        .get("/api/shared-with-me", &bob)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["albums"], json!([]));
    assert_error(
        app.get(&format!("/api/shared-with-me/{}", trip.albums[0]), &bob)
            .await,
        404,
        "not_found",
    )
    .await;
    let response = app.delete(&remove, &alice).await;
    assert_error(response, 404, "not_found").await;
}

#[tokio::test]
async fn wrong_passwords_sent_all_at_once_get_no_more_checks_than_the_limit() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let trip = trip(&app, &alice).await;
    let created = share(
        &app,
        &alice,
        &format!("/api/galleries/{}/shares", trip.gallery),
        json!({"password": "right"}),
    )
    .await;
    let token = token_of(&created);
    // 30 guesses from one address at the same moment: each is counted before its
    // password is checked, so exactly the per-address limit of them are checked.
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..30 {
        let (app, token) = (app.app.clone(), token.clone());
        guesses.spawn(async move {
            let password = format!("guess {i}");
            share_links::open(
                &app,
                &token,
                Attempt {
                    password: Some(&password),
                    address: "203.0.113.50",
                },
            )
            .await
            .unwrap_err()
            .code()
        });
    }
    let mut codes = Vec::new();
    while let Some(code) = guesses.join_next().await {
        codes.push(code.unwrap());
    }
    let checked = codes.iter().filter(|c| **c == "wrong_password").count();
    let refused = codes.iter().filter(|c| **c == "too_many_attempts").count();
    assert_eq!(
        (checked, refused),
        (share_links::PASSWORD_FAILURES_PER_ADDRESS as usize, 25),
        "{codes:?}"
    );
    // Only the checked ones stay counted: the link as a whole has 5 of its 20.
    let counted: Vec<(String, i32)> = app
        .db
        .client()
        .await
        .query(
            "SELECT scope, failures FROM share_password_failures ORDER BY scope",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        counted,
        vec![("*".to_string(), 5), ("203.0.113.50".to_string(), 5)]
    );
}
