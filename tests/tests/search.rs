//! Places and search, end to end: photos uploaded with EXIF (times, GPS), organised by
//! the Gemini-protocol server (captions, tags, albums), embedded by the same server with
//! vectors computed from their words, stored in pgvector, and found again by date words,
//! places, caption words, phrases, negation and meaning. Another user's photos never
//! appear; hostile queries get 200 or a clear 4xx.

#![allow(clippy::unwrap_used)]

use chrono::{Datelike, Utc};
use momentarium_tests::gemini::{GeminiServer, Reply};
use momentarium_tests::photos::{self, Exif};
use momentarium_tests::{TestApp, admin_url};
use serde_json::{Value, json};
use uuid::Uuid;

/// The summer "last summer" means today: this year's once it is over, else last year's.
fn last_summer_year() -> i32 {
    let today = Utc::now().date_naive();
    if today.month() >= 9 {
        today.year()
    } else {
        today.year() - 1
    }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

struct Photo {
    name: &'static str,
    exif: Exif,
    caption: &'static str,
    tags: &'static [&'static str],
}

/// Alice's labelled set, in upload order (the photo numbers the model sees).
fn alices_photos() -> Vec<Photo> {
    let y = last_summer_year();
    let at = |t: String, offset: &'static str, gps: Option<(f64, f64)>| Exif {
        taken: Some(leak(t)),
        offset: Some(offset),
        gps,
        make: Some("Google"),
        model: Some("Pixel 8"),
        ..Exif::default()
    };
    vec![
        Photo {
            name: "IMG_0001.jpg",
            // Cascais, on the coast west of Lisbon, at 20:30.
            exif: at(
                format!("{y}:07:15 20:30:00"),
                "+01:00",
                Some((38.6979, -9.4215)),
            ),
            caption: "Sunset over the beach at the end of the day",
            tags: &["beach", "sunset"],
        },
        Photo {
            name: "IMG_0002.jpg",
            // Westerland, Sylt, at noon.
            exif: at(
                format!("{y}:08:02 12:00:00"),
                "+02:00",
                Some((54.9079, 8.3089)),
            ),
            caption: "Kids building a sandcastle on the beach",
            tags: &["beach", "sand"],
        },
        Photo {
            name: "IMG_0003.jpg",
            // Lisbon, at 21:00 (night, not evening).
            exif: at(
                format!("{y}:07:16 21:00:00"),
                "+01:00",
                Some((38.7077, -9.1365)),
            ),
            caption: "Grilled sardines for dinner",
            tags: &["dinner", "food"],
        },
        Photo {
            name: "IMG_0004.jpg",
            // Zermatt.
            exif: at(
                "2025:05:10 09:40:00".into(),
                "+02:00",
                Some((46.0207, 7.7491)),
            ),
            caption: "Snowy mountain above the valley",
            tags: &["mountain", "snow"],
        },
        Photo {
            name: "IMG_0005.jpg",
            // Berlin, 17:30.
            exif: at(
                "2019:04:03 17:30:00".into(),
                "+02:00",
                Some((52.5200, 13.4050)),
            ),
            caption: "A dog chasing a ball in the park",
            tags: &["dog", "park"],
        },
        Photo {
            name: "IMG_0006.jpg",
            exif: Exif::default(),
            caption: "Cat asleep on the sofa",
            tags: &["cat", "home"],
        },
    ]
}

fn plan_for(photos: &[Photo], albums: Value) -> Reply {
    let texts: Vec<Value> = photos
        .iter()
        .enumerate()
        .map(|(i, p)| json!({"photo": i + 1, "caption": p.caption, "tags": p.tags}))
        .collect();
    Reply::answer(json!({"albums": albums, "photos": texts}))
}

struct Library {
    app: TestApp,
    gemini: GeminiServer,
    alice: String,
    bob: String,
    /// Alice's photos, in the order of [`alices_photos`].
    ids: Vec<String>,
    bobs: String,
}

