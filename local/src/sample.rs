//! Sample photos made in code: real JPEG/PNG/WebP bytes, with EXIF where asked. The tests
//! use them, and `momentarium demo` writes a folder of them for a first run.

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
    jpeg_of(&picture(w, h, tint), exif)
}

/// `image` as a JPEG with the given EXIF.
pub fn jpeg_of(image: &RgbImage, exif: &Exif) -> Vec<u8> {
    let plain = encode(image, ImageFormat::Jpeg);
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
    writer
        .write(&mut tiff, false)
        .expect("writing EXIF to memory cannot fail");
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

/// Writes a folder like a phone's after two outings: a garden walk (Berlin, May, Pixel 8)
/// and an evening at the coast (Sylt, August, iPhone, one photo rotated), a PNG without
/// EXIF, and a file that is not a photo.
pub fn demo_folder(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let garden = [
        "2025:05:10 09:40:00",
        "2025:05:10 09:51:30",
        "2025:05:10 10:05:10",
        "2025:05:10 10:22:45",
    ];
    for (i, taken) in garden.into_iter().enumerate() {
        let exif = Exif {
            taken: Some(taken),
            offset: Some("+02:00"),
            gps: Some((52.4559, 13.3063)),
            make: Some("Google"),
            model: Some("Pixel 8"),
            ..Exif::default()
        };
        std::fs::write(
            dir.join(format!("garden-{i}.jpg")),
            jpeg(640, 480, [40, 150 + i as u8 * 20, 50], &exif),
        )?;
    }
    let coast = [
        "2025:08:02 18:05:00",
        "2025:08:02 18:20:00",
        "2025:08:02 18:41:00",
    ];
    for (i, taken) in coast.into_iter().enumerate() {
        let exif = Exif {
            taken: Some(taken),
            offset: Some("+02:00"),
            gps: Some((54.9079, 8.3089)),
            make: Some("Apple"),
            model: Some("iPhone 15"),
            orientation: Some(if i == 0 { 6 } else { 1 }),
        };
        std::fs::write(
            dir.join(format!("coast-{i}.jpg")),
            jpeg(800, 600, [30, 80, 170 + i as u8 * 20], &exif),
        )?;
    }
    std::fs::write(dir.join("scan.png"), png(300, 200))?;
    std::fs::write(dir.join("notes.txt"), b"shopping list: film, batteries")?;
    Ok(())
}
