//! Image-provider protocol servers on loopback, strict about what they accept:
//!
//! - Gemini's image model: `POST /v1beta/models/{model}:generateContent` with the key in
//!   `x-goog-api-key`, a text part then at most 3 `inlineData` references (PNG, JPEG or
//!   WebP, plain base64, ≤ 7 MB, bytes that are what they say), and `generationConfig`
//!   asking for `responseModalities` with IMAGE and a documented `imageConfig.aspectRatio`.
//! - OpenAI's Images API: `POST /v1/images/generations` (JSON: the documented fields only,
//!   `n`, `size`, `quality`, `output_format` from their lists, no `response_format`, which
//!   GPT image models refuse) and `POST /v1/images/edits` (multipart: `image[]` file
//!   parts, each a real PNG/JPEG/WebP with its type, beside the same fields), the key as
//!   `Authorization: Bearer`.
//!
//! Each answers from a script with the documented shapes, errors included; a request that
//! breaks the protocol gets the provider's 400 and is recorded as a violation.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

pub const GEMINI_KEY: &str = "test-gemini-key";
pub const GEMINI_IMAGE_MODEL: &str = "gemini-image-test";
pub const OPENAI_KEY: &str = "sk-test-openai-key";
pub const OPENAI_IMAGE_MODEL: &str = "gpt-image-test";

/// One scripted answer, as each provider would give it.
#[derive(Debug, Clone)]
pub enum ImageReply {
    /// One 640×427 PNG.
    Picture,
    /// Several PNGs in one answer.
    Pictures(usize),
    /// A JPEG declared as a PNG.
    Mislabelled,
    /// Declared a PNG; the bytes are HTML.
    NotAnImage,
    /// No picture: Gemini answers in words only (STOP); OpenAI with an empty `data`.
    NoPicture,
    /// The prompt refused for safety: Gemini's `promptFeedback.blockReason`, OpenAI's 400
    /// `moderation_blocked`.
    Blocked,
    /// Gemini's candidate ending `IMAGE_SAFETY` with no parts (OpenAI: as `Blocked`).
    SafetyFinish,
    /// An error status with the provider's error body (a 429 carries Gemini's RetryInfo
    /// of 1 s, or OpenAI's `retry-after: 1`).
    Status(u16),
    /// Answer nothing for this long, then a picture (a client that does not give up in
    /// time gets one, and a test expecting a timeout fails).
    Hang(Duration),
    /// Wait this long, then answer.
    Delayed(Duration, Box<ImageReply>),
}

/// What a request carried.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSeen {
    pub path: String,
    pub prompt: String,
    pub references: usize,
    /// Gemini's `aspectRatio`, or OpenAI's `size`.
    pub shape: String,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<ImageReply>,
    seen: Vec<ImageSeen>,
    violations: Vec<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Gemini,
    OpenAi,
}

/// A provider's server: [`ImageServer::gemini`] or [`ImageServer::openai`].
#[derive(Clone)]
pub struct ImageServer {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

type Shared = (Kind, Arc<Mutex<Inner>>);

impl ImageServer {
    pub async fn gemini(script: Vec<ImageReply>) -> Self {
        Self::start(Kind::Gemini, script).await
    }

    pub async fn openai(script: Vec<ImageReply>) -> Self {
        Self::start(Kind::OpenAi, script).await
    }

    async fn start(kind: Kind, script: Vec<ImageReply>) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            script: script.into(),
            ..Inner::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .fallback(handle)
            .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state((kind, inner.clone()));
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, inner }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<ImageSeen> {
        self.inner.lock().unwrap().seen.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.inner.lock().unwrap().violations.clone()
    }

    pub fn push(&self, reply: ImageReply) {
        self.inner.lock().unwrap().script.push_back(reply);
    }
}

