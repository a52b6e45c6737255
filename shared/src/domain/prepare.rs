//! Preparing a photo for the model: decode, downscale to at most 768 px on the long side
//! (one Gemini tile, 258 tokens), apply the EXIF orientation, re-encode as JPEG.
//!
//! JPEGs are decoded at reduced size (DCT scaling: 1/2, 1/4 or 1/8, the smallest that is
//! still at least the target), which turns a 12 MP decode into a ~0.75 MP one; the rest
//! is resized with a SIMD Lanczos filter. PNG and WebP go through the `image` crate. An
//! embedded ICC profile (Display P3, Adobe RGB) is converted to sRGB (qcms), so colours
//! survive in everything derived from the photo.
//! HEIC/HEIF needs libheif, which this pure-Rust build does not carry: such photos are
//! passed to the model as they are when small enough (Gemini reads HEIC), see
//! [`PrepareError::Unsupported`].

use std::io::Cursor;

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;
use image::{DynamicImage, ImageFormat, RgbImage};

use crate::domain::ContentType;

/// The long edge sent to the model: one 768×768 tile.
pub const MAX_EDGE: u32 = 768;
/// JPEG quality of the prepared copy.
pub const QUALITY: u8 = 80;

#[derive(Debug, Clone)]
pub struct Prepared {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Bounds the decoders enforce themselves, whatever the upload inspection said: a file
/// whose header claims more pixels is refused before any pixel buffer is allocated, and
/// no decode allocates more than `max_alloc_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    pub max_pixels: u64,
    pub max_alloc_bytes: u64,
}

impl DecodeLimits {
    /// `MAX_IMAGE_PIXELS`'s default, and a buffer bound that fits a 512 MB Lambda.
    pub const DEFAULT: Self = Self {
        max_pixels: 150_000_000,
        max_alloc_bytes: 384 * 1024 * 1024,
    };

    pub fn with_max_pixels(max_pixels: u64) -> Self {
        Self {
            max_pixels,
            ..Self::DEFAULT
        }
    }

    fn check(self, width: u32, height: u32) -> Result<(), PrepareError> {
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_pixels {
            return Err(PrepareError::TooManyPixels {
                width,
                height,
                limit: self.max_pixels,
            });
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrepareError {
    #[error("the image could not be decoded: {0}")]
    Decode(String),
    #[error("the image is {width}×{height} pixels, over the decoder's limit of {limit}")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("{0} cannot be decoded by this build")]
    Unsupported(ContentType),
    /// The decode would need more memory than [`DecodeLimits`] allows.
    #[error("decoding would pass the memory bound: {0}")]
    OverLimit(String),
}

/// Prepares one photo within the default [`DecodeLimits`]. CPU-bound: call from a
/// blocking thread.
pub fn prepare(
    bytes: &[u8],
    content_type: ContentType,
    orientation: Option<u8>,
    max_edge: u32,
) -> Result<Prepared, PrepareError> {
    prepare_limited(
        bytes,
        content_type,
        orientation,
        max_edge,
        DecodeLimits::DEFAULT,
    )
}

/// Prepares one photo, the decoders bounded by `limits`.
pub fn prepare_limited(
    bytes: &[u8],
    content_type: ContentType,
    orientation: Option<u8>,
    max_edge: u32,
    limits: DecodeLimits,
) -> Result<Prepared, PrepareError> {
    prepare_inner(
        bytes,
        content_type,
        orientation,
        max_edge,
        JpegDecode::Scaled,
        limits,
    )
}

/// How JPEGs are decoded; the benchmark compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JpegDecode {
    /// jpeg-decoder at the smallest DCT scale that still covers the target.
    Scaled,
    /// jpeg-decoder at full size.
    Full,
    /// zune-jpeg (through `image`) at full size: SIMD, no scaling.
    Zune,
}

/// [`prepare`] with a chosen JPEG decoder.
pub fn prepare_with(
    bytes: &[u8],
    content_type: ContentType,
    orientation: Option<u8>,
    max_edge: u32,
    decode: JpegDecode,
) -> Result<Prepared, PrepareError> {
    prepare_inner(
        bytes,
        content_type,
        orientation,
        max_edge,
        decode,
        DecodeLimits::DEFAULT,
    )
}

fn prepare_inner(
    bytes: &[u8],
    content_type: ContentType,
    orientation: Option<u8>,
    max_edge: u32,
    decode: JpegDecode,
    limits: DecodeLimits,
) -> Result<Prepared, PrepareError> {
    let (rgb, icc) = decode_any(bytes, content_type, max_edge, decode, limits)?;
    let orientation = exif_orientation(content_type, orientation);
    let mut small = downscale(rgb, max_edge)?;
    // After the resize, so the colour transform touches ~0.4 MP, not the original's 12.
    if let Some(profile) = icc {
        to_srgb(&mut small, &profile);
    }
    let mut image = DynamicImage::ImageRgb8(small);
    if let Some(o) = orientation.and_then(Orientation::from_exif) {
        image.apply_orientation(o);
    }
    let rgb = image.into_rgb8();
    let (width, height) = rgb.dimensions();
    let out = encode_jpeg(&rgb)?;
    Ok(Prepared {
        bytes: out,
        mime: "image/jpeg",
        width,
        height,
    })
}

/// The sizes made of every photo once, when its upload is inspected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Size {
    /// A grid thumbnail.
    Thumb,
    /// What the model sees: one 768×768 tile.
    Model,
    /// Full-screen viewing.
    Preview,
}

impl Size {
    /// Largest first: each is resized from the one before it.
    pub const ALL: [Size; 3] = [Size::Preview, Size::Model, Size::Thumb];

