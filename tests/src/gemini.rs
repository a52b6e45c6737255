//! A Gemini-protocol server on loopback. It accepts exactly the documented request shape
//! (path, `x-goog-api-key` header, `inline_data` parts in plain base64, one structured
//! output schema) and answers from a script with the documented response shapes, errors
//! included. Anything else gets Google's 400 and is recorded as a violation.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

pub const API_KEY: &str = "test-gemini-key";
pub const MODEL: &str = "gemini-test";

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this JSON text in the first part, finishReason STOP.
    Text(String),
    /// 200 with a candidate that finished for `reason` and has no parts.
    Finish(&'static str),
    /// 200 with `promptFeedback.blockReason`.
    Blocked(&'static str),
    /// An error status with Google's error body and these details.
    Error(u16, &'static str, Vec<Value>),
    /// Answer nothing for this long.
    Hang(Duration),
    /// Wait, then answer.
    Delayed(Duration, Box<Reply>),
}

impl Reply {
    /// A well-formed answer with this plan object.
    pub fn answer(plan: Value) -> Self {
        Self::Text(plan.to_string())
    }

    pub fn retry_info(delay: &str) -> Value {
        json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay})
    }
}

/// What a request carried, for assertions.
#[derive(Debug, Clone)]
pub struct Seen {
    pub images: usize,
    pub image_bytes: Vec<usize>,
    pub max_edge: u32,
    pub body_bytes: usize,
    pub texts: Vec<String>,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    seen: Vec<Seen>,
    violations: Vec<String>,
    /// Scripted answers for embedding calls; when empty, embeddings are computed.
    embed_script: VecDeque<Reply>,
    /// Every text embedded, with its task type.
    embedded: Vec<(String, String)>,
}

/// The embedding model the server knows (the application's default).
pub const EMBEDDING_MODEL: &str = "gemini-embedding-001";

/// Words that mean the same here, so that the computed embeddings find what keywords
/// cannot ("seaside" finds a "beach").
const SYNONYMS: &[(&str, &str)] = &[
    ("seaside", "beach"),
    ("shore", "beach"),
    ("coast", "beach"),
    ("ocean", "sea"),
    ("dusk", "sunset"),
    ("twilight", "sunset"),
    ("puppy", "dog"),
    ("pooch", "dog"),
    ("kitten", "cat"),
    ("supper", "dinner"),
    ("meal", "dinner"),
    ("peak", "mountain"),
    ("summit", "mountain"),
    ("hike", "mountain"),
];

/// A deterministic embedding of `text`: each word (lowercase, singular, synonyms
/// folded) adds weight to one of 768 dimensions chosen by its hash; not normalised, so
/// the client must scale it. Texts sharing words (or synonyms) point the same way.
pub fn embedding_of(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; 768];
    for raw in text
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
    {
        let w = raw.strip_suffix('s').filter(|w| w.len() > 2).unwrap_or(raw);
        let w = SYNONYMS
            .iter()
            .find(|(a, _)| *a == w)
            .map_or(w, |(_, b)| *b);
        if ["the", "and", "with", "tags", "place", "album", "for"].contains(&w) {
            continue;
        }
        let mut h: u64 = 0xcbf29ce484222325;
        for b in w.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
        v[(h % 768) as usize] += 3.0;
    }
    // A small constant part, so no text is the zero vector.
    v[0] += 0.01;
    v
}

#[derive(Clone)]
pub struct GeminiServer {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl GeminiServer {
    pub async fn start(script: Vec<Reply>) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            script: script.into(),
            ..Inner::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Gemini takes inline requests up to 20 MB (PROTOCOLS.md); axum's default is 2 MB.
        let app = Router::new()
            .fallback(handle)
            .layer(axum::extract::DefaultBodyLimit::max(20 * 1024 * 1024))
            .with_state(inner.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, inner }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.clone()
    }

