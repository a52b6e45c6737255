//! The HTTP contract as types: every request and response body of the API, used by the
//! handlers that write them, the CLI's client that reads them and the tests. A field
//! added here is added for all three; `openapi.yaml` documents the same shapes and the
//! contract test validates real responses against it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

pub use crate::domain::places::Place;
use crate::domain::{JobKind, JobStage, JobStatus};

/// `POST /api/uploads/generate-urls`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadRequest {
    pub files: Vec<FileRequest>,
}

/// One file the client intends to upload, as sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRequest {
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadResponse {
    pub uploads: Vec<UploadTicket>,
}

/// A presigned PUT: send exactly `headers` with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadTicket {
    pub image_id: Uuid,
    pub key: String,
    pub url: String,
    pub method: String,
    /// Header name → value, every one of them signed.
    pub headers: BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}

/// `POST /api/galleries/process`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessRequest {
    pub image_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessAccepted {
    pub job_id: Uuid,
    /// `organise` (a gallery's albums) or `generate` (a picture; `statusUrl` is its
    /// generation).
    pub kind: JobKind,
    /// The gallery an organising job fills; null for a generation.
    pub gallery_id: Option<Uuid>,
    pub status: JobStatus,
    pub status_url: String,
}

/// `GET /api/jobs/{jobId}/status`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatusBody {
    pub job_id: Uuid,
    pub kind: JobKind,
    pub status: JobStatus,
    /// The gallery an organising job fills; null for a generation.
    pub gallery_id: Option<Uuid>,
    pub image_count: usize,
    /// The photos of the batch, in request order: what a retry asks for again.
    pub image_ids: Vec<Uuid>,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub result_url: Option<String>,
    pub organizer: Option<String>,
    pub fallback_reason: Option<String>,
    /// While processing: preparing, asking_model or writing.
    pub stage: Option<JobStage>,
}

/// `GET /api/jobs`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobList {
    pub jobs: Vec<JobStatusBody>,
    /// Where the next page starts (`?cursor=`), or null at the end.
    pub next_cursor: Option<String>,
}

/// `GET`/`PATCH /api/me`: the caller.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    /// The identity provider's `sub`.
    pub subject: String,
    pub display_name: Option<String>,
    /// What album titles, descriptions and captions are written in.
    pub language: String,
    /// The languages there are.
    pub languages: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// `PATCH /api/me`: what is present changes; `"displayName": null` clears the name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MeChange {
    #[serde(default, deserialize_with = "present")]
    pub display_name: Option<Option<String>>,
    pub language: Option<String>,
}