/// A real PNG of `w`×`h` with a gradient (so it is not trivially compressible).
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, _| image::Rgb([(x % 255) as u8, 90, 30]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// What the bytes are, by their magic numbers.
fn sniffed(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

const GEMINI_RATIOS: [&str; 10] = [
    "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
];
const OPENAI_SIZES: [&str; 4] = ["1024x1024", "1536x1024", "1024x1536", "auto"];
const OPENAI_QUALITIES: [&str; 4] = ["low", "medium", "high", "auto"];
const OPENAI_FORMATS: [&str; 3] = ["png", "jpeg", "webp"];

fn check_gemini(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<ImageSeen, String> {
    let want = format!("/v1beta/models/{GEMINI_IMAGE_MODEL}:generateContent");
    if uri.path() != want {
        return Err(format!("path {} is not {want}", uri.path()));
    }
    if uri.query().is_some_and(|q| q.contains("key=")) {
        return Err("the API key must not be in the query string".into());
    }
    if headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()) != Some(GEMINI_KEY) {
        return Err("missing or wrong x-goog-api-key".into());
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let parts = v["contents"][0]["parts"]
        .as_array()
        .ok_or("contents[0].parts is missing")?;
    let config = &v["generationConfig"];
    let modalities: Vec<&str> = config["responseModalities"]
        .as_array()
        .ok_or("generationConfig.responseModalities is missing")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if !modalities.contains(&"IMAGE") || modalities.iter().any(|m| !["TEXT", "IMAGE"].contains(m)) {
        return Err(format!(
            "responseModalities {modalities:?} must ask for IMAGE"
        ));
    }
    if config.get("responseMimeType").is_some() || config.get("responseSchema").is_some() {
        return Err("an image request takes no structured-output settings".into());
    }
    let ratio = config["imageConfig"]["aspectRatio"]
        .as_str()
        .ok_or("imageConfig.aspectRatio is missing")?;
    if !GEMINI_RATIOS.contains(&ratio) {
        return Err(format!("aspect ratio {ratio} is not one the model makes"));
    }
    let mut prompt = String::new();
    let mut references = 0;
    for part in parts {
        if let Some(text) = part.get("text").and_then(Value::as_str) {
            prompt.push_str(text);
            continue;
        }
        let inline = part
            .get("inlineData")
            .or_else(|| part.get("inline_data"))
            .ok_or("a part is neither text nor inlineData")?;
        let mime = inline
            .get("mimeType")
            .or_else(|| inline.get("mime_type"))
            .and_then(Value::as_str)
            .ok_or("inlineData without mimeType")?;
        let data = inline["data"].as_str().ok_or("inlineData without data")?;
        let bytes = STANDARD
            .decode(data)
            .map_err(|_| "data is not plain standard base64")?;
        if bytes.len() > 7 * 1024 * 1024 {
            return Err("a reference is over 7 MB".into());
        }
        if sniffed(&bytes) != Some(mime) {
            return Err(format!("a reference declared {mime} is not one"));
        }
        references += 1;
    }
    if prompt.trim().is_empty() {
        return Err("no prompt text".into());
    }
    if references > 3 {
        return Err(format!("{references} references; the model takes up to 3"));
    }
    Ok(ImageSeen {
        path: uri.path().into(),
        prompt,
        references,
        shape: ratio.into(),
    })
}

fn check_openai_fields(fields: &[(String, String)]) -> Result<(String, String), String> {
    const KNOWN: [&str; 10] = [
        "model",
        "prompt",
        "n",
        "size",
        "quality",
        "output_format",
        "background",
        "moderation",
        "output_compression",
        "user",
    ];
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    for (name, _) in fields {
        if name == "response_format" {
            return Err(
                "GPT image models do not take response_format (they answer b64_json)".into(),
            );
        }
        if !KNOWN.contains(&name.as_str()) {
            return Err(format!("unknown parameter `{name}`"));
        }
    }
    if get("model") != Some(OPENAI_IMAGE_MODEL) {
        return Err(format!(
            "model {:?} is not {OPENAI_IMAGE_MODEL}",
            get("model")
        ));
    }
    let prompt = get("prompt")
        .filter(|p| !p.trim().is_empty())
        .ok_or("no prompt")?;
    if prompt.chars().count() > 32_000 {
        return Err("prompt over 32,000 characters".into());
    }
    if let Some(n) = get("n")
        && n != "1"
    {
        return Err(format!("n={n}: Momentarium wants one picture"));
    }
    let size = get("size").unwrap_or("auto");
    if !OPENAI_SIZES.contains(&size) {
        return Err(format!("size {size} is not one of {OPENAI_SIZES:?}"));
    }
    for (field, list) in [
        ("quality", &OPENAI_QUALITIES[..]),
        ("output_format", &OPENAI_FORMATS[..]),
    ] {
        if let Some(value) = get(field)
            && !list.contains(&value)
        {
            return Err(format!("{field} {value} is not one of {list:?}"));
        }
    }
    Ok((prompt.to_string(), size.to_string()))
}

async fn check_openai(request: Request) -> Result<ImageSeen, String> {
    let path = request.uri().path().to_string();
    let bearer = format!("Bearer {OPENAI_KEY}");
    if request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        != Some(&bearer)
    {
        return Err("missing or wrong Authorization: Bearer".into());
    }
    let content_type = request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    match path.as_str() {
        "/v1/images/generations" => {
            if !content_type.starts_with("application/json") {
                return Err("generations take application/json".into());
            }
            let body = Bytes::from_request(request, &())
                .await
                .map_err(|e| e.to_string())?;
            let v: Value = serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))?;
            let object = v.as_object().ok_or("the body is not an object")?;
            let fields: Vec<(String, String)> = object
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect();
            let (prompt, size) = check_openai_fields(&fields)?;
            Ok(ImageSeen {
                path,
                prompt,
                references: 0,
                shape: size,
            })
        }
        "/v1/images/edits" => {
            if !content_type.starts_with("multipart/form-data") {
                return Err("edits take multipart/form-data".into());
            }
            let mut multipart = axum::extract::Multipart::from_request(request, &())
                .await
                .map_err(|e| format!("not multipart: {e}"))?;
            let mut fields = Vec::new();
            let mut references = 0;
            while let Some(field) = multipart.next_field().await.map_err(|e| e.to_string())? {
                let name = field.name().unwrap_or("").to_string();
                if name == "image[]" || name == "image" {
                    let declared = field.content_type().unwrap_or("").to_string();
                    if field.file_name().is_none() {
                        return Err("an image part must be a file (with a filename)".into());
                    }
                    let bytes = field.bytes().await.map_err(|e| e.to_string())?;
                    if sniffed(&bytes) != Some(declared.as_str()) {
                        return Err(format!("an image part declared {declared:?} is not one"));
                    }
                    if bytes.len() > 50 * 1024 * 1024 {
                        return Err("an image part is over 50 MB".into());
                    }
                    references += 1;
                } else {
                    let text = field.text().await.map_err(|e| e.to_string())?;
                    fields.push((name, text));
                }
            }
            if references == 0 || references > 16 {
                return Err(format!("{references} image parts; edits take 1 to 16"));
            }
            let (prompt, size) = check_openai_fields(&fields)?;
            Ok(ImageSeen {
                path,
                prompt,
                references,
                shape: size,
            })
        }
        other => Err(format!("unknown path {other}")),
    }
}

fn gemini_error(status: u16) -> Response {
    let (name, details) = match status {
        429 => (
            "RESOURCE_EXHAUSTED",
            vec![json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"})],
        ),
        500 => ("INTERNAL", vec![]),
        503 => ("UNAVAILABLE", vec![]),
        403 => ("PERMISSION_DENIED", vec![]),
        _ => ("INVALID_ARGUMENT", vec![]),
    };
    let body = json!({"error": {"code": status, "message": "scripted error", "status": name, "details": details}});
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

fn openai_error(status: u16, code: &str, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}});
    let mut response = (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
    if status == 429 {
        response
            .headers_mut()
            .insert("retry-after", "1".parse().unwrap());
    }
    response
}

fn gemini_answer(reply: ImageReply, references: usize) -> Response {
    let usage = json!({"promptTokenCount": 20 + 258 * references, "candidatesTokenCount": 1290, "totalTokenCount": 1310 + 258 * references});
    let image_part = |mime: &str, bytes: &[u8]| json!({"inlineData": {"mimeType": mime, "data": STANDARD.encode(bytes)}});
    let ok = |parts: Vec<Value>| {
        axum::Json(json!({
            "candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": usage,
            "modelVersion": GEMINI_IMAGE_MODEL,
        }))
        .into_response()
    };
    match reply {
        ImageReply::Picture => ok(vec![
            json!({"text": "Here it is."}),
            image_part("image/png", &png(640, 427)),
        ]),
        ImageReply::Pictures(n) => ok((0..n)
            .map(|_| image_part("image/png", &png(320, 320)))
            .collect()),
        ImageReply::Mislabelled => ok(vec![image_part("image/png", &jpeg(400, 300))]),
        ImageReply::NotAnImage => ok(vec![image_part("image/png", b"<html>quota page</html>")]),
        ImageReply::NoPicture => ok(vec![json!({"text": "I can only describe that picture."})]),
        ImageReply::Blocked => axum::Json(json!({
            "promptFeedback": {"blockReason": "SAFETY"},
            "usageMetadata": {"promptTokenCount": 20, "totalTokenCount": 20},
        }))
        .into_response(),
        ImageReply::SafetyFinish => axum::Json(json!({
            "candidates": [{"finishReason": "IMAGE_SAFETY", "index": 0}],
            "usageMetadata": {"promptTokenCount": 20, "totalTokenCount": 20},
        }))
        .into_response(),
        ImageReply::Status(status) => gemini_error(status),
        ImageReply::Hang(_) => gemini_answer(ImageReply::Picture, references),
        ImageReply::Delayed(_, reply) => gemini_answer(*reply, references),
    }
}

fn openai_answer(reply: ImageReply, references: usize) -> Response {
    let usage = json!({
        "input_tokens": 50 + 300 * references, "output_tokens": 1056,
        "total_tokens": 1106 + 300 * references,
        "input_tokens_details": {"text_tokens": 50, "image_tokens": 300 * references},
    });
    let ok = |data: Vec<Value>| {
        axum::Json(json!({
            "created": 1_764_000_000, "data": data, "output_format": "png",
            "quality": "medium", "size": "1024x1024", "usage": usage,
        }))
        .into_response()
    };
    let datum = |bytes: &[u8]| json!({"b64_json": STANDARD.encode(bytes)});
    match reply {
        ImageReply::Picture => ok(vec![datum(&png(640, 427))]),
        ImageReply::Pictures(n) => ok((0..n).map(|_| datum(&png(320, 320))).collect()),
        ImageReply::Mislabelled => ok(vec![datum(&jpeg(400, 300))]),
        ImageReply::NotAnImage => ok(vec![datum(b"<html>quota page</html>")]),
        ImageReply::NoPicture => ok(vec![]),
        ImageReply::Blocked | ImageReply::SafetyFinish => openai_error(
            400,
            "moderation_blocked",
            "Your request was rejected as a result of our safety system.",
        ),
        ImageReply::Status(429) => openai_error(429, "rate_limit_exceeded", "Rate limit reached."),
        ImageReply::Status(status) => openai_error(status, "server_error", "scripted error"),
        ImageReply::Hang(_) => openai_answer(ImageReply::Picture, references),
        ImageReply::Delayed(_, reply) => openai_answer(*reply, references),
    }
}

async fn handle(State((kind, inner)): State<Shared>, request: Request) -> Response {
    let (uri, headers) = (request.uri().clone(), request.headers().clone());
    let checked = match kind {
        Kind::Gemini => match Bytes::from_request(request, &()).await {
            Ok(body) => check_gemini(&uri, &headers, &body),
            Err(e) => Err(e.to_string()),
        },
        Kind::OpenAi => check_openai(request).await,
    };
    let (reply, references) = {
        let mut inner = inner.lock().unwrap();
        let seen = match checked {
            Ok(seen) => seen,
            Err(violation) => {
                inner.violations.push(violation.clone());
                return match kind {
                    Kind::Gemini => {
                        let body = json!({"error": {"code": 400, "message": violation, "status": "INVALID_ARGUMENT"}});
                        (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
                    }
                    Kind::OpenAi => openai_error(400, "invalid_request", &violation),
                };
            }
        };
        let references = seen.references;
        inner.seen.push(seen);
        match inner.script.pop_front() {
            Some(reply) => (reply, references),
            None => {
                inner.violations.push("a request beyond the script".into());
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        }
    };
    if let ImageReply::Hang(d) | ImageReply::Delayed(d, _) = &reply {
        tokio::time::sleep(*d).await;
    }
    match kind {
        Kind::Gemini => gemini_answer(reply, references),
        Kind::OpenAi => openai_answer(reply, references),
    }
}
