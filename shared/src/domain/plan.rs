//! The album plan, from the model's untrusted answer or from the offline organiser.
//!
//! Whatever the model says, a plan that leaves here puts every photo of the batch in
//! exactly one album: unknown and repeated numbers are dropped, empty albums removed,
//! leftovers gathered into one album, and over-long text trimmed.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;

use crate::domain::language::Language;
use crate::domain::places::Place;

pub const MAX_TITLE: usize = 80;
pub const MAX_DESCRIPTION: usize = 500;
pub const MAX_CAPTION: usize = 300;
pub const MAX_TAGS: usize = 8;
pub const MAX_TAG: usize = 40;
pub const MAX_ALBUMS: usize = 25;
pub const LEFTOVER_TITLE: &str = "More Moments";

#[derive(Debug, Clone, PartialEq)]
pub struct AlbumPlan {
    pub title: String,
    pub description: String,
    /// 0-based index into the batch.
    pub cover: usize,
    pub members: Vec<usize>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhotoText {
    pub caption: Option<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub albums: Vec<AlbumPlan>,
    /// By 0-based index.
    pub photos: Vec<PhotoText>,
}

/// What repairing changed, for the logs and the tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repairs {
    pub out_of_range: usize,
    pub duplicates: usize,
    pub empty_albums: usize,
    pub leftovers: usize,
    pub trimmed: usize,
}

#[derive(Debug, Deserialize)]
pub struct RawAnswer {
    #[serde(default)]
    pub albums: Vec<RawAlbum>,
    #[serde(default)]
    pub photos: Vec<RawPhoto>,
}

#[derive(Debug, Deserialize)]
pub struct RawAlbum {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub cover: Option<i64>,
    #[serde(default)]
    pub photos: Vec<i64>,
}

#[derive(Debug, Deserialize)]
pub struct RawPhoto {
    pub photo: i64,
    #[serde(default)]
    pub caption: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Parses the model's JSON, tolerating prose or a code fence around it.
pub fn parse_answer(text: &str) -> Result<RawAnswer, String> {
    if let Ok(answer) = serde_json::from_str::<RawAnswer>(text.trim()) {
        return Ok(answer);
    }
    let start = text.find('{').ok_or("no JSON object in the answer")?;
    let end = text.rfind('}').ok_or("no JSON object in the answer")?;
    if end <= start {
        return Err("no JSON object in the answer".into());
    }
    serde_json::from_str::<RawAnswer>(&text[start..=end])
        .map_err(|e| format!("the answer is not the expected JSON: {e}"))
}

/// Trims to `max` characters on a word boundary where one is near, collapsing whitespace.
pub fn trim_text(raw: &str, max: usize) -> (String, bool) {
    let clean: String = raw
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if clean.chars().count() <= max {
        return (clean, false);
    }
    let cut: String = clean.chars().take(max.saturating_sub(1)).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => cut[..i].to_string(),
        _ => cut,
    };
    (
        format!("{}…", cut.trim_end_matches([',', ';', ':', '-', ' '])),
        true,
    )
}