    /// The long edge, in pixels (a smaller photo keeps its own size).
    pub fn long_edge(self) -> u32 {
        match self {
            Size::Thumb => 360,
            Size::Model => MAX_EDGE,
            Size::Preview => 1600,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Size::Thumb => "thumb",
            Size::Model => "model",
            Size::Preview => "preview",
        }
    }
}

/// One rendition: a JPEG, upright, sRGB.
#[derive(Debug, Clone)]
pub struct Rendition {
    pub size: Size,
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Makes every [`Size`] of a photo from one decode: a JPEG at the smallest DCT scale that
/// still covers the preview, then the preview made upright and sRGB, and each smaller size
/// resized from the one above it. CPU-bound: call from a blocking thread.
pub fn render(
    bytes: &[u8],
    content_type: ContentType,
    orientation: Option<u8>,
    limits: DecodeLimits,
) -> Result<Vec<Rendition>, PrepareError> {
    let largest = Size::ALL[0].long_edge();
    let orientation = exif_orientation(content_type, orientation);
    let (rgb, icc) = decode_any(bytes, content_type, largest, JpegDecode::Scaled, limits)?;
    let mut current = downscale(rgb, largest)?;
    if let Some(profile) = icc {
        to_srgb(&mut current, &profile);
    }
    if let Some(o) = orientation.and_then(Orientation::from_exif) {
        let mut image = DynamicImage::ImageRgb8(current);
        image.apply_orientation(o);
        current = image.into_rgb8();
    }
    let mut out = Vec::with_capacity(Size::ALL.len());
    for size in Size::ALL {
        current = downscale(current, size.long_edge())?;
        let (width, height) = current.dimensions();
        out.push(Rendition {
            size,
            jpeg: encode_jpeg(&current)?,
            width,
            height,
        });
    }
    Ok(out)
}

fn decode_any(
    bytes: &[u8],
    content_type: ContentType,
    max_edge: u32,
    decode: JpegDecode,
    limits: DecodeLimits,
) -> Result<(RgbImage, Option<Vec<u8>>), PrepareError> {
    match (content_type, decode) {
        (ContentType::Jpeg, JpegDecode::Scaled) => decode_jpeg_scaled(bytes, max_edge, limits),
        (ContentType::Jpeg, JpegDecode::Full) => decode_jpeg_scaled(bytes, u32::MAX, limits),
        (ContentType::Jpeg, JpegDecode::Zune) => {
            decode_with_image(bytes, ImageFormat::Jpeg, limits)
        }
        (ContentType::Png, _) => decode_with_image(bytes, ImageFormat::Png, limits),
        (ContentType::Webp, _) => decode_with_image(bytes, ImageFormat::WebP, limits),
        (ContentType::Heic | ContentType::Heif, _) => decode_heif(bytes, content_type, limits),
    }
}

fn encode_jpeg(rgb: &RgbImage) -> Result<Vec<u8>, PrepareError> {
    let (width, height) = rgb.dimensions();
    let mut out = Vec::with_capacity((width * height / 4) as usize);
    jpeg_encoder::Encoder::new(&mut out, QUALITY)
        .encode(
            rgb.as_raw(),
            u16::try_from(width).map_err(|e| PrepareError::Decode(e.to_string()))?,
            u16::try_from(height).map_err(|e| PrepareError::Decode(e.to_string()))?,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(|e| PrepareError::Decode(e.to_string()))?;
    Ok(out)
}

/// The EXIF orientation to apply. libheif applies a HEIF's own rotation and mirroring
/// (irot, imir) when it decodes; an EXIF orientation in a HEIF is not applied on top
/// (HEIF's rule, and what Apple's viewers and browsers do).
fn exif_orientation(content_type: ContentType, orientation: Option<u8>) -> Option<u8> {
    match content_type {
        ContentType::Heic | ContentType::Heif => None,
        _ => orientation,
    }
}

/// Decodes the primary image of a HEIF/HEIC with libheif, as 8-bit RGB, its rotation and
/// mirroring applied; the pixel count is checked before anything is decoded.
#[cfg(feature = "heif")]
fn decode_heif(
    bytes: &[u8],
    _content_type: ContentType,
    limits: DecodeLimits,
) -> Result<(RgbImage, Option<Vec<u8>>), PrepareError> {
    use libheif_rs::{ColorSpace, HeifContext, LibHeif, RgbChroma};
    let err = |e: libheif_rs::HeifError| PrepareError::Decode(e.to_string());
    let context = HeifContext::read_from_bytes(bytes).map_err(err)?;
    let handle = context.primary_image_handle().map_err(err)?;
    let (w, h) = (handle.width(), handle.height());
    limits.check(w, h)?;
    if u64::from(w) * u64::from(h) * 3 > limits.max_alloc_bytes {
        return Err(PrepareError::OverLimit(format!("{w}×{h} pixels")));
    }
    let icc = handle.color_profile_raw().map(|p| p.data);
    let image = LibHeif::new()
        .decode(&handle, ColorSpace::Rgb(RgbChroma::Rgb), None)
        .map_err(err)?;
    let plane = image
        .planes()
        .interleaved
        .ok_or_else(|| PrepareError::Decode("no interleaved RGB plane".into()))?;
    let (pw, ph, stride) = (plane.width, plane.height, plane.stride);
    let row = pw as usize * 3;
    let mut rgb = Vec::with_capacity(row * ph as usize);
    for y in 0..ph as usize {
        let start = y * stride;
        let line = plane
            .data
            .get(start..start + row)
            .ok_or_else(|| PrepareError::Decode("short pixel plane".into()))?;
        rgb.extend_from_slice(line);
    }
    RgbImage::from_raw(pw, ph, rgb)
        .map(|image| (image, icc))
        .ok_or_else(|| PrepareError::Decode("short pixel buffer".into()))
}

/// Without the `heif` feature (the Lambda builds), HEIF/HEIC is not decoded.
#[cfg(not(feature = "heif"))]
fn decode_heif(
    _bytes: &[u8],
    content_type: ContentType,
    _limits: DecodeLimits,
) -> Result<(RgbImage, Option<Vec<u8>>), PrepareError> {
    Err(PrepareError::Unsupported(content_type))
}

/// Decodes with the `image` crate: the header's dimensions are checked against the limits
/// before anything is allocated, and the decoder itself is bounded.
fn decode_with_image(
    bytes: &[u8],
    format: ImageFormat,
    limits: DecodeLimits,
) -> Result<(RgbImage, Option<Vec<u8>>), PrepareError> {
    use image::ImageDecoder;
    let err = |e: image::ImageError| match e {
        image::ImageError::Limits(limit) => PrepareError::OverLimit(limit.to_string()),
        e => PrepareError::Decode(e.to_string()),
    };
    let mut decoder = image::ImageReader::with_format(Cursor::new(bytes), format)
        .into_decoder()
        .map_err(err)?;
    let (w, h) = decoder.dimensions();
    limits.check(w, h)?;
    let mut bounds = image::Limits::default();
    bounds.max_alloc = Some(limits.max_alloc_bytes);
    decoder.set_limits(bounds).map_err(err)?;
    let icc = decoder.icc_profile().ok().flatten();
    let image = DynamicImage::from_decoder(decoder).map_err(err)?;
    Ok((image.into_rgb8(), icc))
}

/// Converts pixels described by an embedded ICC profile (Display P3 from iPhones, Adobe
/// RGB from cameras) to sRGB, what the model, browsers without colour management and the
/// JPEGs written here assume. A profile that cannot be read, or is sRGB already, leaves
/// the pixels as they are.
fn to_srgb(rgb: &mut RgbImage, icc: &[u8]) {
    let Some(source) = qcms::Profile::new_from_slice(icc, false) else {
        return;
    };
    if source.is_sRGB() {
        return;
    }
    let srgb = qcms::Profile::new_sRGB();
    if let Some(transform) = qcms::Transform::new(
        &source,
        &srgb,
        qcms::DataType::RGB8,
        qcms::Intent::Perceptual,
    ) {
        transform.apply(rgb.as_mut());
    }
}

/// Decodes a JPEG at the smallest DCT scale whose long edge is still ≥ `max_edge`; the
/// frame header's pixel count is checked first and the decoder's buffers are bounded.
fn decode_jpeg_scaled(
    bytes: &[u8],
    max_edge: u32,
    limits: DecodeLimits,
) -> Result<(RgbImage, Option<Vec<u8>>), PrepareError> {
    let err = |e: jpeg_decoder::Error| PrepareError::Decode(e.to_string());
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.set_max_decoding_buffer_size(
        usize::try_from(limits.max_alloc_bytes).unwrap_or(usize::MAX),
    );
    decoder.read_info().map_err(err)?;
    let info = decoder
        .info()
        .ok_or_else(|| PrepareError::Decode("no frame header".into()))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    limits.check(w, h)?;
    let long = w.max(h).max(1);
    if long > max_edge {
        let want_w = (w * max_edge).div_ceil(long).max(1);
        let want_h = (h * max_edge).div_ceil(long).max(1);
        decoder.scale(want_w as u16, want_h as u16).map_err(err)?;
    }
    let pixels = decoder.decode().map_err(err)?;
    let info = decoder
        .info()
        .ok_or_else(|| PrepareError::Decode("no frame header".into()))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let rgb: Vec<u8> = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        jpeg_decoder::PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|c| {
                let l = c[0];
                [l, l, l]
            })
            .collect(),
        jpeg_decoder::PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|c| {
                // Adobe CMYK JPEGs store inverted values; this is the common approximation.
                let k = u16::from(c[3]);
                [
                    (u16::from(c[0]) * k / 255) as u8,
                    (u16::from(c[1]) * k / 255) as u8,
                    (u16::from(c[2]) * k / 255) as u8,
                ]
            })
            .collect(),
    };
    let icc = decoder.icc_profile();
    RgbImage::from_raw(w, h, rgb)
        .map(|image| (image, icc))
        .ok_or_else(|| PrepareError::Decode("short pixel buffer".into()))
}