    /// Requests that broke the documented shape; tests assert this is empty.
    pub fn violations(&self) -> Vec<String> {
        self.inner.lock().unwrap().violations.clone()
    }

    pub fn push(&self, reply: Reply) {
        self.inner.lock().unwrap().script.push_back(reply);
    }

    /// The next embedding call gets this (an error, a hang) instead of vectors.
    pub fn push_embed(&self, reply: Reply) {
        self.inner.lock().unwrap().embed_script.push_back(reply);
    }

    /// Every text embedded so far, with its task type.
    pub fn embedded(&self) -> Vec<(String, String)> {
        self.inner.lock().unwrap().embedded.clone()
    }
}

fn google_error(status: u16, name: &str, message: &str, details: Vec<Value>) -> Response {
    let body =
        json!({"error": {"code": status, "message": message, "status": name, "details": details}});
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

fn check(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Seen, String> {
    let want = format!("/v1beta/models/{MODEL}:generateContent");
    if uri.path() != want {
        return Err(format!("path {} is not {want}", uri.path()));
    }
    if uri.query().is_some_and(|q| q.contains("key=")) {
        return Err("the API key must not be in the query string".into());
    }
    if headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()) != Some(API_KEY) {
        return Err("missing or wrong x-goog-api-key".into());
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let parts = v["contents"][0]["parts"]
        .as_array()
        .ok_or("contents[0].parts is missing")?;
    let config = &v["generationConfig"];
    if config["responseMimeType"] != "application/json" {
        return Err("responseMimeType must be application/json".into());
    }
    let schemas = [
        config.get("responseSchema"),
        config.get("responseJsonSchema"),
    ];
    let schema = match schemas {
        [Some(s), None] | [None, Some(s)] => s,
        _ => return Err("exactly one of responseSchema and responseJsonSchema".into()),
    };
    for field in ["albums", "photos"] {
        if schema["properties"].get(field).is_none() {
            return Err(format!("the schema has no `{field}`"));
        }
    }
    let mut seen = Seen {
        images: 0,
        image_bytes: Vec::new(),
        max_edge: 0,
        body_bytes: body.len(),
        texts: Vec::new(),
    };
    for part in parts {
        if let Some(text) = part.get("text").and_then(Value::as_str) {
            seen.texts.push(text.to_string());
            continue;
        }
        let inline = part
            .get("inline_data")
            .or_else(|| part.get("inlineData"))
            .ok_or("a part is neither text nor inline_data")?;
        let mime = inline
            .get("mime_type")
            .or_else(|| inline.get("mimeType"))
            .and_then(Value::as_str)
            .ok_or("inline_data without mime_type")?;
        if ![
            "image/jpeg",
            "image/png",
            "image/webp",
            "image/heic",
            "image/heif",
        ]
        .contains(&mime)
        {
            return Err(format!("unsupported mime_type {mime}"));
        }
        let data = inline["data"].as_str().ok_or("inline_data without data")?;
        if data.starts_with("data:") {
            return Err("data must be plain base64, without a data: prefix".into());
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|_| "data is not standard base64")?;
        if mime == "image/jpeg" {
            let size = imagesize_of(&bytes).ok_or("inline JPEG does not decode")?;
            seen.max_edge = seen.max_edge.max(size.0.max(size.1));
        }
        seen.images += 1;
        seen.image_bytes.push(bytes.len());
    }
    if seen.images == 0 {
        return Err("no images in the request".into());
    }
    Ok(seen)
}

fn imagesize_of(bytes: &[u8]) -> Option<(u32, u32)> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg).ok()?;
    Some((img.width(), img.height()))
}