/// Turns a parsed answer for `n` photos into a plan with every photo in exactly one album.
pub fn repair(raw: RawAnswer, n: usize) -> (Plan, Repairs) {
    let mut repairs = Repairs::default();
    let mut placed = vec![false; n];
    let mut albums = Vec::new();
    for album in raw.albums {
        let mut members = Vec::new();
        for number in album.photos {
            let Some(index) = usize::try_from(number)
                .ok()
                .and_then(|n1| n1.checked_sub(1))
                .filter(|i| *i < n)
            else {
                repairs.out_of_range += 1;
                continue;
            };
            if placed[index] {
                repairs.duplicates += 1;
                continue;
            }
            placed[index] = true;
            members.push(index);
        }
        if members.is_empty() {
            repairs.empty_albums += 1;
            continue;
        }
        let (mut title, t1) = trim_text(&album.title, MAX_TITLE);
        if title.is_empty() {
            title = "Untitled Album".into();
        }
        let (description, t2) = trim_text(&album.description, MAX_DESCRIPTION);
        repairs.trimmed += usize::from(t1) + usize::from(t2);
        let cover = album
            .cover
            .and_then(|c| usize::try_from(c).ok())
            .and_then(|c| c.checked_sub(1))
            .filter(|c| members.contains(c))
            .unwrap_or(members[0]);
        albums.push(AlbumPlan {
            title,
            description,
            cover,
            members,
        });
    }
    // Too many albums: the smallest ones' photos become leftovers.
    if albums.len() > MAX_ALBUMS {
        albums.sort_by_key(|a| std::cmp::Reverse(a.members.len()));
        for extra in albums.split_off(MAX_ALBUMS) {
            for m in extra.members {
                placed[m] = false;
            }
        }
    }
    let leftovers: Vec<usize> = (0..n).filter(|i| !placed[*i]).collect();
    if !leftovers.is_empty() {
        repairs.leftovers = leftovers.len();
        albums.push(AlbumPlan {
            title: LEFTOVER_TITLE.into(),
            description: "Photos that did not fit the other albums.".into(),
            cover: leftovers[0],
            members: leftovers,
        });
    }
    let mut photos = vec![PhotoText::default(); n];
    let mut seen_caption = vec![false; n];
    for p in raw.photos {
        let Some(index) = usize::try_from(p.photo)
            .ok()
            .and_then(|n1| n1.checked_sub(1))
            .filter(|i| *i < n)
        else {
            continue;
        };
        if seen_caption[index] {
            continue;
        }
        seen_caption[index] = true;
        let (caption, t) = trim_text(&p.caption, MAX_CAPTION);
        repairs.trimmed += usize::from(t);
        let mut tags: Vec<String> = Vec::new();
        for tag in p.tags {
            let (tag, _) = trim_text(&tag.to_lowercase(), MAX_TAG);
            if !tag.is_empty() && !tags.contains(&tag) && tags.len() < MAX_TAGS {
                tags.push(tag);
            }
        }
        photos[index] = PhotoText {
            caption: (!caption.is_empty()).then_some(caption),
            tags,
        };
    }
    (Plan { albums, photos }, repairs)
}

/// What the offline organiser knows of a photo.
#[derive(Debug, Clone, Default)]
pub struct PhotoFacts {
    pub taken_at: Option<DateTime<Utc>>,
    pub offset_minutes: Option<i16>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The town (or region, or country) the GPS is in or near, when it is known.
    pub place: Option<Place>,
    pub colour: Option<[f32; 64]>,
}

/// A new outing starts after this long without photos…
const GAP_HOURS: i64 = 3;
/// …or this far from the previous photo.
const GAP_KM: f64 = 25.0;
/// Photos without a time join the outing they look most like, if at least this alike.
const MIN_SIMILARITY: f32 = 0.5;

fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// Histogram intersection: 1 for identical colour mixes, 0 for disjoint ones.
fn similarity(a: &[f32; 64], b: &[f32; 64]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x.min(*y)).sum()
}

fn local(t: DateTime<Utc>, offset: Option<i16>) -> DateTime<FixedOffset> {
    let offset = offset
        .and_then(|m| FixedOffset::east_opt(i32::from(m) * 60))
        .unwrap_or_else(|| FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()));
    t.with_timezone(&offset)
}

/// The outings among the photos that have a time: indices in time order, a new outing
/// starting after a gap of more than three hours or a move of more than 25 km. Photos
/// without a time are in none. The offline organiser's albums start from these, and a
/// client cutting a large folder into batches cuts between them.
pub fn outings(facts: &[PhotoFacts]) -> Vec<Vec<usize>> {
    let n = facts.len();
    let mut timed: Vec<usize> = (0..n).filter(|i| facts[*i].taken_at.is_some()).collect();
    timed.sort_by_key(|i| facts[*i].taken_at);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for &i in &timed {
        let starts_new = match groups.last().and_then(|g| g.last()) {
            None => true,
            Some(&prev) => {
                let (a, b) = (&facts[prev], &facts[i]);
                let gap = b.taken_at.zip(a.taken_at).map(|(tb, ta)| tb - ta);
                let far = match (a.latitude.zip(a.longitude), b.latitude.zip(b.longitude)) {
                    (Some(pa), Some(pb)) => haversine_km(pa, pb) > GAP_KM,
                    _ => false,
                };
                far || gap.is_some_and(|g| g > chrono::Duration::hours(GAP_HOURS))
            }
        };
        if starts_new {
            groups.push(vec![i]);
        } else if let Some(g) = groups.last_mut() {
            g.push(i);
        }
    }
    groups
}