/// Resizes so the long edge is at most `max_edge` (Lanczos3, SIMD where the CPU has it).
fn downscale(rgb: RgbImage, max_edge: u32) -> Result<RgbImage, PrepareError> {
    let (w, h) = rgb.dimensions();
    let long = w.max(h);
    if long <= max_edge {
        return Ok(rgb);
    }
    let tw = (u64::from(w) * u64::from(max_edge) / u64::from(long)).max(1) as u32;
    let th = (u64::from(h) * u64::from(max_edge) / u64::from(long)).max(1) as u32;
    let src = Image::from_vec_u8(w, h, rgb.into_raw(), PixelType::U8x3)
        .map_err(|e| PrepareError::Decode(e.to_string()))?;
    let mut dst = Image::new(tw, th, PixelType::U8x3);
    Resizer::new()
        .resize(
            &src,
            &mut dst,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)),
        )
        .map_err(|e| PrepareError::Decode(e.to_string()))?;
    RgbImage::from_raw(tw, th, dst.into_vec())
        .ok_or_else(|| PrepareError::Decode("short pixel buffer".into()))
}

/// A coarse colour signature of a prepared photo (4×4×4 RGB histogram, normalised), for
/// grouping photos that have no EXIF by how they look.
pub fn colour_signature(prepared_jpeg: &[u8]) -> Option<[f32; 64]> {
    let img = image::load_from_memory_with_format(prepared_jpeg, ImageFormat::Jpeg)
        .ok()?
        .into_rgb8();
    let mut hist = [0f32; 64];
    let mut n = 0f32;
    for p in img.pixels().step_by(7) {
        let bin =
            (usize::from(p[0]) >> 6) * 16 + (usize::from(p[1]) >> 6) * 4 + (usize::from(p[2]) >> 6);
        hist[bin] += 1.0;
        n += 1.0;
    }
    if n > 0.0 {
        hist.iter_mut().for_each(|v| *v /= n);
    }
    Some(hist)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    fn dims(bytes: &[u8]) -> (u32, u32) {
        let s = imagesize::blob_size(bytes).unwrap();
        (s.width as u32, s.height as u32)
    }

    #[test]
    fn a_large_jpeg_becomes_one_tile_with_its_aspect_kept() {
        let out = prepare(&jpeg(2000, 1500), ContentType::Jpeg, None, MAX_EDGE).unwrap();
        assert_eq!((out.width, out.height), (768, 576));
        assert_eq!(dims(&out.bytes), (768, 576));
        assert_eq!(out.mime, "image/jpeg");
    }

    #[test]
    fn orientation_six_turns_landscape_into_portrait() {
        let out = prepare(&jpeg(1600, 1200), ContentType::Jpeg, Some(6), MAX_EDGE).unwrap();
        assert_eq!((out.width, out.height), (576, 768));
    }

    #[test]
    fn small_photos_are_not_upscaled() {
        let out = prepare(&jpeg(300, 200), ContentType::Jpeg, Some(1), MAX_EDGE).unwrap();
        assert_eq!((out.width, out.height), (300, 200));
    }

    #[test]
    fn png_is_prepared_and_a_broken_heic_is_an_error_not_a_panic() {
        let img = RgbImage::from_fn(1000, 500, |x, _| image::Rgb([(x % 256) as u8, 0, 0]));
        let mut png = Cursor::new(Vec::new());
        img.write_to(&mut png, ImageFormat::Png).unwrap();
        let out = prepare(png.get_ref(), ContentType::Png, None, MAX_EDGE).unwrap();
        assert_eq!((out.width, out.height), (768, 384));
        // With libheif (the `heif` feature) a decode error; without it, unsupported.
        let expected = |e: &PrepareError| {
            if cfg!(feature = "heif") {
                matches!(e, PrepareError::Decode(_))
            } else {
                *e == PrepareError::Unsupported(ContentType::Heic)
            }
        };
        let err = prepare(b"....ftypheic", ContentType::Heic, None, MAX_EDGE).unwrap_err();
        assert!(expected(&err), "{err:?}");
    }

    #[test]
    fn garbage_is_a_decode_error_not_a_panic() {
        assert!(matches!(
            prepare(
                &[0xFF, 0xD8, 0xFF, 0x00, 0x01],
                ContentType::Jpeg,
                None,
                MAX_EDGE
            ),
            Err(PrepareError::Decode(_))
        ));
        let mut cut = jpeg(800, 600);
        cut.truncate(cut.len() / 3);
        // A truncated JPEG either decodes partially or errors; it must not panic.
        let _ = prepare(&cut, ContentType::Jpeg, None, MAX_EDGE);
    }

    fn solid(rgb: [u8; 3]) -> [f32; 64] {
        let img = RgbImage::from_pixel(120, 80, image::Rgb(rgb));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
        let prepared = prepare(out.get_ref(), ContentType::Jpeg, None, MAX_EDGE).unwrap();
        colour_signature(&prepared.bytes).unwrap()
    }

    fn distance(a: &[f32; 64], b: &[f32; 64]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
    }

    #[test]
    fn colour_signatures_sum_to_one_and_tell_colours_apart() {
        let gradient = prepare(&jpeg(100, 100), ContentType::Jpeg, None, MAX_EDGE).unwrap();
        let sig = colour_signature(&gradient.bytes).unwrap();
        assert!((sig.iter().sum::<f32>() - 1.0).abs() < 1e-3);

        let (red, darker_red, blue) = (
            solid([220, 30, 30]),
            solid([200, 20, 40]),
            solid([30, 40, 220]),
        );
        for s in [&red, &darker_red, &blue] {
            assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-3);
        }
        // Red falls in the bin (r 3, g 0, b 0), blue in (0, 0, 3).
        assert!(red[3 * 16] > 0.9, "{red:?}");
        assert!(blue[3] > 0.9, "{blue:?}");
        assert!(
            distance(&red, &blue) > 1.8,
            "red and blue are far apart: {}",
            distance(&red, &blue)
        );
        assert!(
            distance(&red, &darker_red) < 0.2,
            "two reds are close: {}",
            distance(&red, &darker_red)
        );
    }
}
