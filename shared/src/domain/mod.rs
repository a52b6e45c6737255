//! The domain: its types here, its pure rules in the submodules (upload inspection, the
//! album plan and its repair, photo preparation). No I/O.
//!
//! Domain types. Each is parsed once at the edge; use-cases only take parsed values.

pub mod embedding;
pub mod generation;
pub mod inspect;
pub mod language;
pub mod limits;
pub mod organiser;
pub mod places;
pub mod plan;
pub mod prepare;
pub mod search;
pub mod share;

use std::fmt;

use uuid::Uuid;

/// The authenticated caller: the identity provider's `sub` and the user row it maps to.
/// Every use-case about a user's things takes one (`http::identity` extracts it).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: Uuid,
    pub subject: String,
}

/// The image formats Momentarium accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    Jpeg,
    Png,
    Webp,
    Heic,
    Heif,
}

impl ContentType {
    pub const ALL: [ContentType; 5] = [Self::Jpeg, Self::Png, Self::Webp, Self::Heic, Self::Heif];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Heic => "image/heic",
            Self::Heif => "image/heif",
        }
    }

    /// Parses a MIME type, ignoring case and parameters (`image/JPEG; q=1`).
    pub fn parse(raw: &str) -> Option<Self> {
        let essence = raw.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Some(Self::Jpeg),
            "image/png" => Some(Self::Png),
            "image/webp" => Some(Self::Webp),
            "image/heic" => Some(Self::Heic),
            "image/heif" => Some(Self::Heif),
            _ => None,
        }
    }

    /// Parses a MIME type exactly as the API contract lists it (lower case, no
    /// parameters): what a client declares for an upload.
    pub fn parse_exact(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    /// HEIC is HEIF with HEVC inside; uploaders label the two loosely, so they match.
    pub fn same_family(self, other: Self) -> bool {
        self == other
            || matches!(
                (self, other),
                (Self::Heic | Self::Heif, Self::Heic | Self::Heif)
            )
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a filename was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilenameError {
    #[error("the filename is empty")]
    Empty,
    #[error("the filename is longer than 255 characters")]
    TooLong,
    #[error("the filename contains a control character")]
    ControlCharacter,
    #[error("the filename contains a path separator or is a relative path")]
    Path,
}

/// A client's original filename: kept for display, never used in a storage key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filename(String);

impl Filename {
    pub fn parse(raw: &str) -> Result<Self, FilenameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FilenameError::Empty);
        }
        if trimmed.chars().count() > 255 {
            return Err(FilenameError::TooLong);
        }
        if trimmed.chars().any(|c| {
            c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        }) {
            return Err(FilenameError::ControlCharacter);
        }
        if trimmed.contains(['/', '\\']) || trimmed == "." || trimmed == ".." {
            return Err(FilenameError::Path);
        }
        Ok(Self(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where an image lives in the bucket: `uploads/{user_id}/{image_id}`.
/// Built from ids only, so a client's filename can never shape a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageKey {
    pub user_id: Uuid,
    pub image_id: Uuid,
}

impl ImageKey {
    pub const PREFIX: &'static str = "uploads/";

    pub fn new(user_id: Uuid, image_id: Uuid) -> Self {
        Self { user_id, image_id }
    }

    /// Parses a key as stored (already URL-decoded). Anything else is `None`.
    pub fn parse(key: &str) -> Option<Self> {
        let rest = key.strip_prefix(Self::PREFIX)?;
        let (user, image) = rest.split_once('/')?;
        let user_id = Uuid::parse_str(user).ok()?;
        let image_id = Uuid::parse_str(image).ok()?;
        // Only the canonical hyphenated lower-case form round-trips.
        let parsed = Self { user_id, image_id };
        (parsed.to_string() == key).then_some(parsed)
    }

    /// Where a rendition of this photo is stored: beside the uploads, outside the
    /// `uploads/` prefix (no upload event, no pending-upload lifecycle rule).
    pub fn rendition(&self, size: prepare::Size) -> String {
        format!(
            "{}{}/{}/{}.jpg",
            Self::RENDITIONS_PREFIX,
            self.user_id,
            self.image_id,
            size.as_str()
        )
    }

    pub const RENDITIONS_PREFIX: &'static str = "renditions/";
}

impl fmt::Display for ImageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}/{}", Self::PREFIX, self.user_id, self.image_id)
    }
}