/// Albums from EXIF alone: time gaps and distance split the photos into outings; photos
/// with no time join the outing whose colours they share most, or an album of their own.
pub fn offline_plan(facts: &[PhotoFacts], language: Language) -> Plan {
    let n = facts.len();
    let mut groups = outings(facts);
    let mut untimed_group = Vec::new();
    for i in (0..n).filter(|i| facts[*i].taken_at.is_none()) {
        let best = facts[i].colour.and_then(|c| {
            groups
                .iter()
                .enumerate()
                .filter_map(|(gi, g)| {
                    let sims: Vec<f32> = g
                        .iter()
                        .filter_map(|m| facts[*m].colour.map(|o| similarity(&c, &o)))
                        .collect();
                    (!sims.is_empty()).then(|| (gi, sims.iter().sum::<f32>() / sims.len() as f32))
                })
                .max_by(|a, b| a.1.total_cmp(&b.1))
        });
        match best {
            Some((gi, sim)) if sim >= MIN_SIMILARITY => groups[gi].push(i),
            _ => untimed_group.push(i),
        }
    }
    let mut albums: Vec<AlbumPlan> = groups
        .into_iter()
        .map(|members| {
            let first = &facts[members[0]];
            let times: Vec<DateTime<FixedOffset>> = members
                .iter()
                .filter_map(|m| {
                    facts[*m]
                        .taken_at
                        .map(|t| local(t, facts[*m].offset_minutes))
                })
                .collect();
            let (start, end) = (times.iter().min().copied(), times.iter().max().copied());
            let place = most_common_place(facts, &members);
            // Country names are English: other languages name a town or region only.
            let (short, label) = match (&place, language) {
                (None, _) => (None, None),
                (Some(p), Language::En) => (Some(p.short()), Some(p.label())),
                (Some(p), _) => (
                    p.name.clone().or_else(|| p.region.clone()),
                    (p.name.is_some() || p.region.is_some()).then(|| p.regional_label()),
                ),
            };
            let title = match (start, end) {
                (Some(s), Some(e)) if s.date_naive() == e.date_naive() => {
                    language.day_title(&s, short.as_deref())
                }
                (Some(s), Some(e)) => language.range_title(&s, &e, short.as_deref()),
                _ => language.moments(true).to_string(),
            };
            let mut description = match (start, end) {
                (Some(s), Some(e)) if s == e => {
                    language.taken_at(members.len(), &s.format("%H:%M").to_string())
                }
                (Some(s), Some(e)) if s.date_naive() == e.date_naive() => language.taken_between(
                    members.len(),
                    &s.format("%H:%M").to_string(),
                    &e.format("%H:%M").to_string(),
                ),
                _ => language.photos(members.len()),
            };
            if let Some(label) = &label {
                description.push_str(&format!(" {} {label}", language.in_word()));
            } else if let (Some(lat), Some(lon)) = (first.latitude, first.longitude) {
                description.push_str(&format!(
                    "{} {:.2}° {}, {:.2}° {}",
                    language.near(),
                    lat.abs(),
                    if lat >= 0.0 { "N" } else { "S" },
                    lon.abs(),
                    if lon >= 0.0 { "E" } else { "W" }
                ));
            }
            description.push('.');
            AlbumPlan {
                title,
                description,
                cover: members[0],
                members,
            }
        })
        .collect();
    if !untimed_group.is_empty() {
        albums.push(AlbumPlan {
            title: language.moments(albums.is_empty()).into(),
            description: language.without_time(untimed_group.len()),
            cover: untimed_group[0],
            members: untimed_group,
        });
    }
    Plan {
        albums,
        photos: vec![PhotoText::default(); n],
    }
}

/// The place most of these photos were taken at (the first one's on a tie).
fn most_common_place(facts: &[PhotoFacts], members: &[usize]) -> Option<Place> {
    let mut counts: Vec<(&Place, usize)> = Vec::new();
    for m in members {
        if let Some(p) = &facts[*m].place {
            match counts.iter_mut().find(|(q, _)| q.short() == p.short()) {
                Some((_, n)) => *n += 1,
                None => counts.push((p, 1)),
            }
        }
    }
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(p, _)| p.clone())
}

