//! Search queries, understood without a model: dates and ranges in plain words ("2019",
//! "May 2025", "last summer", "this weekend", "in the evening"), places by name (countries
//! by name or code; towns and regions the caller has photos from), and the words left,
//! which full-text search matches (quotes and `-word` kept for `websearch_to_tsquery`).
//! Also the fusion of keyword and semantic rankings.

use std::collections::HashMap;

use chrono::{Datelike, Duration, Months, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::places;

/// The longest query read, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Results per page at most.
pub const MAX_LIMIT: usize = 100;
/// Longest place name looked for, in words ("Vila Franca de Xira").
const MAX_PLACE_WORDS: usize = 4;

/// A part of the day, in local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DayPart {
    Morning,
    Afternoon,
    Evening,
    Night,
}

impl DayPart {
    /// Local hours, start inclusive, end exclusive (night wraps past midnight).
    pub fn hours(self) -> (i32, i32) {
        match self {
            Self::Morning => (5, 12),
            Self::Afternoon => (12, 17),
            Self::Evening => (17, 21),
            Self::Night => (21, 5),
        }
    }
}

/// Which place a query means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaceFilter {
    /// A town or region, as the caller's photos name it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A whole country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
}

/// How a query was read; the response carries it so a client can show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Understood {
    /// First local day, inclusive.
    pub from: Option<NaiveDate>,
    /// Last local day, inclusive.
    pub to: Option<NaiveDate>,
    pub part_of_day: Option<DayPart>,
    pub place: Option<PlaceFilter>,
    pub album: Option<Uuid>,
    /// The words matched against captions, tags, albums, places, file names and camera.
    pub text: String,
}

#[derive(Debug, Clone)]
struct Token {
    raw: String,
    /// Lowercase, without surrounding punctuation; empty for quoted or negated words,
    /// which are never read as dates or places.
    word: String,
    used: bool,
}

fn tokenise(q: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let chars = q.chars();
    let mut current = String::new();
    let mut in_quote = false;
    let flush = |current: &mut String, tokens: &mut Vec<Token>, quoted: bool| {
        if current.is_empty() {
            return;
        }
        let raw = std::mem::take(current);
        let word = if quoted || raw.starts_with('-') {
            String::new()
        } else {
            raw.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        };
        tokens.push(Token {
            raw,
            word,
            used: false,
        });
    };
    for c in chars {
        if c == '"' {
            current.push(c);
            if in_quote {
                flush(&mut current, &mut tokens, true);
            }
            in_quote = !in_quote;
        } else if c.is_whitespace() && !in_quote {
            flush(&mut current, &mut tokens, false);
        } else {
            current.push(c);
        }
    }
    flush(&mut current, &mut tokens, in_quote);
    tokens
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month_number(word: &str) -> Option<u32> {
    // Full names, three-letter abbreviations, and "sept".
    MONTHS
        .iter()
        .position(|m| *m == word || (word.len() == 3 && m.starts_with(word)))
        .or_else(|| (word == "sept").then_some(8))
        .map(|i| i as u32 + 1)
}

fn year(word: &str) -> Option<i32> {
    (word.len() == 4)
        .then(|| word.parse::<i32>().ok())
        .flatten()
        .filter(|y| (1900..=2100).contains(y))
}

/// The years a date in a search may name.
pub const YEARS: std::ops::RangeInclusive<i32> = 1800..=2200;

/// `YYYY-MM-DD`, four-digit years from 1800 to 2200 only (chrono alone takes signed
/// years of any length, whose arithmetic overflows).
pub fn parse_day(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    let shaped = raw.len() == 10
        && raw.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|d| YEARS.contains(&d.year()))
}

fn month_range(y: i32, m: u32) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::from_ymd_opt(y, m, 1)?;
    let last = first.checked_add_months(Months::new(1))? - Duration::days(1);
    Some((first, last))
}

