//! Test photos made in code: real JPEG/PNG/WebP bytes, with EXIF where asked.

use std::io::Cursor;

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use image::{ImageBuffer, ImageFormat, Rgb, RgbImage};

/// EXIF to embed in a JPEG.
#[derive(Debug, Clone, Default)]
pub struct Exif {
    /// `YYYY:MM:DD HH:MM:SS`, local time.
    pub taken: Option<&'static str>,
    /// `+02:00`.
    pub offset: Option<&'static str>,
    /// Degrees: positive north / east.
    pub gps: Option<(f64, f64)>,
    pub make: Option<&'static str>,
    pub model: Option<&'static str>,
    pub orientation: Option<u16>,
}

/// A `w`×`h` picture with a gradient and a tint, so photos differ visibly.
pub fn picture(w: u32, h: u32, tint: [u8; 3]) -> RgbImage {
    ImageBuffer::from_fn(w, h, |x, y| {
        let fx = (x * 255 / w.max(1)) as u8;
        let fy = (y * 255 / h.max(1)) as u8;
        Rgb([
            tint[0].saturating_add(fx / 3),
            tint[1].saturating_add(fy / 3),
            tint[2].saturating_add((fx / 2).wrapping_add(fy / 2) / 2),
        ])
    })
}

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format)
        .expect("encoding a test image");
    out.into_inner()
}

pub fn png(w: u32, h: u32) -> Vec<u8> {
    encode(&picture(w, h, [40, 120, 60]), ImageFormat::Png)
}

pub fn webp(w: u32, h: u32) -> Vec<u8> {
    encode(&picture(w, h, [90, 60, 140]), ImageFormat::WebP)
}

fn dms(deg: f64) -> Value {
    let d = deg.abs();
    let whole = d.floor();
    let minutes = (d - whole) * 60.0;
    let m = minutes.floor();
    let s = (minutes - m) * 60.0;
    Value::Rational(vec![
        Rational::from((whole as u32, 1)),
        Rational::from((m as u32, 1)),
        Rational::from(((s * 1000.0).round() as u32, 1000)),
    ])
}

fn ascii(s: &str) -> Value {
    Value::Ascii(vec![s.as_bytes().to_vec()])
}

/// A JPEG with the given EXIF (APP1 inserted right after SOI, where cameras put it).
pub fn jpeg(w: u32, h: u32, tint: [u8; 3], exif: &Exif) -> Vec<u8> {
    let plain = encode(&picture(w, h, tint), ImageFormat::Jpeg);
    let mut fields = Vec::new();
    let mut push = |tag: Tag, value: Value| {
        fields.push(Field {
            tag,
            ifd_num: In::PRIMARY,
            value,
        })
    };
    if let Some(t) = exif.taken {
        push(Tag::DateTimeOriginal, ascii(t));
    }
    if let Some(o) = exif.offset {
        push(Tag::OffsetTimeOriginal, ascii(o));
    }
    if let Some((lat, lon)) = exif.gps {
        push(
            Tag::GPSLatitudeRef,
            ascii(if lat >= 0.0 { "N" } else { "S" }),
        );
        push(Tag::GPSLatitude, dms(lat));
        push(
            Tag::GPSLongitudeRef,
            ascii(if lon >= 0.0 { "E" } else { "W" }),
        );
        push(Tag::GPSLongitude, dms(lon));
    }
    if let Some(m) = exif.make {
        push(Tag::Make, ascii(m));
    }
    if let Some(m) = exif.model {
        push(Tag::Model, ascii(m));
    }
    if let Some(o) = exif.orientation {
        push(Tag::Orientation, Value::Short(vec![o]));
    }
    if fields.is_empty() {
        return plain;
    }
    let mut writer = Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).expect("writing EXIF");
    let tiff = tiff.into_inner();
    let len = (2 + 6 + tiff.len()) as u16;
    let mut out = Vec::with_capacity(plain.len() + tiff.len() + 10);
    out.extend_from_slice(&plain[..2]);
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&plain[2..]);
    out
}

/// A JPEG whose header claims `w`×`h` but which carries no real image data: what a
/// decompression bomb looks like from its first bytes.
pub fn jpeg_header_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    // SOF0: length 17, precision 8, height, width, 3 components.
    out.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
    out.extend_from_slice(&h.to_be_bytes());
    out.extend_from_slice(&w.to_be_bytes());
    out.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
    out.extend_from_slice(&[0u8; 64]);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}