/// Checks the invariant: every index `0..n` in exactly one album, no album empty.
pub fn is_partition(plan: &Plan, n: usize) -> bool {
    let mut count: HashMap<usize, usize> = HashMap::new();
    for album in &plan.albums {
        if album.members.is_empty() || !album.members.contains(&album.cover) {
            return false;
        }
        for m in &album.members {
            *count.entry(*m).or_default() += 1;
        }
    }
    count.len() == n && count.values().all(|c| *c == 1) && count.keys().all(|k| *k < n)
}

/// Maps a plan over the shown photos back onto the whole batch; photos the model did not
/// see join the leftovers album.
pub fn remap(model_plan: Plan, shown: &[usize], n: usize) -> Plan {
    let mut albums: Vec<AlbumPlan> = model_plan
        .albums
        .into_iter()
        .map(|a| AlbumPlan {
            cover: shown[a.cover],
            members: a.members.into_iter().map(|m| shown[m]).collect(),
            ..a
        })
        .collect();
    let mut photos = vec![PhotoText::default(); n];
    for (i, text) in model_plan.photos.into_iter().enumerate() {
        photos[shown[i]] = text;
    }
    let unseen: Vec<usize> = (0..n).filter(|i| !shown.contains(i)).collect();
    if !unseen.is_empty() {
        match albums.iter_mut().find(|a| a.title == LEFTOVER_TITLE) {
            Some(leftover) => leftover.members.extend(unseen),
            None => albums.push(AlbumPlan {
                title: LEFTOVER_TITLE.into(),
                description: "Photos that could not be shown to the model.".into(),
                cover: unseen[0],
                members: unseen,
            }),
        }
    }
    Plan { albums, photos }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn album(title: &str, cover: i64, photos: &[i64]) -> RawAlbum {
        RawAlbum {
            title: title.into(),
            description: "d".into(),
            cover: Some(cover),
            photos: photos.to_vec(),
        }
    }

    #[test]
    fn a_good_answer_passes_through() {
        let raw = RawAnswer {
            albums: vec![album("Garden", 2, &[1, 2]), album("Coast", 3, &[3])],
            photos: vec![RawPhoto {
                photo: 1,
                caption: "A bee".into(),
                tags: vec!["Bee".into(), "bee".into()],
            }],
        };
        let (plan, repairs) = repair(raw, 3);
        assert_eq!(repairs, Repairs::default());
        assert!(is_partition(&plan, 3));
        assert_eq!(plan.albums[0].cover, 1);
        assert_eq!(plan.photos[0].tags, vec!["bee".to_string()]);
    }

    #[test]
    fn bad_indices_duplicates_and_missing_photos_are_repaired() {
        let raw = RawAnswer {
            albums: vec![
                album("A", 9, &[1, 1, 0, -3, 99, 2]),
                album("B", 2, &[2, 4]),
                album("Empty", 1, &[]),
                album("Gone", 50, &[50]),
            ],
            photos: vec![],
        };
        let (plan, repairs) = repair(raw, 6);
        assert!(is_partition(&plan, 6));
        assert_eq!(repairs.duplicates, 2);
        assert_eq!(repairs.out_of_range, 4);
        assert_eq!(repairs.empty_albums, 2);
        assert_eq!(repairs.leftovers, 3);
        assert_eq!(plan.albums[0].members, vec![0, 1]);
        assert_eq!(
            plan.albums[0].cover, 0,
            "an out-of-album cover falls back to the first member"
        );
        assert_eq!(plan.albums.last().unwrap().title, LEFTOVER_TITLE);
        assert_eq!(plan.albums.last().unwrap().members, vec![2, 4, 5]);
    }

    #[test]
    fn an_empty_answer_puts_everything_in_one_album() {
        let (plan, _) = repair(
            RawAnswer {
                albums: vec![],
                photos: vec![],
            },
            4,
        );
        assert!(is_partition(&plan, 4));
        assert_eq!(plan.albums.len(), 1);
    }

    #[test]
    fn long_text_is_trimmed_and_blank_titles_replaced() {
        let raw = RawAnswer {
            albums: vec![album(&"word ".repeat(60), 1, &[1]), album("   ", 2, &[2])],
            photos: vec![RawPhoto {
                photo: 1,
                caption: "x".repeat(1000),
                tags: vec!["t".repeat(100)],
            }],
        };
        let (plan, repairs) = repair(raw, 2);
        assert!(plan.albums[0].title.chars().count() <= MAX_TITLE);
        assert!(plan.albums[0].title.ends_with('…'));
        assert_eq!(plan.albums[1].title, "Untitled Album");
        assert!(plan.photos[0].caption.as_ref().unwrap().chars().count() <= MAX_CAPTION);
        assert!(plan.photos[0].tags[0].chars().count() <= MAX_TAG);
        assert!(repairs.trimmed >= 2);
    }

    #[test]
    fn json_in_prose_or_fences_is_found() {
        for text in [
            "```json\n{\"albums\": [], \"photos\": []}\n```",
            "Here you go: {\"albums\": [{\"title\": \"T\", \"photos\": [1]}]} Enjoy!",
        ] {
            assert!(parse_answer(text).is_ok(), "{text}");
        }
        assert!(parse_answer("I cannot help with that.").is_err());
        assert!(parse_answer("{\"albums\": \"nope\"}").is_err());
    }

    #[test]
    fn offline_separates_outings_by_time_and_place() {
        let berlin = (52.4559, 13.3063);
        let sylt = (54.9079, 8.3089);
        let at = |y, m, d, h, min| Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap();
        let mut facts = Vec::new();
        for min in [0, 10, 25, 42] {
            facts.push(PhotoFacts {
                taken_at: Some(at(2025, 5, 10, 7, 40) + chrono::Duration::minutes(min)),
                offset_minutes: Some(120),
                latitude: Some(berlin.0),
                longitude: Some(berlin.1),
                place: None,
                colour: None,
            });
        }
        for min in [5, 20, 41] {
            facts.push(PhotoFacts {
                taken_at: Some(at(2025, 8, 2, 16, min)),
                offset_minutes: Some(120),
                latitude: Some(sylt.0),
                longitude: Some(sylt.1),
                place: crate::domain::places::locate(sylt.0, sylt.1),
                colour: None,
            });
        }
        facts.push(PhotoFacts::default());
        let plan = offline_plan(&facts, Language::En);
        assert!(is_partition(&plan, facts.len()));
        assert_eq!(plan.albums.len(), 3);
        assert_eq!(plan.albums[0].members, vec![0, 1, 2, 3]);
        assert_eq!(plan.albums[0].title, "Saturday Morning, 10 May 2025");
        assert!(
            plan.albums[0].description.contains("52.46° N"),
            "{}",
            plan.albums[0].description
        );
        assert_eq!(plan.albums[1].members, vec![4, 5, 6]);
        // Where the place is known, titles and descriptions name it instead of coordinates.
        assert_eq!(
            plan.albums[1].title,
            "Saturday Evening in Westerland, 2 August 2025"
        );
        assert!(
            plan.albums[1]
                .description
                .ends_with("in Westerland, Germany."),
            "{}",
            plan.albums[1].description
        );
        let german = offline_plan(&facts, Language::De);
        assert_eq!(
            german.albums[1].title,
            "Samstagabend in Westerland, 2. August 2025"
        );
        assert_eq!(plan.albums[2].members, vec![7]);
    }

    #[test]
    fn photos_without_time_join_the_outing_they_look_like() {
        let mut green = [0f32; 64];
        green[4] = 1.0;
        let mut blue = [0f32; 64];
        blue[1] = 1.0;
        let t = Utc.with_ymd_and_hms(2025, 5, 10, 8, 0, 0).unwrap();
        let facts = vec![
            PhotoFacts {
                taken_at: Some(t),
                colour: Some(green),
                ..Default::default()
            },
            PhotoFacts {
                taken_at: Some(t + chrono::Duration::days(30)),
                colour: Some(blue),
                ..Default::default()
            },
            PhotoFacts {
                colour: Some(blue),
                ..Default::default()
            },
            PhotoFacts {
                colour: Some(green),
                ..Default::default()
            },
        ];
        let plan = offline_plan(&facts, Language::En);
        assert!(is_partition(&plan, 4));
        assert_eq!(plan.albums[0].members, vec![0, 3]);
        assert_eq!(plan.albums[1].members, vec![1, 2]);
    }
}