/// Decodes an S3 event key: `+` means space, then percent-escapes.
pub fn decode_s3_event_key(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageStatus {
    PendingUpload,
    Uploaded,
    Rejected,
}

impl ImageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingUpload => "pending_upload",
            Self::Uploaded => "uploaded",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending_upload" => Some(Self::PendingUpload),
            "uploaded" => Some(Self::Uploaded),
            "rejected" => Some(Self::Rejected),
            _ => None,
        }
    }
}

/// Where a job being processed is: reading and preparing its photos, waiting on the
/// model, writing the albums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStage {
    Preparing,
    AskingModel,
    Writing,
}

impl JobStage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Preparing => "preparing",
            Self::AskingModel => "asking_model",
            Self::Writing => "writing",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "preparing" => Some(Self::Preparing),
            "asking_model" => Some(Self::AskingModel),
            "writing" => Some(Self::Writing),
            _ => None,
        }
    }
}

/// What a job does: organise a batch into albums, or make a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Organise,
    Generate,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organise => "organise",
            Self::Generate => "generate",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "organise" => Some(Self::Organise),
            "generate" => Some(Self::Generate),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Pending,
    Processing,
    Completed,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "processing" => Some(Self::Processing),
            "completed" => Some(Self::Completed),
            "failed" => Some(Self::Failed),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_parse_loosely_and_print_canonically() {
        assert_eq!(ContentType::parse("image/JPEG"), Some(ContentType::Jpeg));
        assert_eq!(ContentType::parse("image/jpg"), Some(ContentType::Jpeg));
        assert_eq!(
            ContentType::parse("image/png; charset=x"),
            Some(ContentType::Png)
        );
        assert_eq!(ContentType::parse("image/gif"), None);
        assert_eq!(ContentType::parse("text/html"), None);
        assert_eq!(ContentType::Heic.to_string(), "image/heic");
        assert!(ContentType::Heic.same_family(ContentType::Heif));
        assert!(!ContentType::Jpeg.same_family(ContentType::Png));
    }

    #[test]
    fn filenames_keep_unicode_and_refuse_paths_and_controls() {
        assert_eq!(
            Filename::parse(" Strand 🌊 Sylt.jpg ").unwrap().as_str(),
            "Strand 🌊 Sylt.jpg"
        );
        assert_eq!(
            Filename::parse("日本の海.heic").unwrap().as_str(),
            "日本の海.heic"
        );
        assert_eq!(Filename::parse(""), Err(FilenameError::Empty));
        assert_eq!(
            Filename::parse("../../etc/passwd"),
            Err(FilenameError::Path)
        );
        assert_eq!(Filename::parse("..\\boot.ini"), Err(FilenameError::Path));
        assert_eq!(Filename::parse(".."), Err(FilenameError::Path));
        assert_eq!(
            Filename::parse("a\u{0}b.jpg"),
            Err(FilenameError::ControlCharacter)
        );
        assert_eq!(
            Filename::parse("a\nb.jpg"),
            Err(FilenameError::ControlCharacter)
        );
        assert_eq!(
            Filename::parse("gpj.\u{202E}exe"),
            Err(FilenameError::ControlCharacter)
        );
        assert_eq!(
            Filename::parse(&"a".repeat(256)),
            Err(FilenameError::TooLong)
        );
        // The limit is 255 characters, as the contract says, not 255 bytes.
        assert!(Filename::parse(&"é".repeat(255)).is_ok());
        assert_eq!(
            Filename::parse(&"é".repeat(256)),
            Err(FilenameError::TooLong)
        );
    }

    #[test]
    fn image_keys_round_trip_and_refuse_anything_else() {
        let key = ImageKey::new(Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(ImageKey::parse(&key.to_string()), Some(key));
        assert_eq!(ImageKey::parse("uploads/example.txt"), None);
        assert_eq!(
            ImageKey::parse(&format!("other/{}/{}", key.user_id, key.image_id)),
            None
        );
        let upper = key
            .to_string()
            .to_uppercase()
            .replace("UPLOADS/", "uploads/");
        assert_eq!(ImageKey::parse(&upper), None);
        assert_eq!(ImageKey::parse(&format!("{key}/extra")), None);
    }

    #[test]
    fn s3_event_keys_decode_plus_as_space_then_percent_escapes() {
        assert_eq!(decode_s3_event_key("my+photo%2B1.jpg"), "my photo+1.jpg");
        assert_eq!(decode_s3_event_key("caf%C3%A9.jpg"), "café.jpg");
        assert_eq!(decode_s3_event_key("uploads/a/b"), "uploads/a/b");
    }
}