async fn library() -> Library {
    let photos = alices_photos();
    let gemini = GeminiServer::start(vec![
        plan_for(
            &photos,
            json!([
                {"title": "Portugal Summer", "description": "Evenings on the Atlantic coast.", "cover": 1, "photos": [1, 3]},
                {"title": "Sylt", "description": "A day at the North Sea.", "cover": 2, "photos": [2]},
                {"title": "Alps", "description": "A spring hike.", "cover": 4, "photos": [4]},
                {"title": "Berlin Park", "description": "Playing outside.", "cover": 5, "photos": [5]},
                {"title": "Home", "description": "Quiet days.", "cover": 6, "photos": [6]}
            ]),
        ),
        plan_for(
            &[Photo {
                name: "bob.jpg",
                exif: Exif::default(),
                caption: "Sunset over the beach at the end of the day",
                tags: &["beach", "sunset"],
            }],
            json!([{"title": "Portugal Summer", "description": "Bob's beach.", "cover": 1, "photos": [1]}]),
        ),
    ])
    .await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    let (alice, bob) = (app.token("alice"), app.token("bob"));
    let files: Vec<(&str, &str, Vec<u8>)> = photos
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let tint = [(i * 40) as u8, 90, 200 - (i * 30) as u8];
            (p.name, "image/jpeg", photos::jpeg(48, 32, tint, &p.exif))
        })
        .collect();
    let ids = app.upload_photos(&alice, &files).await;
    let job = app.process_job_id(&alice, &ids).await;
    app.run_job_now(job).await.unwrap();
    // Bob's photo: the same words, in Portugal, the same day.
    let y = last_summer_year();
    let bob_exif = Exif {
        taken: Some(leak(format!("{y}:07:15 20:30:00"))),
        offset: Some("+01:00"),
        gps: Some((38.6979, -9.4215)),
        ..Exif::default()
    };
    let bobs = app
        .upload_photos(
            &bob,
            &[(
                "IMG_0001.jpg",
                "image/jpeg",
                photos::jpeg(48, 32, [200, 90, 10], &bob_exif),
            )],
        )
        .await
        .remove(0);
    let job = app.process_job_id(&bob, std::slice::from_ref(&bobs)).await;
    app.run_job_now(job).await.unwrap();
    assert_eq!(gemini.violations(), Vec::<String>::new());
    Library {
        app,
        gemini,
        alice,
        bob,
        ids,
        bobs,
    }
}

async fn search(app: &TestApp, token: &str, query: &str) -> (u16, Value) {
    let response = app.get(&format!("/api/search?{query}"), token).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn found(l: &Library, q: &str) -> Value {
    let encoded: String = url_encode(q);
    let (status, body) = search(&l.app, &l.alice, &format!("q={encoded}")).await;
    assert_eq!(status, 200, "{q}: {body}");
    // Never another user's photo.
    for hit in body["results"].as_array().unwrap() {
        assert_ne!(
            hit["imageId"],
            l.bobs.as_str(),
            "{q}: bob's photo in alice's results"
        );
    }
    body
}

fn url_encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The positions (0-based, in Alice's list) of the results, in order.
fn order(l: &Library, body: &Value) -> Vec<usize> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            l.ids
                .iter()
                .position(|id| h["imageId"] == id.as_str())
                .unwrap_or(usize::MAX)
        })
        .collect()
}

