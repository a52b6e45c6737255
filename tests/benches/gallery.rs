//! GET /api/galleries/{id} for a gallery of 1,000 photos in 40 albums:
//! - `sql`: the album/image query alone (the floor: what PostgreSQL costs),
//! - `use_case`: that query plus the gallery row and 1,000 presigned GETs,
//! - `http`: the whole request through axum on loopback, JSON included.
//!
//! And the same photos through share links (`shares`): the whole gallery and one album of
//! 25 as a person without an account opens them, with and without a password, beside the
//! argon2id check alone.
//!
//! Run: `cargo bench -p momentarium-tests --bench gallery` (needs the PostgreSQL the tests use).

#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use momentarium_shared::adapter::s3::ServeAs;
use momentarium_shared::contract::CreateShareRequest;
use momentarium_shared::domain::prepare::Size;
use momentarium_shared::domain::share::{hash_password, verify_password};
use momentarium_shared::domain::{Caller, ContentType, ImageKey};
use momentarium_shared::repo::galleries::{self, NewAlbum};
use momentarium_shared::usecase::read_galleries::get_gallery;
use momentarium_shared::usecase::share_links::{self, Target};
use momentarium_tests::TestApp;
use uuid::Uuid;

const IMAGES: usize = 1_000;
const ALBUMS: usize = 40;

struct Fixture {
    app: TestApp,
    caller: Caller,
    gallery_id: Uuid,
    token: String,
}

