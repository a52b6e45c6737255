//! `momentarium serve` as a separate process, walked end to end by curl: a dev token,
//! upload URLs, a presigned PUT the embedded S3 refuses for the wrong content type and
//! accepts with the right one, processing by the local dispatcher, status, the gallery,
//! and a presigned GET of the photo.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use momentarium_tests::TestDb;
use momentarium_tests::photos::{self, Exif};
use serde_json::Value;

fn curl(args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "30", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl is needed for this test");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.trim().parse().unwrap(), body.to_string())
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"))
}

#[tokio::test]
async fn serve_answers_a_separate_client_end_to_end() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let (_server, api, s3_port) = common::serve(&db.url, data.path(), &[]).await;

    let token = common::run(&db.url, data.path(), &["token", "alice"], &[]);
    assert!(token.status.success());
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    let auth = format!("Authorization: Bearer {token}");

    let photo = photos::jpeg(
        200,
        150,
        [200, 120, 40],
        &Exif {
            taken: Some("2025:05:10 09:40:00"),
            offset: Some("+02:00"),
            ..Exif::default()
        },
    );
    let photo_path = data.path().join("p.jpg");
    std::fs::write(&photo_path, &photo).unwrap();
    let request = format!(
        r#"{{"files":[{{"filename":"p.jpg","contentType":"image/jpeg","size":{}}}]}}"#,
        photo.len()
    );
    let (code, body) = curl(&[
        "-X",
        "POST",
        &format!("{api}/api/uploads/generate-urls"),
        "-H",
        &auth,
        "-H",
        "content-type: application/json",
        "--data",
        &request,
    ]);
    assert_eq!(code, 200, "{body}");
    let ticket = json(&body)["uploads"][0].clone();
    let url = ticket["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{s3_port}/")),
        "{url}"
    );

    // Every header the ticket lists is signed and must be sent.
    let tagging = format!(
        "x-amz-tagging: {}",
        ticket["headers"]["x-amz-tagging"].as_str().unwrap()
    );
    let upload = |content_type: &str| {
        curl(&[
            "-X",
            "PUT",
            url,
            "-H",
            &format!("content-type: {content_type}"),
            "-H",
            &tagging,
            "-H",
            "if-none-match: *",
            "--data-binary",
            &format!("@{}", photo_path.display()),
        ])
    };
    let (code, body) = upload("image/png");
    assert_eq!(
        code, 403,
        "the embedded S3 refuses another content type: {body}"
    );
    let (code, body) = upload("image/jpeg");
    assert_eq!(code, 200, "{body}");

    // The embedded bucket's ObjectCreated event records the upload and makes its
    // renditions as it lands, before any processing is asked for (as on AWS).
    let image_id = ticket["imageId"].as_str().unwrap();
    let started = Instant::now();
    let details = loop {
        let (code, body) = curl(&[&format!("{api}/api/images/{image_id}"), "-H", &auth]);
        assert_eq!(code, 200, "{body}");
        let details = json(&body);
        if details["status"] == "uploaded" && details["thumbUrl"].is_string() {
            break details;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the upload event did not record the photo: {details}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let thumb = Command::new("curl")
        .args(["-sS", "--fail", details["thumbUrl"].as_str().unwrap()])
        .output()
        .unwrap();
    assert!(thumb.status.success());
    assert_eq!(&thumb.stdout[..3], b"\xff\xd8\xff", "a JPEG thumbnail");
    let (code, body) = curl(&[
        "-X",
        "POST",
        &format!("{api}/api/galleries/process"),
        "-H",
        &auth,
        "-H",
        "content-type: application/json",
        "--data",
        &format!(r#"{{"imageIds":["{image_id}"]}}"#),
    ]);
    assert_eq!(code, 202, "{body}");
    let status_url = json(&body)["statusUrl"].as_str().unwrap().to_string();

    let started = Instant::now();
    let status = loop {
        let (code, body) = curl(&[&format!("{api}{status_url}"), "-H", &auth]);
        assert_eq!(code, 200);
        let status = json(&body);
        if status["status"] == "completed" || status["status"] == "failed" {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the job did not finish: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(status["organizer"], "offline");

    let (code, body) = curl(&[
        &format!("{api}{}", status["resultUrl"].as_str().unwrap()),
        "-H",
        &auth,
    ]);
    assert_eq!(code, 200);
    let gallery = json(&body);
    let image = &gallery["albums"][0]["images"][0];
    assert_eq!(image["imageId"], image_id);
    let download = Command::new("curl")
        .args(["-sS", "--fail", image["url"].as_str().unwrap()])
        .output()
        .unwrap();
    assert!(download.status.success());
    assert_eq!(
        download.stdout, photo,
        "the presigned GET returns the photo"
    );

    let (code, _) = curl(&[
        &format!("{api}/api/galleries"),
        "-H",
        "Authorization: Bearer forged.token.here",
    ]);
    assert_eq!(code, 401);
}