/// Meteorological seasons of the northern hemisphere; winter Y is December Y to
/// February Y+1.
fn season_range(season: &str, y: i32) -> Option<(NaiveDate, NaiveDate)> {
    let (start, len) = match season {
        "spring" => (3, 3),
        "summer" => (6, 3),
        "autumn" | "fall" => (9, 3),
        "winter" => (12, 3),
        _ => return None,
    };
    let first = NaiveDate::from_ymd_opt(y, start, 1)?;
    let last = first.checked_add_months(Months::new(len))? - Duration::days(1);
    Some((first, last))
}

/// Words that name towns, regions or countries but are more often just words.
const AMBIGUOUS: &[&str] = &[
    "nice", "bath", "split", "reading", "best", "sale", "of", "rain", "central", "western",
    "capital", "south", "north", "east", "west", "turkey", "china", "jersey", "chad", "jordan",
    "georgia", "guinea", "mobile", "orange", "hope", "liberty", "union", "park", "beach", "lake",
    "bay", "hill", "hills", "river", "valley", "spring", "summer", "winter", "fall", "sun", "moon",
    "home", "ocean", "camp", "port", "bridge", "march", "may", "eagle", "buffalo", "phoenix",
    "paradise", "sunset", "sunrise", "garden", "gardens", "forest", "green", "white", "black",
    "red", "rock", "stone", "castle", "church", "market", "lima", "victoria", "florence",
    "chester", "deal", "wells", "dover", "sandwich", "cork", "derby", "kent", "essex", "man",
    "mali", "niger",
];

const CONNECTORS: &[&str] = &[
    "in", "at", "on", "from", "during", "near", "around", "of", "since", "taken",
];

struct Reader<'a> {
    tokens: Vec<Token>,
    today: NaiveDate,
    known_places: &'a HashMap<String, String>,
    out: Understood,
}

