//! Inspecting an upload from its first bytes (one ranged GET) and its last few (another):
//! what it really is, its dimensions, its EXIF, and whether it is whole.

use std::fmt;
use std::io::Cursor;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use exif::{In, Tag, Value};

use crate::domain::ContentType;

/// How many leading bytes are read. EXIF (APP1, ≤ 64 KiB) and the frame header of a
/// phone JPEG, and a HEIF's `meta` box, sit well inside this.
pub const HEAD_BYTES: u64 = 256 * 1024;
/// How many trailing bytes are read to check the file is whole.
pub const TAIL_BYTES: u64 = 32;

/// Why an upload was refused: a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    Empty,
    NotAnImage,
    TypeMismatch {
        declared: ContentType,
        actual: ContentType,
    },
    Unreadable,
    TooManyPixels {
        width: u64,
        height: u64,
        limit: u64,
    },
    Truncated,
    SizeMismatch {
        declared: u64,
        actual: u64,
    },
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "The file is empty."),
            Self::NotAnImage => write!(f, "The file is not a JPEG, PNG, WebP or HEIC/HEIF image."),
            Self::TypeMismatch { declared, actual } => write!(
                f,
                "The file was declared as {declared} but is really {actual}; upload it again with its real type."
            ),
            Self::Unreadable => write!(
                f,
                "The image header could not be read; the file may be damaged."
            ),
            Self::TooManyPixels {
                width,
                height,
                limit,
            } => write!(
                f,
                "The image is {width}×{height} pixels, over the limit of {limit} pixels."
            ),
            Self::Truncated => write!(f, "The file is cut short; upload it again."),
            Self::SizeMismatch { declared, actual } => write!(
                f,
                "The upload is {actual} bytes but {declared} were declared."
            ),
        }
    }
}

/// What the EXIF block says, when there is one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExifInfo {
    /// The instant the photo was taken. When the camera recorded no UTC offset, this is
    /// the local wall-clock time read as UTC and `offset_minutes` is `None`.
    pub taken_at: Option<DateTime<Utc>>,
    pub offset_minutes: Option<i16>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    /// EXIF orientation 1–8.
    pub orientation: Option<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    pub content_type: ContentType,
    /// As displayed: swapped when the EXIF orientation rotates by 90°.
    pub width: u32,
    pub height: u32,
    pub exif: ExifInfo,
    /// A Google "motion photo": a JPEG with a video appended after its end marker.
    pub motion_photo: bool,
}

/// Recognises the format from magic bytes.
pub fn sniff(head: &[u8]) -> Option<ContentType> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(ContentType::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(ContentType::Png);
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some(ContentType::Webp);
    }
    if head.len() >= 16 && &head[4..8] == b"ftyp" {
        let box_len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let end = box_len.clamp(16, head.len());
        let brands = std::iter::once(&head[8..12]).chain(head[16..end].chunks_exact(4));
        let mut heif = false;
        for brand in brands {
            match brand {
                b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" => {
                    return Some(ContentType::Heic);
                }
                b"mif1" | b"msf1" | b"heif" => heif = true,
                _ => {}
            }
        }
        if heif {
            return Some(ContentType::Heif);
        }
    }
    None
}