/// A field that is present, `null` included (absent stays `None` by `default`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// `GET /api/usage`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageBody {
    /// `2026-11` (UTC).
    pub month: String,
    pub tier: String,
    /// This month's AI calls by kind (organise, generate, embed).
    pub ai: Vec<AiUsage>,
    pub total_cost_usd: f64,
    pub budget: BudgetBody,
    pub quotas: Vec<QuotaBody>,
    /// Requests per minute, by route class (read, write, ai).
    pub rate_limits: Vec<RateLimitBody>,
    /// This month's: the budget at 80 % and at 100 %.
    pub notifications: Vec<NotificationBody>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AiUsage {
    pub kind: String,
    pub calls: i64,
    pub failed_calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub images: i64,
    pub cost_usd: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetBody {
    pub monthly_usd: f64,
    pub spent_usd: f64,
    pub left_usd: f64,
    /// `ok`, `warning` (80 % or more) or `exhausted` (AI work stops until it renews).
    pub state: String,
    pub resets_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaBody {
    /// `photos_organised_per_day`, `generations_per_day` or `storage_bytes`.
    pub name: String,
    pub limit: i64,
    pub used: i64,
    pub left: i64,
    /// When it resets; null for storage (deleting makes room).
    pub resets_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitBody {
    pub class: String,
    pub per_minute: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationBody {
    pub kind: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// `POST /api/generations`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerationRequest {
    pub prompt: String,
    /// Up to 3 of the caller's photos the picture should draw on.
    #[serde(default)]
    pub reference_image_ids: Vec<Uuid>,
    /// One of the provider's ratios (`3:2`, `1:1`, …); its first when absent.
    pub aspect_ratio: Option<String>,
    /// `gemini` or `openai`; the configured default when absent.
    pub provider: Option<String>,
}

/// `POST /api/images/{imageId}/edits`: the photo is the first reference.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditRequest {
    pub prompt: String,
    /// Up to 2 more photos besides the one edited.
    #[serde(default)]
    pub reference_image_ids: Vec<Uuid>,
    pub aspect_ratio: Option<String>,
    pub provider: Option<String>,
}

/// 202 to a generation or an edit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationAccepted {
    pub generation_id: Uuid,
    pub status: JobStatus,
    pub status_url: String,
}

/// `GET /api/generations/{generationId}`: one generation, its job's state and its result.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Generation {
    /// Also the id of its job (`/api/jobs/{id}/cancel`, `/retry`).
    pub generation_id: Uuid,
    /// `generated` (from a prompt) or `edited` (from one of the caller's photos).
    pub origin: String,
    pub prompt: String,
    pub provider: String,
    pub model: String,
    pub aspect_ratio: String,
    pub status: JobStatus,
    pub stage: Option<JobStage>,
    /// Why it failed, in a sentence a person can act on.
    pub error: Option<String>,
    pub reference_image_ids: Vec<Uuid>,
    pub source_image_id: Option<Uuid>,
    /// The picture, once made (null again if it is deleted).
    pub image_id: Option<Uuid>,
    /// Its permanent URL (redirects to the bytes; `?size=thumb|preview`).
    pub image_url: Option<String>,
    pub attempts: i32,
    /// Provider calls made for it, answered or not, with their tokens and price.
    pub calls: i32,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// `GET /api/generations`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationList {
    pub generations: Vec<Generation>,
    pub next_cursor: Option<String>,
}

/// `GET /api/galleries/{galleryId}`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gallery {
    pub gallery_id: Uuid,
    pub job_id: Uuid,
    pub status: JobStatus,
    pub created_at: DateTime<Utc>,
    pub albums: Vec<Album>,
    /// With `?limit=`: where the next page of photos starts (`?cursor=`), or null at the
    /// end. Always null without paging.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Album {
    pub album_id: Uuid,
    pub title: String,
    pub description: String,
    pub cover_image_id: Option<Uuid>,
    /// Every photo of the album; `images` holds those on this page.
    pub image_count: usize,
    pub images: Vec<GalleryImage>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GalleryImage {
    pub image_id: Uuid,
    /// A presigned GET of the original.
    pub url: String,
    /// A presigned GET of the grid thumbnail (JPEG, 360 px on the long side), or null
    /// when the photo has no renditions (a type this build cannot decode).
    pub thumb_url: Option<String>,
    /// A presigned GET of the full-screen preview (JPEG, 1,600 px), or null likewise.
    pub preview_url: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub taken_at: Option<DateTime<Utc>>,
    pub caption: Option<String>,
    pub tags: Vec<String>,
}

/// `GET /api/images/{imageId}`: one of the caller's photos, whatever its state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageDetails {
    pub image_id: Uuid,
    pub filename: String,
    /// `pending_upload`, `uploaded` or `rejected`.
    pub status: String,
    pub rejection_reason: Option<String>,
    /// What the bytes are (once inspected), else what the uploader declared.
    pub content_type: String,
    pub size_bytes: Option<i64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub taken_at: Option<DateTime<Utc>>,
    /// The photographer's UTC offset at the time, when the camera recorded it.
    pub offset_minutes: Option<i16>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The town within 25 km, its region and country, found offline from the GPS.
    pub place: Option<Place>,
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    pub caption: Option<String>,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub uploaded_at: Option<DateTime<Utc>>,
    /// `upload`, or `generated` / `edited` for a picture made from a prompt (its
    /// generation says with what).
    pub origin: String,
    /// Presigned GETs (null until the photo is uploaded; the renditions' also for a
    /// photo without renditions).
    pub url: Option<String>,
    pub thumb_url: Option<String>,
    pub preview_url: Option<String>,
}

/// `GET /api/galleries`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GalleryList {
    pub galleries: Vec<GallerySummary>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GallerySummary {
    pub gallery_id: Uuid,
    pub job_id: Uuid,
    pub status: JobStatus,
    pub created_at: DateTime<Utc>,
    pub image_count: i32,
    pub album_count: i64,
}

/// `GET /api/health`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub database: String,
    /// `ok`, `circuit_open` (the model's circuit breaker is open: albums come from the
    /// offline organiser meanwhile) or `unknown` (the database did not answer).
    pub model: String,
    pub version: String,
}

/// `POST /api/jobs/process`: what became of the delivered job.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAnswer {
    pub job_id: Uuid,
    pub status: String,
}