impl Reader<'_> {
    fn word(&self, i: usize) -> Option<&str> {
        self.tokens
            .get(i)
            .filter(|t| !t.used && !t.word.is_empty())
            .map(|t| t.word.as_str())
    }

    /// Marks tokens `i..j` as read, with the connector before them.
    fn take(&mut self, i: usize, j: usize) {
        for t in &mut self.tokens[i..j] {
            t.used = true;
        }
        if i > 0
            && let Some(w) = self.word(i - 1)
            && CONNECTORS.contains(&w)
        {
            self.tokens[i - 1].used = true;
            if i > 1 && self.word(i - 2) == Some("taken") {
                self.tokens[i - 2].used = true;
            }
        }
    }

    fn set_dates(&mut self, (from, to): (NaiveDate, NaiveDate)) {
        // Two date phrases widen to cover both ("2019 2020", "May 2025 or June 2025"):
        // a range that contradicts itself would find nothing.
        self.out.from = Some(self.out.from.map_or(from, |f| f.min(from)));
        self.out.to = Some(self.out.to.map_or(to, |t| t.max(to)));
    }

    fn dates(&mut self) {
        let today = self.today;
        let mut i = 0;
        while i < self.tokens.len() {
            let Some(w) = self.word(i).map(str::to_string) else {
                i += 1;
                continue;
            };
            let next = self.word(i + 1).map(str::to_string);
            let prev = if i > 0 {
                self.word(i - 1).map(str::to_string)
            } else {
                None
            };
            // "2019", "2019-2021", "2025-05-10".
            if let Some(y) = year(&w) {
                if let (Some(a), Some(b)) = (
                    NaiveDate::from_ymd_opt(y, 1, 1),
                    NaiveDate::from_ymd_opt(y, 12, 31),
                ) {
                    self.set_dates((a, b));
                    self.take(i, i + 1);
                }
                i += 1;
                continue;
            }
            if let Some((a, b)) = w.split_once(['-', '–'])
                && let (Some(ya), Some(yb)) = (year(a), year(b))
                && ya <= yb
                && let (Some(a), Some(b)) = (
                    NaiveDate::from_ymd_opt(ya, 1, 1),
                    NaiveDate::from_ymd_opt(yb, 12, 31),
                )
            {
                self.set_dates((a, b));
                self.take(i, i + 1);
                i += 1;
                continue;
            }
            if let Some(d) = parse_day(&w) {
                self.set_dates((d, d));
                self.take(i, i + 1);
                i += 1;
                continue;
            }
            // "May 2025"; "May", "in May", "last May" (the latest May that has begun).
            if let Some(m) = month_number(&w) {
                let raw_capital = self.tokens[i].raw.starts_with(char::is_uppercase);
                if let Some(y) = next.as_deref().and_then(year) {
                    if let Some(r) = month_range(y, m) {
                        self.set_dates(r);
                        self.take(i, i + 2);
                    }
                    i += 2;
                    continue;
                }
                // A bare lowercase "may" or "march" is more likely a word.
                let dated = matches!(prev.as_deref(), Some("in" | "last" | "this" | "during"))
                    || (raw_capital && w.len() > 3)
                    || (w.len() > 3 && !["march", "may"].contains(&w.as_str()));
                if dated {
                    let mut y = today.year();
                    if m > today.month() || (prev.as_deref() == Some("last") && m == today.month())
                    {
                        y -= 1;
                    }
                    if let Some(r) = month_range(y, m) {
                        self.set_dates(r);
                        let start = if matches!(prev.as_deref(), Some("last" | "this")) {
                            i - 1
                        } else {
                            i
                        };
                        self.take(start, i + 1);
                    }
                }
                i += 1;
                continue;
            }
            // "summer 2024", "last summer", "this winter".
            if season_range(&w, today.year()).is_some() {
                let explicit = next.as_deref().and_then(year);
                let relative = prev.as_deref().filter(|p| *p == "last" || *p == "this");
                let y = match (explicit, relative) {
                    (Some(y), _) => Some(y),
                    (None, Some(rel)) => {
                        // The season of this year that has begun, or last year's.
                        let mut y = today.year();
                        if w == "winter" && today.month() <= 2 {
                            y -= 1;
                        }
                        let this = season_range(&w, y);
                        let begun = this.is_some_and(|(a, _)| a <= today);
                        let ended = this.is_some_and(|(_, b)| b < today);
                        if rel == "last" && !ended || rel == "this" && !begun {
                            y -= 1;
                        }
                        Some(y)
                    }
                    _ => None,
                };
                if let Some(r) = y.and_then(|y| season_range(&w, y)) {
                    self.set_dates(r);
                    let start = if relative.is_some() { i - 1 } else { i };
                    let end = if explicit.is_some() { i + 2 } else { i + 1 };
                    self.take(start, end);
                }
                i += 1;
                continue;
            }
            // "today", "yesterday", "this/last week|weekend|month|year".
            let span = match (prev.as_deref(), w.as_str()) {
                (_, "today") => Some((today, today, 0)),
                (_, "yesterday") => {
                    let d = today - Duration::days(1);
                    Some((d, d, 0))
                }
                (Some(rel @ ("this" | "last")), unit @ ("week" | "weekend" | "month" | "year")) => {
                    let back = i64::from(rel == "last");
                    let r = match unit {
                        "week" => {
                            let monday =
                                today.week(Weekday::Mon).first_day() - Duration::weeks(back);
                            Some((monday, monday + Duration::days(6)))
                        }
                        "weekend" => {
                            // The weekend that has begun this week, else the one before.
                            let mut sat = today.week(Weekday::Mon).first_day() + Duration::days(5);
                            if sat > today || back == 1 {
                                sat -= Duration::weeks(1);
                            }
                            if back == 1 && today.weekday().num_days_from_monday() < 5 {
                                // "last weekend" on a weekday: the one just gone.
                                sat = today.week(Weekday::Mon).first_day() - Duration::days(2);
                            }
                            Some((sat, sat + Duration::days(1)))
                        }
                        "month" => {
                            let first = today
                                .with_day(1)
                                .and_then(|d| d.checked_sub_months(Months::new(back as u32)));
                            first.and_then(|f| month_range(f.year(), f.month()))
                        }
                        _ => {
                            let y = today.year() - back as i32;
                            NaiveDate::from_ymd_opt(y, 1, 1).zip(NaiveDate::from_ymd_opt(y, 12, 31))
                        }
                    };
                    r.map(|(a, b)| (a, b, 1))
                }
                _ => None,
            };
            if let Some((a, b, before)) = span {
                self.set_dates((a, b));
                self.take(i - before, i + 1);
                i += 1;
                continue;
            }
            // "in the morning", "in the evening", "at night".
            let part = match w.as_str() {
                "morning" | "mornings" => Some(DayPart::Morning),
                "afternoon" | "afternoons" => Some(DayPart::Afternoon),
                "evening" | "evenings" => Some(DayPart::Evening),
                "night" | "nights" => Some(DayPart::Night),
                _ => None,
            };
            if let Some(part) = part {
                let lead = match (i.checked_sub(2).and_then(|j| self.word(j)), prev.as_deref()) {
                    (Some("in"), Some("the")) => Some(2),
                    (_, Some("at")) if part == DayPart::Night => Some(1),
                    _ => None,
                };
                if let Some(lead) = lead {
                    self.out.part_of_day = Some(part);
                    for t in &mut self.tokens[i - lead..=i] {
                        t.used = true;
                    }
                }
            }
            i += 1;
        }
    }

    /// The longest run of words that names a country or a place of the caller's.
    fn place(&mut self) {
        let n = self.tokens.len();
        for len in (1..=MAX_PLACE_WORDS).rev() {
            for i in 0..n.saturating_sub(len - 1) {
                let words: Option<Vec<&str>> = (i..i + len).map(|j| self.word(j)).collect();
                let Some(words) = words else { continue };
                let phrase = words.join(" ");
                let raw: Vec<&str> = self.tokens[i..i + len]
                    .iter()
                    .map(|t| t.raw.trim_matches(|c: char| !c.is_alphanumeric()))
                    .collect();
                // A single everyday word ("nice", "turkey", "reading") is a place only
                // when written with a capital or after "in", "at", "near"…
                if len == 1 && AMBIGUOUS.contains(&phrase.as_str()) {
                    let capital = raw[0].starts_with(char::is_uppercase);
                    let led = i > 0
                        && self
                            .word(i - 1)
                            .is_some_and(|w| ["in", "at", "near", "around", "from"].contains(&w));
                    if !capital && !led {
                        continue;
                    }
                }
                let found = if let Some(name) = self.known_places.get(&phrase) {
                    Some(PlaceFilter {
                        name: Some(name.clone()),
                        country_code: None,
                    })
                } else {
                    places::country_for_name(&raw.join(" ")).map(|code| PlaceFilter {
                        name: None,
                        country_code: Some(code.to_string()),
                    })
                };
                if let Some(found) = found {
                    self.out.place = Some(found);
                    self.take(i, i + len);
                    return;
                }
            }
        }
    }
}