#[tokio::test]
async fn places_are_found_offline_and_shown() {
    let l = library().await;
    let client = l.app.db.client().await;
    let rows = client
        .query(
            "SELECT id::text, place, region, country_code FROM images WHERE user_id = \
             (SELECT id FROM users WHERE subject = 'alice')",
            &[],
        )
        .await
        .unwrap();
    let place_of = |i: usize| {
        rows.iter()
            .find(|r| r.get::<_, String>(0) == l.ids[i])
            .map(|r| (r.get::<_, Option<String>>(1), r.get::<_, Option<String>>(3)))
            .unwrap()
    };
    assert_eq!(place_of(0), (Some("Cascais".into()), Some("PT".into())));
    assert_eq!(place_of(1), (Some("Westerland".into()), Some("DE".into())));
    assert_eq!(place_of(3).1.as_deref(), Some("CH"));
    assert_eq!(place_of(5), (None, None));
    // The image's details carry the place.
    let details: Value = l
        .app
        .get(&format!("/api/images/{}", l.ids[0]), &l.alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(details["place"]["name"], "Cascais");
    assert_eq!(details["place"]["countryCode"], "PT");
    // The model was told where each photo was taken.
    let prompt = l.gemini.seen()[0].texts.join("\n");
    assert!(prompt.contains("in Cascais, Portugal"), "{prompt}");
    assert!(
        prompt.contains("in Westerland, Germany (Schleswig-Holstein)"),
        "{prompt}"
    );
}

#[tokio::test]
async fn queries_by_dates_places_words_phrases_and_negation_find_the_right_photos() {
    let l = library().await;
    let y = last_summer_year();

    // The example: a date range, a country and words, read and matched.
    let body = found(&l, "beach at sunset in Portugal last summer").await;
    assert_eq!(body["understood"]["from"], format!("{y}-06-01"));
    assert_eq!(body["understood"]["to"], format!("{y}-08-31"));
    assert_eq!(body["understood"]["place"]["countryCode"], "PT");
    assert_eq!(body["understood"]["text"], "beach at sunset");
    assert_eq!(body["mode"], "hybrid", "{body}");
    assert_eq!(order(&l, &body).first(), Some(&0), "{body}");
    // Only photos in Portugal that summer at all.
    assert!(
        order(&l, &body).iter().all(|i| [0, 2].contains(i)),
        "{body}"
    );
    let hit = &body["results"][0];
    assert_eq!(hit["place"]["name"], "Cascais");
    assert_eq!(hit["albumTitle"], "Portugal Summer");
    assert!(hit["galleryId"].is_string() && hit["thumbUrl"].is_string());

    // Caption words.
    assert_eq!(order(&l, &found(&l, "sardines").await), vec![2]);
    assert_eq!(order(&l, &found(&l, "dinner").await).first(), Some(&2));
    // Date words alone: all of that time, newest first.
    let body = found(&l, "2019").await;
    assert_eq!(order(&l, &body), vec![4]);
    assert_eq!(body["understood"]["text"], "");
    assert_eq!(order(&l, &found(&l, "May 2025").await), vec![3]);
    // A part of the day, in local time: 20:30 and 17:30 are evening, 21:00 is not.
    let mut evening = order(&l, &found(&l, "in the evening").await);
    evening.sort();
    assert_eq!(evening, vec![0, 4]);
    // Places by name: a town of the caller's, a country by name and by code.
    assert_eq!(order(&l, &found(&l, "Westerland").await), vec![1]);
    let body = found(&l, "switzerland").await;
    assert_eq!(body["understood"]["place"]["countryCode"], "CH");
    assert_eq!(order(&l, &body), vec![3]);
    let mut pt = order(&l, &found(&l, "PT").await);
    pt.sort();
    assert_eq!(pt, vec![0, 2]);
    // Album titles and file names are searched too.
    let mut album = order(&l, &found(&l, "\"Berlin Park\"").await);
    album.truncate(1);
    assert_eq!(album, vec![4]);
    assert_eq!(order(&l, &found(&l, "IMG_0006").await).first(), Some(&5));
    // A phrase, and a word excluded (on both the keyword and the semantic side).
    assert_eq!(
        order(&l, &found(&l, "\"sandcastle on the beach\"").await).first(),
        Some(&1)
    );
    let body = found(&l, "beach -sunset").await;
    assert_eq!(order(&l, &body).first(), Some(&1), "{body}");
    assert!(!order(&l, &body).contains(&0), "{body}");
    // Only stop words: the keyword side adds nothing, so nothing unrelated comes back.
    let body = found(&l, "where were we").await;
    assert_eq!(
        (body["mode"].as_str(), body["total"].as_u64()),
        (Some("hybrid"), Some(0)),
        "{body}"
    );
    // Meaning, where no word matches: "seaside" finds the beaches only semantically.
    let body = found(&l, "seaside").await;
    assert_eq!(body["mode"], "hybrid");
    let seaside = order(&l, &body);
    assert!(seaside.len() >= 2, "{body}");
    let mut top: Vec<usize> = seaside[..2].to_vec();
    top.sort();
    assert_eq!(top, vec![0, 1], "{body}");
    // Explicit filters override what the words said.
    let (status, body) = search(&l.app, &l.alice, "q=2019&from=2025-01-01&to=2025-12-31").await;
    assert_eq!(status, 200);
    assert_eq!(order(&l, &body), vec![3]);
    let album_id = found(&l, "sardines").await["results"][0]["albumId"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, body) = search(&l.app, &l.alice, &format!("album={album_id}")).await;
    let mut in_album = order(&l, &body);
    in_album.sort();
    assert_eq!(in_album, vec![0, 2]);
    let (_, body) = search(&l.app, &l.alice, "place=Cascais").await;
    assert_eq!(order(&l, &body), vec![0]);

    // Bob sees his own photo and none of Alice's.
    let (status, body) = search(&l.app, &l.bob, "q=beach").await;
    assert_eq!(status, 200);
    let hits: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["imageId"].as_str().unwrap())
        .collect();
    assert_eq!(hits, vec![l.bobs.as_str()]);

    // Every query embedded, and every embedding call recorded with its tokens.
    let embedded = l.gemini.embedded();
    assert!(
        embedded
            .iter()
            .any(|(t, task)| t == "seaside" && task == "RETRIEVAL_QUERY")
    );
    assert!(
        embedded.iter().any(|(t, task)| t.contains("sardines")
            && t.contains("Album: Portugal Summer.")
            && task == "RETRIEVAL_DOCUMENT"),
        "{embedded:?}"
    );
    let client = l.app.db.client().await;
    let row = client
        .query_one(
            "SELECT count(*), min(input_tokens), bool_and(ok) FROM ai_calls WHERE purpose = 'embed'",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, i64>(0) >= 3);
    assert!(row.get::<_, i32>(1) > 0);
    assert!(row.get::<_, bool>(2));
    let stored: i64 = client
        .query_one("SELECT count(*) FROM image_embeddings", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 7, "six of Alice's and Bob's one");
}