async fn arrange() -> Fixture {
    let app = TestApp::spawn().await;
    let client = app.db.client().await;
    let user_id: Uuid = client
        .query_one(
            "INSERT INTO users (subject) VALUES ('bench') RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let image_ids: Vec<Uuid> = (0..IMAGES).map(|_| Uuid::now_v7()).collect();
    let keys: Vec<String> = image_ids
        .iter()
        .map(|id| format!("uploads/{user_id}/{id}"))
        .collect();
    client
        .execute(
            "INSERT INTO images (id, user_id, storage_key, original_filename, declared_content_type, declared_size, \
                                 status, width, height, taken_at, caption, tags, detected_content_type, renditions) \
             SELECT id, $1, key, 'IMG_' || ord || '.jpg', 'image/jpeg', 3000000, 'uploaded', 4032, 3024, \
                    now() - (ord || ' minutes')::interval, 'A caption for photo ' || ord, ARRAY['beach', 'sunset'], \
                    'image/jpeg', true \
             FROM UNNEST($2::uuid[], $3::text[]) WITH ORDINALITY AS t(id, key, ord)",
            &[&user_id, &image_ids, &keys],
        )
        .await
        .unwrap();
    let gallery_id = Uuid::now_v7();
    client
        .execute(
            "INSERT INTO galleries (id, user_id) VALUES ($1, $2)",
            &[&gallery_id, &user_id],
        )
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO processing_jobs (id, user_id, gallery_id, image_ids, status, completed_at) \
             VALUES ($1, $2, $3, $4, 'completed', now())",
            &[&Uuid::now_v7(), &user_id, &gallery_id, &image_ids[..50].to_vec()],
        )
        .await
        .unwrap();
    let albums: Vec<NewAlbum> = image_ids
        .chunks(IMAGES / ALBUMS)
        .enumerate()
        .map(|(i, chunk)| NewAlbum {
            id: Uuid::now_v7(),
            title: format!("Album {i}"),
            description: "Twenty-five photos of a day by the sea.".into(),
            cover_image_id: Some(chunk[0]),
            image_ids: chunk.to_vec(),
        })
        .collect();
    galleries::insert_albums(&client, user_id, gallery_id, &albums)
        .await
        .unwrap();
    client.batch_execute("ANALYZE").await.unwrap();
    drop(client);
    let token = app.token("bench");
    Fixture {
        caller: Caller {
            user_id,
            subject: "bench".into(),
        },
        app,
        gallery_id,
        token,
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let f = rt.block_on(arrange());
    let mut group = c.benchmark_group("gallery_1000_images_40_albums");

    group.bench_function("sql", |b| {
        b.to_async(&rt).iter(|| async {
            let client = f.app.db.pool.get().await.unwrap();
            let rows = galleries::album_images(&client, f.caller.user_id, f.gallery_id)
                .await
                .unwrap();
            assert_eq!(rows.len(), IMAGES);
        })
    });
    group.bench_function("use_case", |b| {
        b.to_async(&rt).iter(|| async {
            let view = get_gallery(&f.app.app, &f.caller, f.gallery_id, None)
                .await
                .unwrap();
            assert_eq!(view.albums.len(), ALBUMS);
        })
    });
    let url = f.app.url(&format!("/api/galleries/{}", f.gallery_id));
    let first_page = format!("{url}?limit=100");
    for (name, url, at_least) in [
        ("http", &url, 100_000),
        ("http_first_page_of_100", &first_page, 10_000),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let response = f
                    .app
                    .http
                    .get(url)
                    .bearer_auth(&f.token)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                let bytes = response.bytes().await.unwrap();
                assert!(bytes.len() > at_least);
            })
        });
    }
    group.finish();

    // The same photos through share links.
    let (gallery_link, album_link, locked_link) = rt.block_on(async {
        let album_id: Uuid = f
            .app
            .db
            .client()
            .await
            .query_one(
                "SELECT id FROM albums WHERE gallery_id = $1 ORDER BY position LIMIT 1",
                &[&f.gallery_id],
            )
            .await
            .unwrap()
            .get(0);
        let make = |target, password: Option<&str>| {
            let request = CreateShareRequest {
                password: password.map(str::to_string),
                ..CreateShareRequest::default()
            };
            share_links::create(&f.app.app, &f.caller, target, request)
        };
        (
            make(Target::Gallery(f.gallery_id), None)
                .await
                .unwrap()
                .token,
            make(Target::Album(album_id), None).await.unwrap().token,
            make(Target::Album(album_id), Some("lighthouse"))
                .await
                .unwrap()
                .token,
        )
    });
    let mut group = c.benchmark_group("shares");
    let phc = hash_password("lighthouse").unwrap();
    group.bench_function("argon2id_verify", |b| {
        b.iter(|| assert!(verify_password("lighthouse", &phc)))
    });
    let shared = |token: &str| f.app.url(&format!("/api/shared/{token}"));
    for (name, url, password, at_least) in [
        (
            "http_gallery_link_1000",
            shared(&gallery_link),
            None,
            100_000,
        ),
        ("http_album_link_25", shared(&album_link), None, 5_000),
        (
            "http_album_link_25_password",
            shared(&locked_link),
            Some("lighthouse"),
            5_000,
        ),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let mut request = f.app.http.get(&url);
                if let Some(p) = password {
                    request = request.header("share-password", p);
                }
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 200);
                assert!(response.bytes().await.unwrap().len() > at_least);
            })
        });
    }
    group.finish();

    // What those URLs cost alone: 1,000 photos × 3 (original, thumbnail, preview).
    let keys: Vec<ImageKey> = rt.block_on(async {
        let client = f.app.db.pool.get().await.unwrap();
        galleries::album_images(&client, f.caller.user_id, f.gallery_id)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|r| r.image_id)
            .map(|id| ImageKey::new(f.caller.user_id, id))
            .collect()
    });
    let mut group = c.benchmark_group("urls_3000");
    let storage = f.app.storage();
    group.bench_function("sdk_presigned", |b| {
        b.to_async(&rt).iter(|| async {
            for key in &keys {
                for object in [
                    key.to_string(),
                    key.rendition(Size::Thumb),
                    key.rendition(Size::Preview),
                ] {
                    let presigning =
                        PresigningConfig::expires_in(Duration::from_secs(3600)).unwrap();
                    let url = storage
                        .client()
                        .get_object()
                        .bucket(storage.bucket())
                        .key(object)
                        .presigned(presigning)
                        .await
                        .unwrap();
                    std::hint::black_box(url.uri());
                }
            }
        })
    });
    // Before: the same URLs through `aws_sigv4::http_request::sign`, which derives the
    // signing key and builds the canonical request for every URL (what `url_signer` did
    // until it kept the day's key).
    // Signing cost does not depend on whose keys these are.
    let credentials = aws_credential_types::Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        None,
        None,
        "bench",
    );
    let identity: aws_smithy_runtime_api::client::identity::Identity = credentials.into();
    let base = format!("http://127.0.0.1:9000/{}", storage.bucket());
    group.bench_function("aws_sigv4_request_signer", |b| {
        b.iter(|| {
            for key in &keys {
                std::hint::black_box(sign_per_url(&base, &identity, &key.to_string(), true));
                std::hint::black_box(sign_per_url(
                    &base,
                    &identity,
                    &key.rendition(Size::Thumb),
                    false,
                ));
                std::hint::black_box(sign_per_url(
                    &base,
                    &identity,
                    &key.rendition(Size::Preview),
                    false,
                ));
            }
        })
    });
    group.bench_function("aws_sigv4_signer", |b| {
        b.to_async(&rt).iter(|| async {
            let urls = storage.url_signer().await.unwrap();
            for key in &keys {
                std::hint::black_box(
                    urls.original(
                        key,
                        ServeAs {
                            content_type: Some(ContentType::Jpeg),
                        },
                    )
                    .unwrap(),
                );
                std::hint::black_box(urls.rendition(key, Size::Thumb).unwrap());
                std::hint::black_box(urls.rendition(key, Size::Preview).unwrap());
            }
        })
    });
    group.finish();
    drop(f);
}

/// One presigned GET through aws-sigv4's request signer (key derived for this URL alone).
fn sign_per_url(
    base: &str,
    identity: &aws_smithy_runtime_api::client::identity::Identity,
    key: &str,
    original: bool,
) -> String {
    use aws_sigv4::http_request::{
        PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
        UriPathNormalizationMode, sign,
    };
    let mut url = format!("{base}/{key}");
    if original {
        url.push_str("?response-content-disposition=inline&response-content-type=image%2Fjpeg");
    }
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(4500));
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(identity)
        .region("us-east-1")
        .name("s3")
        .time(std::time::SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let request = SignableRequest::new(
        "GET",
        url.as_str(),
        std::iter::empty(),
        SignableBody::UnsignedPayload,
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    for (name, value) in instructions.params() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(name);
        url.push('=');
        url.push_str(value);
    }
    url
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
