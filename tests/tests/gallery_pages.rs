//! A large gallery pages its photos: `?limit=&cursor=` walks them in gallery order, every
//! page lists every album with its count, and the pages together are the whole gallery.

#![allow(clippy::unwrap_used)]

use momentarium_shared::repo::galleries::{NewAlbum, insert_albums};
use momentarium_tests::TestApp;
use momentarium_tests::photos::{self, Exif};
use serde_json::Value;
use uuid::Uuid;

/// Seven photos in albums of 3, 1 and 3; returns the gallery id and the photo ids in
/// gallery order.
async fn gallery(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let files: Vec<(String, Vec<u8>)> = (0..7)
        .map(|i| {
            (
                format!("p{i}.jpg"),
                photos::jpeg(40, 30, [i * 30, 50, 90], &Exif::default()),
            )
        })
        .collect();
    let specs: Vec<(&str, &str, Vec<u8>)> = files
        .iter()
        .map(|(n, b)| (n.as_str(), "image/jpeg", b.clone()))
        .collect();
    let ids = app.upload_photos(token, &specs).await;
    let accepted = app.process(token, &ids).await;
    let gallery = accepted["galleryId"].as_str().unwrap().to_string();
    let client = app.db.client().await;
    let user: Uuid = client
        .query_one("SELECT id FROM users WHERE subject = 'alice'", &[])
        .await
        .unwrap()
        .get(0);
    let uuids: Vec<Uuid> = ids.iter().map(|i| Uuid::parse_str(i).unwrap()).collect();
    let albums: Vec<NewAlbum> = [&uuids[0..3], &uuids[3..4], &uuids[4..7]]
        .iter()
        .enumerate()
        .map(|(i, chunk)| NewAlbum {
            id: Uuid::now_v7(),
            title: format!("Album {i}"),
            description: String::new(),
            cover_image_id: Some(chunk[0]),
            image_ids: chunk.to_vec(),
        })
        .collect();
    insert_albums(&client, user, Uuid::parse_str(&gallery).unwrap(), &albums)
        .await
        .unwrap();
    (gallery, ids)
}

fn photo_ids(page: &Value) -> Vec<String> {
    page["albums"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["images"].as_array().unwrap().clone())
        .map(|i| i["imageId"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn pages_walk_the_photos_in_gallery_order_and_add_up_to_the_whole() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let (gallery, ids) = gallery(&app, &token).await;

    let whole: Value = app
        .get(&format!("/api/galleries/{gallery}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(photo_ids(&whole), ids);
    assert!(whole["nextCursor"].is_null());

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => format!("/api/galleries/{gallery}?limit=2"),
            Some(c) => format!("/api/galleries/{gallery}?limit=2&cursor={c}"),
        };
        let response = app.get(&path, &token).await;
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.unwrap();
        let albums = page["albums"].as_array().unwrap();
        assert_eq!(albums.len(), 3, "every album on every page");
        let counts: Vec<u64> = albums
            .iter()
            .map(|a| a["imageCount"].as_u64().unwrap())
            .collect();
        assert_eq!(counts, [3, 1, 3]);
        let on_page = photo_ids(&page);
        sizes.push(on_page.len());
        seen.extend(on_page);
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        assert!(sizes.len() < 10, "the pages do not end");
    }
    assert_eq!(sizes, [2, 2, 2, 1]);
    assert_eq!(seen, ids, "the pages, in order, are the whole gallery");
}

#[tokio::test]
async fn a_cursor_alone_pages_by_the_default_and_bad_paging_is_a_400() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let (gallery, ids) = gallery(&app, &token).await;
    let first: Value = app
        .get(&format!("/api/galleries/{gallery}?limit=3"), &token)
        .await
        .json()
        .await
        .unwrap();
    let cursor = first["nextCursor"].as_str().unwrap();
    let rest: Value = app
        .get(&format!("/api/galleries/{gallery}?cursor={cursor}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(photo_ids(&rest), ids[3..].to_vec());
    assert!(rest["nextCursor"].is_null());

    for (query, code) in [
        ("limit=0", "invalid_limit"),
        ("limit=501", "invalid_limit"),
        ("limit=ten", "invalid_query"),
        ("cursor=bm90LWEtY3Vyc29y", "invalid_cursor"),
        ("cursor=%F0%9F%98%80", "invalid_cursor"),
    ] {
        let response = app
            .get(&format!("/api/galleries/{gallery}?{query}"), &token)
            .await;
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{query}");
    }
}
