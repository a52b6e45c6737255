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
    /// The structure is whole but the pixels cannot be decoded (what the decoder said).
    Undecodable(String),
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
            Self::Undecodable(why) => write!(
                f,
                "The image could not be decoded ({why}); the file may be damaged."
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
    let (mut w, mut h) = (dims.width as u64, dims.height as u64);
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
    // A HEIF is shown as its own rotation (irot) says; its EXIF orientation is not applied
    // on top. `imagesize` reports the stored size (ispe).
    let heif = matches!(actual, ContentType::Heic | ContentType::Heif);
    if heif && heif_quarter_turn(head) {
        std::mem::swap(&mut w, &mut h);
    }
    let rotated = !heif && matches!(exif.orientation, Some(5..=8));
    let (width, height) = if rotated { (h, w) } else { (w, h) };
    let motion_photo = actual == ContentType::Jpeg
        && is_motion_photo(&head[..head.len().min(HEAD_BYTES as usize)]);
    Ok(Inspection {
        content_type: actual,
        width: u32::try_from(width).map_err(|_| Rejection::Unreadable)?,
        height: u32::try_from(height).map_err(|_| Rejection::Unreadable)?,
        exif,
        motion_photo,
    })
}

/// Whether a HEIF's image is turned by 90° or 270° for display: an `irot` property box (9
/// bytes: size, type, angle in quarter turns anticlockwise) with an odd angle in its
/// `meta` box. Phones write one rotation, for the primary image.
fn heif_quarter_turn(head: &[u8]) -> bool {
    head.windows(9)
        .take(256 * 1024)
        .any(|w| w[..8] == [0, 0, 0, 9, b'i', b'r', b'o', b't'] && w[8] & 1 == 1)
}

fn is_motion_photo(head: &[u8]) -> bool {
    let needles: [&[u8]; 3] = [b"MotionPhoto", b"MicroVideo", b"Container:Directory"];
    needles
        .iter()
        .any(|n| head.windows(n.len()).any(|w| w == *n))
}

/// Checks the whole file is there, judged by its structure as a decoder reads it, not
/// by its last bytes: a JPEG is whole when its scan data reaches the end-of-image marker
/// (whatever follows it — phone trailers such as Samsung's SEF block, a motion photo's
/// video, padding — is left alone); a PNG when its chunks reach IEND; a WebP when its
/// RIFF chunk fits in the file; a HEIF when no top-level box runs past the end.
pub fn check_whole(inspection: &Inspection, bytes: &[u8]) -> Result<(), Rejection> {
    let whole = match inspection.content_type {
        ContentType::Jpeg => jpeg_structure(bytes),
        ContentType::Png => png_structure(bytes),
        ContentType::Webp => webp_structure(bytes),
        ContentType::Heic | ContentType::Heif => heif_structure(bytes),
    };
    match whole {
        Structure::Whole => Ok(()),
        Structure::Truncated => Err(Rejection::Truncated),
        Structure::Corrupt => Err(Rejection::Unreadable),
    }
}

/// What walking a file's structure found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Structure {
    Whole,
    /// The structure runs past the end of the file: cut short.
    Truncated,
    /// The structure is not what the format allows.
    Corrupt,
}

fn be16(bytes: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *bytes.get(at)?,
        *bytes.get(at + 1)?,
    ])))
}

fn be32(bytes: &[u8], at: usize) -> Option<u64> {
    let b = bytes.get(at..at + 4)?;
    Some(u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
}

/// Walks a JPEG's markers as a decoder does: segments by their lengths (so an EXIF
/// thumbnail's own end marker inside APP1 is skipped), entropy-coded data up to the next
/// real marker (`FF 00` stuffing and restart markers are data), until EOI after a scan.
pub fn jpeg_structure(bytes: &[u8]) -> Structure {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Structure::Corrupt;
    }
    let mut pos = 2;
    let mut scanned = false;
    loop {
        match bytes.get(pos) {
            None => return Structure::Truncated,
            Some(0xFF) => {}
            Some(_) => return Structure::Corrupt,
        }
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else {
            return Structure::Truncated;
        };
        pos += 1;
        match marker {
            0xD9 if scanned => return Structure::Whole,
            // An end of image before any scan: there is no picture to decode.
            0xD9 | 0x00 => return Structure::Corrupt,
            0x01 | 0xD0..=0xD7 => {}
            _ => {
                let Some(length) = be16(bytes, pos) else {
                    return Structure::Truncated;
                };
                if length < 2 {
                    return Structure::Corrupt;
                }
                pos += length;
                if pos > bytes.len() {
                    return Structure::Truncated;
                }
                if marker == 0xDA {
                    scanned = true;
                    match next_marker_after_scan(bytes, pos) {
                        Some(at) => pos = at,
                        None => return Structure::Truncated,
                    }
                }
            }
        }
    }
}

/// The offset of the marker that ends entropy-coded data starting at `from`.
fn next_marker_after_scan(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        at += memchr::memchr(0xFF, bytes.get(at..)?)?;
        match bytes.get(at + 1)? {
            0x00 | 0xD0..=0xD7 => at += 2,
            0xFF => at += 1,
            _ => return Some(at),
        }
    }
}

fn png_structure(bytes: &[u8]) -> Structure {
    let mut pos = 8;
    loop {
        let (Some(length), Some(kind)) = (be32(bytes, pos), bytes.get(pos + 4..pos + 8)) else {
            return Structure::Truncated;
        };
        let end = pos as u64 + 12 + length;
        if end > bytes.len() as u64 {
            return Structure::Truncated;
        }
        if kind == b"IEND" {
            return Structure::Whole;
        }
        pos = end as usize;
    }
}

fn webp_structure(bytes: &[u8]) -> Structure {
    let Some(b) = bytes.get(4..8) else {
        return Structure::Truncated;
    };
    let riff = u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if riff + 8 <= bytes.len() as u64 {
        Structure::Whole
    } else {
        Structure::Truncated
    }
}

fn heif_structure(bytes: &[u8]) -> Structure {
    let mut pos: u64 = 0;
    let len = bytes.len() as u64;
    while pos < len {
        let Some(size) = be32(bytes, pos as usize) else {
            return Structure::Truncated;
        };
        let size = match size {
            0 => return Structure::Whole, // the last box runs to the end of the file
            1 => match (
                be32(bytes, pos as usize + 8),
                be32(bytes, pos as usize + 12),
            ) {
                (Some(hi), Some(lo)) => (hi << 32) | lo,
                _ => return Structure::Truncated,
            },
            n => n,
        };
        if size < 8 {
            return Structure::Corrupt;
        }
        pos = pos.saturating_add(size);
        if pos > len {
            return Structure::Truncated;
        }
    }
    Structure::Whole
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