/// Inspects the head of an upload of `size` bytes declared as `declared`.
pub fn inspect_head(
    head: &[u8],
    size: u64,
    declared_type: ContentType,
    declared_size: u64,
    max_pixels: u64,
) -> Result<Inspection, Rejection> {
    if size == 0 || head.is_empty() {
        return Err(Rejection::Empty);
    }
    if size != declared_size {
        return Err(Rejection::SizeMismatch {
            declared: declared_size,
            actual: size,
        });
    }
    let actual = sniff(head).ok_or(Rejection::NotAnImage)?;
    if !actual.same_family(declared_type) {
        return Err(Rejection::TypeMismatch {
            declared: declared_type,
            actual,
        });
    }
    let dims = imagesize::blob_size(head).map_err(|_| Rejection::Unreadable)?;
    let (w, h) = (dims.width as u64, dims.height as u64);
    if w == 0 || h == 0 {
        return Err(Rejection::Unreadable);
    }
    if w.saturating_mul(h) > max_pixels {
        return Err(Rejection::TooManyPixels {
            width: w,
            height: h,
            limit: max_pixels,
        });
    }
    let exif = read_exif(head).unwrap_or_default();
    let rotated = matches!(exif.orientation, Some(5..=8));
    let (width, height) = if rotated { (h, w) } else { (w, h) };
    let motion_photo = actual == ContentType::Jpeg && is_motion_photo(head);
    Ok(Inspection {
        content_type: actual,
        width: u32::try_from(width).map_err(|_| Rejection::Unreadable)?,
        height: u32::try_from(height).map_err(|_| Rejection::Unreadable)?,
        exif,
        motion_photo,
    })
}

fn is_motion_photo(head: &[u8]) -> bool {
    let needles: [&[u8]; 3] = [b"MotionPhoto", b"MicroVideo", b"Container:Directory"];
    needles
        .iter()
        .any(|n| head.windows(n.len()).any(|w| w == *n))
}

/// Checks the last bytes: a JPEG ends with its EOI marker, a PNG with its IEND chunk, a
/// WebP's RIFF header states the file's size. HEIF has no trailer to check.
pub fn check_tail(
    inspection: &Inspection,
    head: &[u8],
    tail: &[u8],
    size: u64,
) -> Result<(), Rejection> {
    match inspection.content_type {
        ContentType::Jpeg if !inspection.motion_photo => {
            // Some encoders pad after EOI; skip zero/0xFF padding.
            let trimmed = tail
                .iter()
                .rposition(|b| *b != 0x00)
                .map(|i| &tail[..=i])
                .unwrap_or(&[]);
            if trimmed.ends_with(&[0xFF, 0xD9]) {
                Ok(())
            } else {
                Err(Rejection::Truncated)
            }
        }
        ContentType::Png => {
            if tail.ends_with(&[0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]) {
                Ok(())
            } else {
                Err(Rejection::Truncated)
            }
        }
        ContentType::Webp => {
            let riff = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as u64;
            // RIFF pads odd-sized payloads with one byte.
            if riff + 8 == size || riff + 9 == size {
                Ok(())
            } else {
                Err(Rejection::Truncated)
            }
        }
        _ => Ok(()),
    }
}