/// Runs of 1–4 plain words of the query (lowercase), the candidates for a place name:
/// the caller's places among them are looked up before [`understand`] reads the query.
pub fn place_candidates(q: &str) -> Vec<String> {
    let words: Vec<String> = tokenise(q).into_iter().map(|t| t.word).collect();
    let mut out = Vec::new();
    for len in 1..=MAX_PLACE_WORDS {
        for run in words.windows(len) {
            if run
                .iter()
                .all(|w| !w.is_empty() && w.chars().any(char::is_alphabetic))
            {
                let phrase = run.join(" ");
                if !out.contains(&phrase) {
                    out.push(phrase);
                }
            }
        }
    }
    out.truncate(200);
    out
}

/// Reads a query. `known_places` maps the lowercase names of the caller's towns and
/// regions to the name as stored.
pub fn understand(q: &str, today: NaiveDate, known_places: &HashMap<String, String>) -> Understood {
    let mut reader = Reader {
        tokens: tokenise(q),
        today,
        known_places,
        out: Understood::default(),
    };
    reader.dates();
    reader.place();
    let words: Vec<&str> = reader
        .tokens
        .iter()
        .filter(|t| !t.used)
        .map(|t| t.raw.as_str())
        .collect();
    reader.out.text = words.join(" ");
    reader.out
}

