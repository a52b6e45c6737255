//! `momentarium generate "…" [--ref photo.jpg …] [-o out.png]`: a picture from a prompt,
//! through the API as any client would make it — reference photos uploaded, the
//! generation asked for, its job followed, the picture downloaded.

use std::path::{Path, PathBuf};

use anyhow::Context;
use momentarium_shared::contract::{
    Generation, GenerationAccepted, GenerationRequest, ImageDetails,
};
use momentarium_shared::domain::JobStatus;
use momentarium_shared::domain::inspect::sniff;

use crate::client::ApiClient;

pub struct Options {
    pub prompt: String,
    pub references: Vec<PathBuf>,
    pub out: Option<PathBuf>,
    pub provider: Option<String>,
    pub aspect_ratio: Option<String>,
}

/// Makes the picture and writes it; returns where.
pub async fn generate(client: &ApiClient, options: &Options) -> anyhow::Result<PathBuf> {
    let mut reference_ids = Vec::new();
    if !options.references.is_empty() {
        let mut files = Vec::new();
        let mut bodies = Vec::new();
        for path in &options.references {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let content_type = sniff(&bytes).with_context(|| {
                format!("{} is not a JPEG, PNG, WebP or HEIC photo", path.display())
            })?;
            let name = path
                .file_name()
                .map_or_else(|| "reference".into(), |n| n.to_string_lossy().into_owned());
            files.push((name, content_type.as_str(), bytes.len() as u64));
            bodies.push(bytes);
        }
        let tickets = client.generate_urls(&files).await?;
        for (ticket, bytes) in tickets.iter().zip(bodies) {
            client.put(ticket, bytes).await?;
            reference_ids.push(ticket.image_id);
        }
    }
    let request = GenerationRequest {
        prompt: options.prompt.clone(),
        reference_image_ids: reference_ids,
        aspect_ratio: options.aspect_ratio.clone(),
        provider: options.provider.clone(),
    };
    let accepted: GenerationAccepted = client.post("/api/generations", &request, None).await?;
    eprintln!(
        "Asked for the picture (generation {}); waiting…",
        accepted.generation_id
    );
    let last = client
        .follow_job(accepted.generation_id, |status| {
            if let Some(stage) = status.stage {
                tracing::debug!(stage = ?stage, "generation");
            }
        })
        .await?;
    let generation: Generation = client
        .get(&format!("/api/generations/{}", accepted.generation_id))
        .await?;
    if last.status != JobStatus::Completed {
        anyhow::bail!(
            "{}",
            generation
                .error
                .unwrap_or_else(|| format!("the generation ended {}", last.status.as_str()))
        );
    }
    let image_id = generation
        .image_id
        .context("the generation completed without a picture")?;
    let details: ImageDetails = client.get(&format!("/api/images/{image_id}")).await?;
    let url = details.url.context("the picture has no download URL")?;
    let bytes = client.download(&url).await?;
    let out = match &options.out {
        Some(out) => out.clone(),
        None => PathBuf::from(&details.filename),
    };
    write(&out, &bytes)?;
    eprintln!(
        "{} by {} ({}): {} tokens in, {} out, ${:.4}.",
        generation.origin,
        generation.provider,
        generation.model,
        generation.input_tokens,
        generation.output_tokens,
        generation.cost_usd
    );
    Ok(out)
}

fn write(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))
}