#[tokio::test]
async fn more_like_this_history_and_paging() {
    let l = library().await;
    // More like the sunset beach: another photo that shares its words, never itself.
    let (status, body) = search(&l.app, &l.alice, &format!("similarTo={}", l.ids[0])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["mode"], "similar");
    let similar = order(&l, &body);
    assert!(!similar.contains(&0));
    assert!([1, 2].contains(&similar[0]), "{body}");
    // Someone else's photo is not found.
    let (status, body) = search(&l.app, &l.alice, &format!("similarTo={}", l.bobs)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );

    // A cursor belongs to its search: another search's is refused.
    let (_, first) = search(&l.app, &l.alice, "q=beach&limit=1").await;
    let cursor = first["nextCursor"].as_str().unwrap().to_string();
    let (status, body) = search(
        &l.app,
        &l.alice,
        &format!("q=dinner&limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_cursor"))
    );
    // A page that can no longer be ranked as the first was says so, never skips.
    l.gemini
        .push_embed(Reply::Error(503, "UNAVAILABLE", vec![]));
    let (status, body) = search(
        &l.app,
        &l.alice,
        &format!("q=beach&limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("search_changed")),
        "{body}"
    );
    let (status, second) = search(
        &l.app,
        &l.alice,
        &format!("q=beach&limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(
        second["results"][0]["imageId"],
        first["results"][0]["imageId"]
    );

    // Pages: six photos, four and two, none twice.
    let (_, first) = search(&l.app, &l.alice, "limit=4").await;
    assert_eq!(first["results"].as_array().unwrap().len(), 4);
    assert_eq!(first["total"], 6);
    let cursor = first["nextCursor"].as_str().unwrap();
    let (_, second) = search(&l.app, &l.alice, &format!("limit=4&cursor={cursor}")).await;
    assert_eq!(second["results"].as_array().unwrap().len(), 2);
    assert!(second["nextCursor"].is_null());
    let mut all = order(&l, &first);
    all.extend(order(&l, &second));
    all.sort();
    assert_eq!(all, vec![0, 1, 2, 3, 4, 5]);

    // History: the latest distinct queries with their counts, the caller's alone.
    for q in ["dinner", "2019", "Dinner"] {
        found(&l, q).await;
    }
    let history: Value = l
        .app
        .get("/api/search/history", &l.alice)
        .await
        .json()
        .await
        .unwrap();
    let queries: Vec<&str> = history["searches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["query"].as_str().unwrap())
        .collect();
    assert_eq!(queries, vec!["Dinner", "2019", "beach"]);
    assert_eq!(history["searches"][1]["resultCount"], 1);
    let bobs: Value = l
        .app
        .get("/api/search/history", &l.bob)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bobs["searches"], json!([]));
    let cleared: Value = l
        .app
        .delete("/api/search/history", &l.alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["deleted"], 4);
    let history: Value = l
        .app
        .get("/api/search/history", &l.alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["searches"], json!([]));
}

#[tokio::test]
async fn hostile_and_malformed_queries_get_200_or_a_clear_4xx() {
    let l = library().await;
    let long = "a".repeat(10 * 1024);
    let cases: Vec<(String, u16, Option<&str>)> = vec![
        // Past the request-line limit, then past the query's own.
        (format!("q={long}"), 414, Some("uri_too_long")),
        (
            format!("q={}", "a".repeat(600)),
            422,
            Some("query_too_long"),
        ),
        (
            format!("q={}", url_encode("'; DROP TABLE images; --")),
            200,
            None,
        ),
        (
            format!("q={}", url_encode("a & b | !c <-> d:* ) (")),
            200,
            None,
        ),
        (
            format!("q={}", url_encode("\"\"\" - -- \"unclosed")),
            200,
            None,
        ),
        (format!("q={}", url_encode("🏖️ 日本 Ünïcödé")), 200, None),
        ("q=".into(), 200, None),
        ("q=the".into(), 200, None),
        ("q=%00".into(), 400, Some("invalid_query")),
        ("q=%FF%FE".into(), 200, None),
        ("sort=date".into(), 400, Some("invalid_query")),
        ("q=a&q=b".into(), 400, Some("invalid_query")),
        ("limit=0".into(), 400, Some("invalid_limit")),
        ("limit=101".into(), 400, Some("invalid_limit")),
        ("limit=abc".into(), 400, Some("invalid_limit")),
        ("cursor=zzz".into(), 400, Some("invalid_cursor")),
        ("from=2025-13-01".into(), 400, Some("invalid_date")),
        (
            "from=2025-06-01&to=2025-05-01".into(),
            422,
            Some("invalid_range"),
        ),
        ("album=nope".into(), 400, Some("invalid_id")),
        ("similarTo=nope".into(), 400, Some("invalid_id")),
        (
            format!("similarTo={}", Uuid::new_v4()),
            404,
            Some("not_found"),
        ),
        (
            format!("place={}", "x".repeat(300)),
            400,
            Some("invalid_place"),
        ),
    ];
    for (query, status, code) in cases {
        let (got, body) = search(&l.app, &l.alice, &query).await;
        let shown: String = query.chars().take(60).collect();
        assert_eq!(got, status, "{shown}: {body}");
        if let Some(code) = code {
            assert_eq!(body["error"]["code"], code, "{shown}: {body}");
            assert!(body["error"]["message"].as_str().unwrap().len() > 10);
        } else {
            for hit in body["results"].as_array().unwrap() {
                assert_ne!(hit["imageId"], l.bobs.as_str());
            }
        }
    }
    // The empty query lists everything, newest first; a stop word alone matches no
    // word and means nothing.
    let (_, body) = search(&l.app, &l.alice, "q=").await;
    assert_eq!(body["total"], 6);
    assert_eq!(order(&l, &body)[..2], [1, 2]);
    let (_, body) = search(&l.app, &l.alice, "q=the").await;
    assert_eq!(body["total"], 0, "{body}");
    // Without a token: 401.
    let response = l
        .app
        .http
        .get(l.app.url("/api/search?q=beach"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_failed_or_slow_embedding_call_answers_from_keywords_and_says_so() {
    let l = library().await;
    l.gemini
        .push_embed(Reply::Error(503, "UNAVAILABLE", vec![]));
    let body = found(&l, "sardines").await;
    assert_eq!(body["mode"], "keyword");
    assert!(
        body["modeReason"].as_str().unwrap().contains("unavailable"),
        "{body}"
    );
    assert_eq!(order(&l, &body), vec![2]);
    // An answer that is not vectors is refused the same way.
    l.gemini.push_embed(Reply::Text("not an embedding".into()));
    let body = found(&l, "dinner").await;
    assert_eq!(body["mode"], "keyword");
    // A hang: the search answers within its 3 s wait.
    l.gemini
        .push_embed(Reply::Hang(std::time::Duration::from_secs(30)));
    let started = std::time::Instant::now();
    let body = found(&l, "dinner").await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(body["mode"], "keyword");
    assert_eq!(order(&l, &body).first(), Some(&2));
    // The failed calls are recorded too.
    let failed: i64 = l
        .app
        .db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM ai_calls WHERE purpose = 'embed' AND NOT ok",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(failed, 3);
}

#[tokio::test]
async fn without_a_key_or_without_pgvector_search_is_keyword_only_and_says_why() {
    // No Gemini key: offline albums named after the place, keyword search.
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let exif = |t: &'static str| Exif {
        taken: Some(t),
        offset: Some("+02:00"),
        gps: Some((54.9079, 8.3089)),
        ..Exif::default()
    };
    let ids = app
        .upload_photos(
            &alice,
            &[
                (
                    "a.jpg",
                    "image/jpeg",
                    photos::jpeg(40, 30, [10, 80, 160], &exif("2025:08:02 18:05:00")),
                ),
                (
                    "b.jpg",
                    "image/jpeg",
                    photos::jpeg(40, 30, [12, 82, 150], &exif("2025:08:02 18:40:00")),
                ),
            ],
        )
        .await;
    let job = app.process_job_id(&alice, &ids).await;
    app.run_job_now(job).await.unwrap();
    let (status, body) = search(&app, &alice, "q=westerland").await;
    assert_eq!(status, 200);
    assert_eq!(body["mode"], "keyword");
    // A place alone leaves no words to embed: nothing to explain.
    assert!(body["modeReason"].is_null(), "{body}");
    assert_eq!(body["understood"]["place"]["name"], "Westerland");
    assert_eq!(body["total"], 2);
    // The offline organiser titled the album with the place.
    assert_eq!(
        body["results"][0]["albumTitle"],
        "Saturday Evening in Westerland, 2 August 2025"
    );
    // Words of the offline title and description are searchable.
    let (_, body) = search(&app, &alice, "q=saturday%20germany").await;
    assert_eq!(body["total"], 2, "{body}");
    assert_eq!(body["understood"]["place"]["countryCode"], "DE");
    assert_eq!(body["mode"], "keyword");
    assert!(
        body["modeReason"]
            .as_str()
            .unwrap()
            .contains("GEMINI_API_KEY"),
        "{body}"
    );

    // A key but a database without pgvector: keyword search, said plainly.
    let gemini = GeminiServer::start(vec![]).await;
    let app = TestApp::spawn_with_gemini(&gemini, &[]).await;
    app.db
        .client()
        .await
        .batch_execute("DROP TABLE image_embeddings; DROP EXTENSION vector")
        .await
        .unwrap();
    let token = app.token("carol");
    let (status, body) = search(&app, &token, "q=anything").await;
    assert_eq!(status, 200);
    assert_eq!(body["mode"], "keyword");
    assert_eq!(body["modeReason"], "this database has no pgvector");
    assert!(gemini.embedded().is_empty());
    // More like this, too, from the photo's words.
    let photo = app.upload_samples(&token, 1).await.remove(0);
    let (status, body) = search(&app, &token, &format!("similarTo={photo}")).await;
    assert_eq!(
        (status, body["mode"].as_str()),
        (200, Some("keyword")),
        "{body}"
    );
    assert_eq!(body["modeReason"], "this database has no pgvector");
}

/// The migrations on a server without pgvector (Debian's PostgreSQL, at
/// `TEST_PLAIN_DATABASE_URL`, which `./infra/test.sh` sets): everything but the
/// embeddings table, and the report says so.
#[tokio::test]
async fn migrating_a_server_without_pgvector_leaves_keyword_search_ready() {
    use momentarium_shared::adapter::postgres as db;
    let plain = std::env::var("TEST_PLAIN_DATABASE_URL")
        .expect("TEST_PLAIN_DATABASE_URL: a PostgreSQL without pgvector (./infra/test.sh sets it)");
    let (admin, conn) = tokio_postgres::connect(&plain, tokio_postgres::NoTls)
        .await
        .expect("the plain PostgreSQL server");
    tokio::spawn(conn);
    let available: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        available, 0,
        "TEST_PLAIN_DATABASE_URL must have no pgvector"
    );
    assert_ne!(plain, admin_url());
    let name = format!("momentarium_plain_{}", Uuid::new_v4().simple());
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let url = match plain.rfind('/') {
        Some(i) => format!("{}/{name}", &plain[..i]),
        None => panic!("TEST_PLAIN_DATABASE_URL needs a database name"),
    };
    let pool = db::create_pool(&momentarium_tests::test_config(&url).database).unwrap();
    let report = db::migrate(&pool)
        .await
        .expect("migrations without pgvector");
    assert!(!report.vectors);
    let client = pool.get().await.unwrap();
    let table: Option<String> = client
        .query_one("SELECT to_regclass('image_embeddings')::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(table, None);
    let again = db::migrate(&pool).await.unwrap();
    assert!(again.applied.is_empty() && !again.vectors);
    drop(client);
    pool.close();
    admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
}

/// Photos uploaded before places and search existed have neither; the sweep gives them
/// both, a batch at a time, and they are found.
#[tokio::test]
async fn the_sweep_makes_older_photos_searchable() {
    use momentarium_shared::usecase::sweep_jobs::sweep_jobs;
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let exif = Exif {
        taken: Some("2025:08:02 18:05:00"),
        offset: Some("+02:00"),
        gps: Some((38.6979, -9.4215)),
        ..Exif::default()
    };
    let ids = app
        .upload_photos(
            &alice,
            &[
                (
                    "old-1.jpg",
                    "image/jpeg",
                    photos::jpeg(40, 30, [9, 80, 160], &exif),
                ),
                (
                    "old-2.jpg",
                    "image/jpeg",
                    photos::jpeg(40, 30, [90, 80, 60], &Exif::default()),
                ),
            ],
        )
        .await;
    // As a row from before V12 looks.
    let client = app.db.client().await;
    client
        .execute(
            "UPDATE images SET place = NULL, region = NULL, country_code = NULL, search_doc = NULL",
            &[],
        )
        .await
        .unwrap();
    let (_, body) = search(&app, &alice, "q=cascais").await;
    assert_eq!(body["total"], 0, "not searchable yet: {body}");
    let report = sweep_jobs(&app.app, 100).await.unwrap();
    assert_eq!(report.made_searchable, 2);
    let (_, body) = search(&app, &alice, "q=Cascais").await;
    assert_eq!(body["total"], 1, "{body}");
    assert_eq!(body["results"][0]["imageId"], ids[0].as_str());
    assert_eq!(body["results"][0]["place"]["countryCode"], "PT");
    let (_, body) = search(&app, &alice, "q=old").await;
    assert_eq!(body["total"], 2, "file names too: {body}");
    // Done once: the next sweep has nothing to do.
    assert_eq!(sweep_jobs(&app.app, 100).await.unwrap().made_searchable, 0);
}
