//! The gallery as one self-contained HTML file: thumbnails embedded, albums with their
//! titles and descriptions, captions and tags, each photo linking to its original.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use momentarium_shared::contract::GalleryImage;
use momentarium_shared::domain::prepare::prepare;

use crate::organize::{BatchResult, LocalPhoto, Skipped, albums_in_order};

pub const PAGE_NAME: &str = "momentarium.html";
const THUMB_EDGE: u32 = 480;

/// Escapes text for HTML content and attribute values.
pub fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a path for an `href`.
fn href_path(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn thumbnail(photo: &LocalPhoto) -> Option<String> {
    let bytes = std::fs::read(&photo.path).ok()?;
    let orientation =
        momentarium_shared::domain::inspect::read_exif(&bytes[..bytes.len().min(256 * 1024)])
            .and_then(|e| e.orientation);
    let small = prepare(&bytes, photo.content_type, orientation, THUMB_EDGE).ok()?;
    Some(format!(
        "data:{};base64,{}",
        small.mime,
        STANDARD.encode(small.bytes)
    ))
}

/// The server's thumbnail rendition as an embeddable image.
pub fn served_thumbnail(jpeg: &[u8]) -> String {
    format!("data:image/jpeg;base64,{}", STANDARD.encode(jpeg))
}

/// Thumbnails made here, on all cores, for the photos the server has none for.
fn thumbnails(photos: Vec<(String, LocalPhoto)>) -> std::collections::HashMap<String, String> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let chunk = photos.len().div_ceil(cores).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = photos
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .filter_map(|(id, p)| thumbnail(p).map(|t| (id.clone(), t)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn link_for(photo: &LocalPhoto, folder: &Path, out: &Path) -> String {
    let page_dir = out.parent().unwrap_or(Path::new("."));
    let same_dir = page_dir.canonicalize().ok() == folder.canonicalize().ok();
    if same_dir {
        href_path(&photo.name)
    } else {
        let abs = photo
            .path
            .canonicalize()
            .unwrap_or_else(|_| photo.path.clone());
        format!("file://{}", href_path(&abs.to_string_lossy()))
    }
}

/// When the photo was taken, as the photographer's clock showed it.
fn when(image: &GalleryImage, photo: &LocalPhoto) -> Option<String> {
    let t = image.taken_at?;
    Some(
        match photo
            .offset_minutes
            .and_then(|m| chrono::FixedOffset::east_opt(i32::from(m) * 60))
        {
            Some(offset) => t
                .with_timezone(&offset)
                .format("%-d %b %Y, %H:%M")
                .to_string(),
            None => t.format("%-d %b %Y, %H:%M").to_string(),
        },
    )
}

/// The page. `served` holds the thumbnails the server made (image id → data URI); the
/// others are made here from the files.
pub fn render(
    folder: &Path,
    out: &Path,
    results: &[BatchResult],
    skipped: &[Skipped],
    mut served: std::collections::HashMap<String, String>,
) -> anyhow::Result<String> {
    let all: Vec<(String, LocalPhoto)> = results
        .iter()
        .flat_map(|r| r.photos.iter().map(|(id, p)| (id.clone(), p.clone())))
        .collect();
    let photo_count = all.len();
    let missing: Vec<(String, LocalPhoto)> = all
        .into_iter()
        .filter(|(id, _)| !served.contains_key(id))
        .collect();
    served.extend(thumbnails(missing));
    let thumbs = served;
    let albums = albums_in_order(results);
    let album_count = albums.len();
    let folder_name = folder
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "Photos".into());

    let mut body = String::new();
    for ordered in &albums {
        let (r, album) = (ordered.result, ordered.album);
        let by_gemini = r.status.organizer.as_deref() == Some("gemini");
        {
            let images = &album.images;
            let cover = album
                .cover_image_id
                .and_then(|id| thumbs.get(&id.to_string()));
            let _ = write!(
                body,
                r#"<section class="album"><header>{cover}<div><h2>{title}</h2><p class="desc">{desc}</p><p class="meta">{n} photo{s}{by}</p></div></header><div class="grid">"#,
                cover = cover
                    .map(|c| format!(r#"<img class="cover" src="{c}" alt="">"#))
                    .unwrap_or_default(),
                title = escape(&ordered.title),
                desc = escape(&album.description),
                n = images.len(),
                s = if images.len() == 1 { "" } else { "s" },
                by = if by_gemini {
                    " · albums by Gemini"
                } else {
                    ""
                },
            );
            for image in images {
                let id = image.image_id.to_string();
                let Some(photo) = r.photos.get(&id) else {
                    continue;
                };
                let caption = image.caption.as_deref().unwrap_or("");
                let tags: Vec<String> = image
                    .tags
                    .iter()
                    .map(|t| format!("<span>{}</span>", escape(t)))
                    .collect();
                let src = thumbs.get(&id).cloned().unwrap_or_default();
                let _ = write!(
                    body,
                    r#"<figure><a href="{href}" title="{name}"><img loading="lazy" src="{src}" alt="{alt}"></a><figcaption>{cap}<small>{name}{when}</small>{tags}</figcaption></figure>"#,
                    href = link_for(photo, folder, out),
                    name = escape(&photo.name),
                    alt = escape(if caption.is_empty() {
                        &photo.name
                    } else {
                        caption
                    }),
                    cap = if caption.is_empty() {
                        String::new()
                    } else {
                        format!("<span class=\"cap\">{}</span>", escape(caption))
                    },
                    when = when(image, photo)
                        .map(|w| format!(" · {w}"))
                        .unwrap_or_default(),
                    tags = if tags.is_empty() {
                        String::new()
                    } else {
                        format!("<span class=\"tags\">{}</span>", tags.join(""))
                    },
                );
            }
            body.push_str("</div></section>");
        }
    }
    if !skipped.is_empty() {
        body.push_str(r#"<section class="skipped"><h3>Left out</h3><ul>"#);
        for s in skipped {
            let _ = write!(body, "<li>{} — {}</li>", escape(&s.name), escape(&s.reason));
        }
        body.push_str("</ul></section>");
    }
    Ok(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Momentarium</title>
<style>
:root{{--bg:#f6f4ef;--fg:#1d1b18;--muted:#6b655c;--card:#fff;--line:#e4dfd5;--accent:#b4532a}}
@media (prefers-color-scheme:dark){{:root{{--bg:#151412;--fg:#efebe4;--muted:#a39d93;--card:#1f1d1a;--line:#34312c;--accent:#e08a5f}}}}
*{{box-sizing:border-box}}body{{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}}
main{{max-width:1200px;margin:0 auto;padding:32px 20px 64px}}
h1{{font:600 2rem/1.2 Georgia,serif;margin:0 0 4px}}.lede{{color:var(--muted);margin:0 0 32px}}
.album{{margin:0 0 48px}}.album header{{display:flex;gap:18px;align-items:center;margin-bottom:16px;border-bottom:1px solid var(--line);padding-bottom:16px}}
.cover{{width:96px;height:96px;object-fit:cover;border-radius:12px;flex:none}}
h2{{font:600 1.5rem/1.25 Georgia,serif;margin:0}}.desc{{margin:4px 0}}.meta{{color:var(--muted);font-size:.85rem;margin:0}}
.grid{{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:16px}}
figure{{margin:0;background:var(--card);border:1px solid var(--line);border-radius:12px;overflow:hidden}}
figure img{{display:block;width:100%;aspect-ratio:4/3;object-fit:cover;transition:transform .2s}}figure a:hover img{{transform:scale(1.03)}}
figcaption{{padding:10px 12px;font-size:.9rem}}.cap{{display:block;margin-bottom:4px}}small{{display:block;color:var(--muted)}}
.tags span{{display:inline-block;margin:6px 6px 0 0;padding:1px 8px;border-radius:99px;background:var(--line);font-size:.75rem}}
.skipped{{color:var(--muted);font-size:.9rem}}a{{color:var(--accent)}}
</style></head>
<body data-images-total="0" data-images-loaded="0"><main><h1>{title}</h1><p class="lede">{photos} photos in {albums} albums · organised by Momentarium</p>
{body}
</main>
<script>
addEventListener("load", () => {{
  const imgs = [...document.images];
  document.body.dataset.imagesTotal = imgs.length;
  document.body.dataset.imagesLoaded = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
}});
</script></body></html>
"#,
        title = escape(&folder_name),
        photos = photo_count,
        albums = album_count,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_paths_are_escaped() {
        assert_eq!(
            escape(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(href_path("Strand 🌊.jpg"), "Strand%20%F0%9F%8C%8A.jpg");
        assert_eq!(href_path("a\"b.jpg"), "a%22b.jpg");
    }
}
