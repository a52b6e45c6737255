//! Places, offline: which town a photo's GPS is in or near, from GeoNames' populated
//! places (towns of 1,000 people or more, shipped in `reverse_geocoder`), and which
//! country, from OpenStreetMap's borders (`country-boundaries`) where no town is near.
//! Nothing is invented for the open sea.
//!
//! The tables are built on first use (once per process: about 0.1–0.5 s and 57 MiB; see
//! docs/PERFORMANCE.md, "Places"), so a function that never looks a place up never pays
//! for them, and only the binaries that call [`locate`] link them.

use std::sync::OnceLock;

use country_boundaries::{BOUNDARIES_ODBL_360X180, CountryBoundaries, LatLon};
use reverse_geocoder::ReverseGeocoder;
use serde::{Deserialize, Serialize};

/// A town counts as the photo's place when it is at most this far away.
pub const NEAR_KM: f64 = 25.0;
const EARTH_KM: f64 = 6371.0;

/// Where a photo was taken, as people name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Place {
    /// The town or city; `None` when only the country is known.
    pub name: Option<String>,
    /// The state, province or region (GeoNames' first-level division).
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
}

impl Place {
    /// "Westerland, Germany"; "Portugal" when no town is near.
    pub fn label(&self) -> String {
        let country = country_name(&self.country_code).unwrap_or(&self.country_code);
        match &self.name {
            Some(name) => format!("{name}, {country}"),
            None => country.to_string(),
        }
    }

    /// With the region when it adds something: "Westerland, Germany (Schleswig-Holstein)",
    /// as the model and the embedding are told.
    pub fn described(&self) -> String {
        match self
            .region
            .as_deref()
            .filter(|r| Some(*r) != self.name.as_deref())
        {
            Some(region) => format!("{} ({region})", self.label()),
            None => self.label(),
        }
    }

    /// Without the English country name, for text in other languages:
    /// "Westerland, Schleswig-Holstein"; the country's English name only when nothing
    /// else is known.
    pub fn regional_label(&self) -> String {
        match (&self.name, &self.region) {
            (Some(n), Some(r)) if n != r => format!("{n}, {r}"),
            (Some(n), _) => n.clone(),
            (None, Some(r)) => r.clone(),
            (None, None) => self.label(),
        }
    }

    /// The most specific name: the town, else the region, else the country.
    pub fn short(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.region.clone())
            .unwrap_or_else(|| {
                country_name(&self.country_code)
                    .unwrap_or(&self.country_code)
                    .to_string()
            })
    }
}

struct Tables {
    towns: ReverseGeocoder,
    borders: Option<CountryBoundaries>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let started = std::time::Instant::now();
        let tables = Tables {
            towns: ReverseGeocoder::new(),
            borders: CountryBoundaries::from_reader(BOUNDARIES_ODBL_360X180)
                .map_err(|e| tracing::error!(error = %e, "country borders unreadable"))
                .ok(),
        };
        tracing::info!(
            millis = started.elapsed().as_millis() as u64,
            "place tables loaded"
        );
        tables
    })
}

/// The place at `latitude`, `longitude`: the nearest town within 25 km; else the
/// country whose borders hold the point; else nothing.
pub fn locate(latitude: f64, longitude: f64) -> Option<Place> {
    if !latitude.is_finite()
        || !longitude.is_finite()
        || !(-90.0..=90.0).contains(&latitude)
        || !(-180.0..=180.0).contains(&longitude)
    {
        return None;
    }
    let t = tables();
    let found = t.towns.search((latitude, longitude));
    // The tree measures squared chords of the unit sphere.
    let km = 2.0 * EARTH_KM * (found.distance.max(0.0).sqrt() / 2.0).min(1.0).asin();
    let country = t.borders.as_ref().and_then(|b| {
        let at = LatLon::new(latitude, longitude).ok()?;
        b.ids(at)
            .into_iter()
            .find(|id| id.len() == 2)
            .map(str::to_string)
    });
    if km <= NEAR_KM {
        let record = found.record;
        let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        return Some(Place {
            name: nonempty(&record.name),
            region: nonempty(&record.admin1),
            // A town across a border: the border decides the country, the town is
            // still the nearest name people would use.
            country_code: country.unwrap_or_else(|| record.cc.clone()),
        });
    }
    country.map(|country_code| Place {
        name: None,
        region: None,
        country_code,
    })
}