/// The words a query excludes (`-word`, `-"a phrase"`), as one `websearch_to_tsquery`
/// input matching any of them; semantic results are filtered with it too, so that
/// `beach -sunset` means the same on both sides.
pub fn excluded(text: &str) -> Option<String> {
    let words: Vec<String> = tokenise(text)
        .into_iter()
        .filter_map(|t| {
            let rest = t.raw.strip_prefix('-')?;
            let rest = rest.trim_matches(|c: char| c == '-' || c.is_whitespace());
            (!rest.is_empty()).then(|| rest.to_string())
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" or "))
}

/// The words to embed: the query's words without the excluded ones and without quote
/// marks.
pub fn positive_text(text: &str) -> String {
    tokenise(text)
        .into_iter()
        .filter(|t| !t.raw.starts_with('-'))
        .map(|t| t.raw.replace('"', ""))
        .filter(|w| !w.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reciprocal Rank Fusion: each list adds 1 / (k + rank) (rank from 1) to an item's
/// score; best first, ties in the order first seen.
pub fn fuse(lists: &[&[Uuid]], k: f64) -> Vec<(Uuid, f64)> {
    let mut scores: Vec<(Uuid, f64)> = Vec::new();
    let mut at: HashMap<Uuid, usize> = HashMap::new();
    for list in lists {
        for (rank, id) in list.iter().enumerate() {
            let add = 1.0 / (k + rank as f64 + 1.0);
            match at.get(id) {
                Some(i) => scores[*i].1 += add,
                None => {
                    at.insert(*id, scores.len());
                    scores.push((*id, add));
                }
            }
        }
    }
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    scores
}

/// The RRF constant used throughout.
pub const RRF_K: f64 = 60.0;

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn read(q: &str) -> Understood {
        // A Thursday.
        let mut known = HashMap::new();
        known.insert("westerland".to_string(), "Westerland".to_string());
        known.insert(
            "vila franca de xira".to_string(),
            "Vila Franca de Xira".to_string(),
        );
        understand(q, d("2026-11-26"), &known)
    }

    #[test]
    fn the_issues_example() {
        let u = read("beach at sunset in Portugal last summer");
        assert_eq!(u.from, Some(d("2026-06-01")));
        assert_eq!(u.to, Some(d("2026-08-31")));
        assert_eq!(u.place.unwrap().country_code.as_deref(), Some("PT"));
        assert_eq!(u.text, "beach at sunset");
    }

    #[test]
    fn dates_in_plain_words() {
        let u = read("2019");
        assert_eq!(
            (u.from, u.to),
            (Some(d("2019-01-01")), Some(d("2019-12-31")))
        );
        assert_eq!(u.text, "");
        let u = read("cake May 2025");
        assert_eq!(
            (u.from, u.to),
            (Some(d("2025-05-01")), Some(d("2025-05-31")))
        );
        assert_eq!(u.text, "cake");
        let u = read("april 2018");
        assert_eq!(
            (u.from, u.to),
            (Some(d("2018-04-01")), Some(d("2018-04-30")))
        );
        // A month not yet come this year is last year's.
        let u = read("in December");
        assert_eq!(u.from, Some(d("2025-12-01")));
        let u = read("in October");
        assert_eq!(u.from, Some(d("2026-10-01")));
        // "may" alone is a word.
        let u = read("you may like this");
        assert_eq!(u.from, None);
        assert_eq!(u.text, "you may like this");
        let u = read("this weekend");
        assert_eq!(
            (u.from, u.to),
            (Some(d("2026-11-21")), Some(d("2026-11-22")))
        );
        let u = read("last weekend");
        assert_eq!(
            (u.from, u.to),
            (Some(d("2026-11-21")), Some(d("2026-11-22")))
        );
        let u = read("last week");
        assert_eq!(
            (u.from, u.to),
            (Some(d("2026-11-16")), Some(d("2026-11-22")))
        );
        let u = read("yesterday");
        assert_eq!(
            (u.from, u.to),
            (Some(d("2026-11-25")), Some(d("2026-11-25")))
        );
        let u = read("last month");
        assert_eq!(
            (u.from, u.to),
            (Some(d("2026-10-01")), Some(d("2026-10-31")))
        );
        let u = read("this winter");
        // Winter 2026 begins in December: not yet, so last winter.
        assert_eq!(
            (u.from, u.to),
            (Some(d("2025-12-01")), Some(d("2026-02-28")))
        );
        let u = read("summer 2024");
        assert_eq!(
            (u.from, u.to),
            (Some(d("2024-06-01")), Some(d("2024-08-31")))
        );
        // Two dates cover both, never a range that contradicts itself.
        let u = read("beach 2019 2020");
        assert_eq!(
            (u.from, u.to),
            (Some(d("2019-01-01")), Some(d("2020-12-31")))
        );
        assert_eq!(parse_day("2025-05-10"), Some(d("2025-05-10")));
        for bad in [
            "-262143-01-01",
            "+262142-12-31",
            "0099-01-01",
            "2025-5-10",
            "2025-05-10x",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
        let u = read("2019-2021");
        assert_eq!(
            (u.from, u.to),
            (Some(d("2019-01-01")), Some(d("2021-12-31")))
        );
        let u = read("dinner in the evening");
        assert_eq!(u.part_of_day, Some(DayPart::Evening));
        assert_eq!(u.text, "dinner");
        let u = read("stars at night");
        assert_eq!(u.part_of_day, Some(DayPart::Night));
        assert_eq!(u.text, "stars");
    }

    #[test]
    fn places_by_name() {
        let u = read("dunes in Westerland");
        assert_eq!(u.place.unwrap().name.as_deref(), Some("Westerland"));
        assert_eq!(u.text, "dunes");
        let u = read("vila franca de xira market");
        assert_eq!(
            u.place.unwrap().name.as_deref(),
            Some("Vila Franca de Xira")
        );
        assert_eq!(u.text, "market");
        let u = read("united kingdom");
        assert_eq!(u.place.unwrap().country_code.as_deref(), Some("GB"));
        let u = read("PT");
        assert_eq!(u.place.unwrap().country_code.as_deref(), Some("PT"));
        // Lowercase two-letter words are words.
        let u = read("at the beach");
        assert_eq!(u.place, None);
        // Everyday words that are also places stay words, unless capitalised or led in.
        let u = read("roast turkey dinner");
        assert_eq!((u.place, u.text.as_str()), (None, "roast turkey dinner"));
        assert_eq!(
            read("holidays in turkey")
                .place
                .unwrap()
                .country_code
                .as_deref(),
            Some("TR")
        );
        assert_eq!(
            read("Turkey").place.unwrap().country_code.as_deref(),
            Some("TR")
        );
    }

    #[test]
    fn quotes_and_negation_stay_words() {
        let u = read("\"last summer\" -Portugal 2019");
        assert_eq!(u.from, Some(d("2019-01-01")));
        assert_eq!(u.place, None);
        assert_eq!(u.text, "\"last summer\" -Portugal");
        let u = read("\"unclosed quote");
        assert_eq!(u.text, "\"unclosed quote");
    }

    #[test]
    fn excluded_words_are_gathered() {
        assert_eq!(
            excluded("beach -sunset -\"red sky\""),
            Some("sunset or \"red sky\"".into())
        );
        assert_eq!(excluded("beach - sunset"), None);
        assert_eq!(excluded("well-known"), None);
        assert_eq!(
            positive_text("\"sand castle\" beach -sunset"),
            "sand castle beach"
        );
    }

    #[test]
    fn hostile_input_is_just_text() {
        for q in [
            "'; DROP TABLE images; --",
            "a & b | !c <-> d:*",
            "🏖️ 🌅",
            "",
            "   ",
            "\"\"\"",
            "--",
            "-",
        ] {
            let u = read(q);
            assert!(u.from.is_none() && u.place.is_none(), "{q}");
        }
        assert!(place_candidates(&"word ".repeat(1000)).len() <= 200);
    }

    #[test]
    fn rrf_rewards_agreement() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let fused = fuse(&[&[a, b, c], &[b, c, a]], RRF_K);
        assert_eq!(fused[0].0, b);
        let expect = 1.0 / 62.0 + 1.0 / 61.0;
        assert!((fused[0].1 - expect).abs() < 1e-12);
        assert_eq!(fuse(&[&[], &[c]], RRF_K)[0].0, c);
    }
}