/// Every error: `{"error": {"code", "message", "details"?}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// `POST /api/galleries/{galleryId}/shares`, `POST /api/albums/{albumId}/shares`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateShareRequest {
    /// When the link stops working; none: until revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// A password the viewer must give (`Share-Password` header); none: anyone with the link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Whether the view carries download URLs (default true): the originals when
    /// `showLocation` is on too, else the 1,600 px rendition (an original keeps its EXIF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_download: Option<bool>,
    /// Whether the view carries GPS coordinates and the camera (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_location: Option<bool>,
}

/// A share link as its owner sees it. The token is never stored, so the URL exists only
/// in the answer that created the link ([`ShareCreated`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Share {
    pub share_id: Uuid,
    /// `gallery` or `album`.
    pub kind: String,
    pub gallery_id: Uuid,
    pub album_id: Option<Uuid>,
    /// The album's title, for an album link.
    pub album_title: Option<String>,
    pub has_password: bool,
    pub allow_download: bool,
    pub show_location: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub view_count: i64,
    pub last_viewed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// 201 to a new share link: the link and its URL (shown this once).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareCreated {
    #[serde(flatten)]
    pub share: Share,
    pub url: String,
}

/// `GET /api/shares`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareList {
    pub shares: Vec<Share>,
    pub next_cursor: Option<String>,
}

/// `GET /api/shared/{token}` and `GET /api/shared-with-me/{albumId}`: what a share shows,
/// and nothing else of the owner's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedView {
    /// `gallery` or `album`.
    pub kind: String,
    pub allow_download: bool,
    pub show_location: bool,
    /// What each photo's `url` is: `original` (the file as uploaded: downloads allowed and
    /// locations shown), `preview` (the 1,600 px rendition, no metadata: downloads
    /// allowed, locations hidden) or `none`.
    pub downloads: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub albums: Vec<SharedAlbum>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedAlbum {
    pub album_id: Uuid,
    pub title: String,
    pub description: String,
    pub image_count: usize,
    pub images: Vec<SharedImage>,
}

/// A shared photo. `url` only when downloads are allowed (what it is: the view's
/// `downloads`); `location` and `camera` only when the share shows locations.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedImage {
    pub image_id: Uuid,
    pub thumb_url: Option<String>,
    pub preview_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub taken_at: Option<DateTime<Utc>>,
    pub taken_at_offset_minutes: Option<i16>,
    pub caption: Option<String>,
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

/// `POST /api/albums/{albumId}/members`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddMemberRequest {
    /// The person's identity-provider subject (their `sub`).
    pub subject: String,
    /// `viewer` (the only role; the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub album_id: Uuid,
    pub subject: String,
    pub role: String,
    pub added_at: DateTime<Utc>,
}

/// `GET /api/albums/{albumId}/members`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberList {
    pub members: Vec<Member>,
}

/// `GET /api/shared-with-me`: albums other people shared with the caller.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedWithMe {
    pub albums: Vec<SharedAlbumSummary>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedAlbumSummary {
    pub album_id: Uuid,
    pub title: String,
    pub description: String,
    pub role: String,
    pub image_count: i64,
    pub cover_thumb_url: Option<String>,
    pub shared_at: DateTime<Utc>,
}

/// `GET /api/search`: the caller's photos, best first, and how the query was read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResults {
    pub query: String,
    /// What the query was read as (dates are local days, inclusive), with the explicit
    /// filters laid over it.
    pub understood: crate::domain::search::Understood,
    /// `hybrid` (keyword and semantic fused), `keyword`, or `similar` (more like a photo).
    pub mode: String,
    /// Why the search is keyword-only when it could have been semantic.
    pub mode_reason: Option<String>,
    /// Candidates found (each ranking contributes at most 200).
    pub total: usize,
    pub results: Vec<SearchHit>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    pub image_id: Uuid,
    pub filename: String,
    pub caption: Option<String>,
    pub tags: Vec<String>,
    pub place: Option<Place>,
    pub taken_at: Option<DateTime<Utc>>,
    pub offset_minutes: Option<i16>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub camera_model: Option<String>,
    pub gallery_id: Option<Uuid>,
    pub album_id: Option<Uuid>,
    pub album_title: Option<String>,
    pub url: String,
    pub thumb_url: Option<String>,
    pub preview_url: Option<String>,
}

/// `GET /api/search/history`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchHistory {
    pub searches: Vec<PastSearch>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PastSearch {
    pub query: String,
    pub result_count: i32,
    pub searched_at: DateTime<Utc>,
}

/// `DELETE /api/search/history`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryCleared {
    pub deleted: u64,
}