fn ascii(field: &exif::Field) -> Option<String> {
    match &field.value {
        Value::Ascii(parts) => parts.first().map(|bytes| {
            String::from_utf8_lossy(bytes)
                .trim_end_matches('\0')
                .trim()
                .to_string()
        }),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

fn gps_degrees(field: &exif::Field) -> Option<f64> {
    match &field.value {
        Value::Rational(parts) if parts.len() >= 3 => {
            let d = parts[0].to_f64();
            let m = parts[1].to_f64();
            let s = parts[2].to_f64();
            let v = d + m / 60.0 + s / 3600.0;
            v.is_finite().then_some(v)
        }
        _ => None,
    }
}

/// Reads the EXIF fields Momentarium uses. Missing or odd fields are simply absent.
pub fn read_exif(head: &[u8]) -> Option<ExifInfo> {
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(head))
        .ok()?;
    let get = |tag| exif.get_field(tag, In::PRIMARY);
    let mut info = ExifInfo {
        camera_make: get(Tag::Make).and_then(ascii),
        camera_model: get(Tag::Model).and_then(ascii),
        orientation: get(Tag::Orientation)
            .and_then(|f| f.value.get_uint(0))
            .and_then(|o| u8::try_from(o).ok())
            .filter(|o| (1..=8).contains(o)),
        ..ExifInfo::default()
    };
    let datetime = get(Tag::DateTimeOriginal)
        .or_else(|| get(Tag::DateTimeDigitized))
        .or_else(|| get(Tag::DateTime));
    if let Some(Value::Ascii(parts)) = datetime.map(|f| &f.value)
        && let Some(raw) = parts.first()
        && let Ok(mut dt) = exif::DateTime::from_ascii(raw)
    {
        let offset = get(Tag::OffsetTimeOriginal).or_else(|| get(Tag::OffsetTime));
        if let Some(Value::Ascii(o)) = offset.map(|f| &f.value)
            && let Some(o) = o.first()
        {
            let _ = dt.parse_offset(o);
        }
        if let Some(naive) = NaiveDate::from_ymd_opt(dt.year.into(), dt.month.into(), dt.day.into())
            .and_then(|d| d.and_hms_opt(dt.hour.into(), dt.minute.into(), dt.second.into()))
        {
            match dt.offset.filter(|o| o.abs() <= 18 * 60) {
                Some(minutes) => {
                    let tz = FixedOffset::east_opt(i32::from(minutes) * 60)?;
                    info.taken_at = tz
                        .from_local_datetime(&naive)
                        .single()
                        .map(|t| t.with_timezone(&Utc));
                    info.offset_minutes = Some(minutes);
                }
                None => info.taken_at = Some(Utc.from_utc_datetime(&naive)),
            }
        }
    }
    let lat = get(Tag::GPSLatitude).and_then(gps_degrees);
    let lon = get(Tag::GPSLongitude).and_then(gps_degrees);
    if let (Some(lat), Some(lon)) = (lat, lon) {
        let south = get(Tag::GPSLatitudeRef).and_then(ascii).as_deref() == Some("S");
        let west = get(Tag::GPSLongitudeRef).and_then(ascii).as_deref() == Some("W");
        let lat = if south { -lat } else { lat };
        let lon = if west { -lon } else { lon };
        if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) {
            info.latitude = Some(lat);
            info.longitude = Some(lon);
        }
    }
    Some(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_accepted_format_and_nothing_else() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            Some(ContentType::Jpeg)
        );
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(ContentType::Png));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(ContentType::Webp));
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"),
            Some(ContentType::Heic)
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic"),
            Some(ContentType::Heic)
        );
        assert_eq!(
            sniff(b"\0\0\0\x14ftypmif1\0\0\0\0mif1"),
            Some(ContentType::Heif)
        );
        assert_eq!(sniff(b"\0\0\0\x14ftypavif\0\0\0\0avif"), None);
        assert_eq!(sniff(b"GIF89a......"), None);
        assert_eq!(sniff(b"<html><body>"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn empty_and_wrong_size_uploads_are_refused() {
        assert_eq!(
            inspect_head(b"", 0, ContentType::Jpeg, 10, 1000),
            Err(Rejection::Empty)
        );
        assert_eq!(
            inspect_head(&[0xFF, 0xD8, 0xFF], 3, ContentType::Jpeg, 10, 1000),
            Err(Rejection::SizeMismatch {
                declared: 10,
                actual: 3
            })
        );
        assert_eq!(
            inspect_head(b"hello world", 11, ContentType::Jpeg, 11, 1000),
            Err(Rejection::NotAnImage)
        );
        assert_eq!(
            inspect_head(b"\x89PNG\r\n\x1a\n....", 12, ContentType::Jpeg, 12, 1000),
            Err(Rejection::TypeMismatch {
                declared: ContentType::Jpeg,
                actual: ContentType::Png
            })
        );
    }

    #[test]
    fn rejections_read_as_sentences() {
        let text = Rejection::TooManyPixels {
            width: 30000,
            height: 30000,
            limit: 150_000_000,
        }
        .to_string();
        assert!(text.contains("30000×30000"), "{text}");
        let text = Rejection::TypeMismatch {
            declared: ContentType::Jpeg,
            actual: ContentType::Png,
        }
        .to_string();
        assert!(
            text.contains("image/jpeg") && text.contains("image/png"),
            "{text}"
        );
    }
}