fn answer(reply: Reply) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>> {
    Box::pin(async move {
        let usage = json!({"promptTokenCount": 1290, "candidatesTokenCount": 310, "thoughtsTokenCount": 40, "totalTokenCount": 1640});
        match reply {
            Reply::Text(text) => axum::Json(json!({
                "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": usage,
                "modelVersion": MODEL,
            }))
            .into_response(),
            Reply::Finish(reason) => axum::Json(json!({
                "candidates": [{"finishReason": reason, "index": 0}],
                "usageMetadata": usage,
                "modelVersion": MODEL,
            }))
            .into_response(),
            Reply::Blocked(reason) => axum::Json(json!({
                "promptFeedback": {"blockReason": reason},
                "usageMetadata": {"promptTokenCount": 1290, "totalTokenCount": 1290},
                "modelVersion": MODEL,
            }))
            .into_response(),
            Reply::Error(status, name, details) => google_error(status, name, "scripted error", details),
            Reply::Hang(d) => {
                tokio::time::sleep(d).await;
                google_error(504, "DEADLINE_EXCEEDED", "hung", vec![])
            }
            Reply::Delayed(d, inner) => {
                tokio::time::sleep(d).await;
                answer(*inner).await
            }
        }
    })
}

/// `batchEmbedContents`: at most 100 requests, each naming the model, with one text
/// part, a task type and 768 dimensions.
fn check_embed(
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<(String, String)>, String> {
    let want = format!("/v1beta/models/{EMBEDDING_MODEL}:batchEmbedContents");
    if uri.path() != want {
        return Err(format!("path {} is not {want}", uri.path()));
    }
    if headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()) != Some(API_KEY) {
        return Err("missing or wrong x-goog-api-key".into());
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let requests = v["requests"].as_array().ok_or("no requests")?;
    if requests.is_empty() || requests.len() > 100 {
        return Err(format!("{} requests: 1 to 100 a call", requests.len()));
    }
    requests
        .iter()
        .map(|r| {
            if r["model"] != format!("models/{EMBEDDING_MODEL}") {
                return Err(format!("a request names model {}", r["model"]));
            }
            let task = r["taskType"].as_str().ok_or("no taskType")?;
            if !["RETRIEVAL_DOCUMENT", "RETRIEVAL_QUERY"].contains(&task) {
                return Err(format!("taskType {task}"));
            }
            if r["outputDimensionality"] != 768 {
                return Err("outputDimensionality must be 768".into());
            }
            let parts = r["content"]["parts"].as_array().ok_or("no content.parts")?;
            let text = parts
                .iter()
                .map(|p| p["text"].as_str().ok_or("a part without text"))
                .collect::<Result<Vec<&str>, _>>()?
                .join(" ");
            Ok((text, task.to_string()))
        })
        .collect()
}

async fn handle_embed(
    inner: Arc<Mutex<Inner>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (texts, scripted) = {
        let mut inner = inner.lock().unwrap();
        match check_embed(&uri, &headers, &body) {
            Err(violation) => {
                inner.violations.push(violation.clone());
                return google_error(400, "INVALID_ARGUMENT", &violation, vec![]);
            }
            Ok(texts) => {
                inner.embedded.extend(texts.iter().cloned());
                (texts, inner.embed_script.pop_front())
            }
        }
    };
    if let Some(reply) = scripted {
        return answer(reply).await;
    }
    let embeddings: Vec<Value> = texts
        .iter()
        .map(|(t, _)| json!({"values": embedding_of(t)}))
        .collect();
    axum::Json(json!({"embeddings": embeddings})).into_response()
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if uri.path().ends_with(":batchEmbedContents") {
        return handle_embed(inner, uri, headers, body).await;
    }
    let reply = {
        let mut inner = inner.lock().unwrap();
        match check(&uri, &headers, &body) {
            Err(violation) => {
                inner.violations.push(violation.clone());
                return google_error(400, "INVALID_ARGUMENT", &violation, vec![]);
            }
            Ok(seen) => inner.seen.push(seen),
        }
        match inner.script.pop_front() {
            Some(r) => r,
            None => {
                inner.violations.push("a request beyond the script".into());
                return google_error(500, "INTERNAL", "no scripted reply left", vec![]);
            }
        }
    };
    answer(reply).await
}
