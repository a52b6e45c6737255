//! `momentarium search "beach at sunset in Portugal last summer"`: the caller's photos,
//! best first, with how the query was read — through the API as any client would ask.

use momentarium_shared::contract::SearchResults;

use crate::client::ApiClient;

pub struct Options {
    pub query: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub place: Option<String>,
    pub similar_to: Option<String>,
    pub limit: usize,
    pub json: bool,
}

pub async fn search(client: &ApiClient, options: &Options) -> anyhow::Result<String> {
    // This machine's date, for "today", "yesterday" and "this weekend".
    let today = chrono::Local::now().date_naive().to_string();
    let mut query: Vec<(&str, String)> =
        vec![("limit", options.limit.to_string()), ("today", today)];
    if !options.query.is_empty() {
        query.push(("q", options.query.clone()));
    }
    for (name, value) in [
        ("from", &options.from),
        ("to", &options.to),
        ("place", &options.place),
        ("similarTo", &options.similar_to),
    ] {
        if let Some(v) = value {
            query.push((name, v.clone()));
        }
    }
    let results: SearchResults = client.get_with("/api/search", &query).await?;
    if options.json {
        return Ok(serde_json::to_string_pretty(&results)?);
    }
    Ok(render(&results))
}

/// The results as a person reads them in a terminal.
pub fn render(r: &SearchResults) -> String {
    let mut read: Vec<String> = Vec::new();
    let u = &r.understood;
    match (u.from, u.to) {
        (Some(f), Some(t)) if f == t => read.push(format!("on {f}")),
        (Some(f), Some(t)) => read.push(format!("from {f} to {t}")),
        (Some(f), None) => read.push(format!("from {f}")),
        (None, Some(t)) => read.push(format!("until {t}")),
        (None, None) => {}
    }
    if let Some(part) = u.part_of_day {
        read.push(format!("in the {}", format!("{part:?}").to_lowercase()));
    }
    if let Some(p) = &u.place {
        let name = p
            .name
            .clone()
            .or_else(|| {
                p.country_code.as_deref().map(|c| {
                    momentarium_shared::domain::places::country_name(c)
                        .unwrap_or(c)
                        .to_string()
                })
            })
            .unwrap_or_default();
        read.push(format!("in {name}"));
    }
    if !u.text.is_empty() {
        read.push(format!("words “{}”", u.text));
    }
    let mut out = String::new();
    if !read.is_empty() {
        out.push_str(&format!("Read as: {}\n", read.join(" · ")));
    }
    let mode = match (&r.mode[..], &r.mode_reason) {
        ("hybrid", _) => "by words and meaning".to_string(),
        ("similar", _) => "by likeness".to_string(),
        (_, Some(reason)) => format!("by words only: {reason}"),
        _ => "by words and filters".to_string(),
    };
    let shown = r.results.len();
    out.push_str(&format!(
        "{} found ({mode}){}\n",
        match r.total {
            0 => "Nothing".to_string(),
            1 => "1 photo".to_string(),
            n => format!("{n} photos"),
        },
        if shown < r.total {
            format!(", the first {shown} shown")
        } else {
            String::new()
        }
    ));
    for (i, hit) in r.results.iter().enumerate() {
        let mut line = format!("{:>3}. {}", i + 1, hit.filename);
        if let Some(c) = &hit.caption {
            line.push_str(&format!(" — {c}"));
        }
        let mut facts: Vec<String> = Vec::new();
        if let Some(p) = &hit.place {
            facts.push(p.label());
        }
        if let Some(t) = hit.taken_at {
            let local = hit
                .offset_minutes
                .and_then(|m| chrono::FixedOffset::east_opt(i32::from(m) * 60))
                .map_or_else(
                    || t.format("%Y-%m-%d %H:%M").to_string(),
                    |o| t.with_timezone(&o).format("%Y-%m-%d %H:%M").to_string(),
                );
            facts.push(local);
        }
        if let Some(a) = &hit.album_title {
            facts.push(format!("album “{a}”"));
        }
        out.push_str(&line);
        out.push('\n');
        if !facts.is_empty() {
            out.push_str(&format!("     {}\n", facts.join(" · ")));
        }
    }
    out
}