/// The short English name of a country code ("DE" → "Germany").
pub fn country_name(code: &str) -> Option<&'static str> {
    let short = match code.to_ascii_uppercase().as_str() {
        "US" => "United States",
        "GB" => "United Kingdom",
        "RU" => "Russia",
        "KR" => "South Korea",
        "KP" => "North Korea",
        "VN" => "Vietnam",
        "TW" => "Taiwan",
        "TZ" => "Tanzania",
        "IR" => "Iran",
        "SY" => "Syria",
        "LA" => "Laos",
        "MD" => "Moldova",
        "BO" => "Bolivia",
        "VE" => "Venezuela",
        "CZ" => "Czechia",
        "NL" => "Netherlands",
        _ => "",
    };
    if !short.is_empty() {
        return Some(short);
    }
    let country = isocountry::CountryCode::for_alpha2_caseless(code).ok()?;
    let name = country.name();
    // "Bolivia (Plurinational State of)", "Congo, Democratic Republic of the".
    Some(name.split([',', '(']).next().unwrap_or(name).trim_end())
}

/// Other names people type for a country, besides its name and code.
const COUNTRY_ALIASES: &[(&str, &str)] = &[
    ("usa", "US"),
    ("america", "US"),
    ("uk", "GB"),
    ("england", "GB"),
    ("scotland", "GB"),
    ("wales", "GB"),
    ("britain", "GB"),
    ("great britain", "GB"),
    ("holland", "NL"),
    ("deutschland", "DE"),
    ("españa", "ES"),
    ("espana", "ES"),
    ("italia", "IT"),
    ("schweiz", "CH"),
    ("suisse", "CH"),
    ("österreich", "AT"),
    ("czech republic", "CZ"),
];

/// Other names of a country, as people write them (capitalised): "Deutschland" for DE.
pub fn country_aliases(code: &str) -> Vec<String> {
    COUNTRY_ALIASES
        .iter()
        .filter(|(_, c)| c.eq_ignore_ascii_case(code))
        .map(|(name, _)| {
            if name.len() <= 3 {
                // "usa", "uk": abbreviations.
                return name.to_uppercase();
            }
            name.split(' ')
                .map(|w| {
                    let mut cs = w.chars();
                    cs.next()
                        .map(|f| f.to_uppercase().chain(cs).collect::<String>())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The country a written name means: its English name (any case), an alias, or its
/// two-letter code when written in capitals ("PT"; "pt" is more likely a word).
pub fn country_for_name(written: &str) -> Option<&'static str> {
    let trimmed = written.trim();
    if trimmed.len() == 2 && trimmed.chars().all(|c| c.is_ascii_uppercase()) {
        return isocountry::CountryCode::for_alpha2(trimmed)
            .ok()
            .map(|c| c.alpha2());
    }
    let lower = trimmed.to_lowercase();
    if let Some((_, code)) = COUNTRY_ALIASES.iter().find(|(name, _)| *name == lower) {
        return Some(code);
    }
    isocountry::CountryCode::as_array()
        .iter()
        .find(|c| {
            country_name(c.alpha2()).is_some_and(|n| n.to_lowercase() == lower)
                || c.name().to_lowercase() == lower
        })
        .map(|c| c.alpha2())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn towns_within_reach_and_countries_beyond() {
        let sylt = locate(54.9079, 8.3100).expect("a town on Sylt");
        assert_eq!(sylt.name.as_deref(), Some("Westerland"));
        assert_eq!(sylt.region.as_deref(), Some("Schleswig-Holstein"));
        assert_eq!(sylt.country_code, "DE");
        assert_eq!(sylt.label(), "Westerland, Germany");

        let lisbon = locate(38.7077, -9.1365).expect("Lisbon");
        assert_eq!(lisbon.country_code, "PT");
        assert_eq!(lisbon.name.as_deref(), Some("Lisbon"));

        // The middle of the Atlantic: no town, no country.
        assert_eq!(locate(30.0, -40.0), None);
        // Nonsense coordinates are nobody's place.
        assert_eq!(locate(f64::NAN, 0.0), None);
        assert_eq!(locate(91.0, 0.0), None);
    }

    #[test]
    fn the_country_alone_where_no_town_is_near() {
        // The Sahara in southern Algeria, far from any town of 1,000 people.
        let p = locate(23.5, 3.5).expect("a country");
        assert_eq!(p.name, None);
        assert_eq!(p.country_code, "DZ");
        assert_eq!(p.label(), "Algeria");
    }

    #[test]
    fn country_names_as_people_write_them() {
        assert_eq!(country_for_name("Portugal"), Some("PT"));
        assert_eq!(country_for_name("portugal"), Some("PT"));
        assert_eq!(country_for_name("USA"), Some("US"));
        assert_eq!(country_for_name("united kingdom"), Some("GB"));
        assert_eq!(country_for_name("PT"), Some("PT"));
        assert_eq!(country_for_name("pt"), None);
        assert_eq!(country_for_name("beach"), None);
        assert_eq!(country_name("BO"), Some("Bolivia"));
        assert_eq!(country_name("de"), Some("Germany"));
        assert_eq!(country_name("ZZ"), None);
    }
}
