//! Share links: their tokens, their passwords, and what a view may reveal.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::places::{Place, country_aliases, country_name};

/// Random bytes in a token: 256 bits, 43 characters of base64url.
const TOKEN_BYTES: usize = 32;
const TOKEN_CHARS: usize = 43;

/// The longest password a link takes (argon2 reads all of it; this bounds the work).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A link's secret, as handed out once, and the hash that is stored.
pub struct ShareToken {
    pub token: String,
    pub sha256: [u8; 32],
}

impl ShareToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let sha256 = Sha256::digest(token.as_bytes()).into();
        Self { token, sha256 }
    }

    /// The stored hash of a token from a URL; `None` for anything this API never gave
    /// out (the caller answers that like an unknown token).
    pub fn hash_of(raw: &str) -> Option<[u8; 32]> {
        let well_formed = raw.len() == TOKEN_CHARS
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| Sha256::digest(raw.as_bytes()).into())
    }
}

/// argon2id with OWASP's first recommended setting (19 MiB, two passes, one lane):
/// memory-hard, and 21–26 ms per check on one core of the test machine (docs/PERFORMANCE.md).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) with a fresh salt. CPU-heavy: call
/// off the async threads.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| anyhow::anyhow!("encoding a share password's salt: {e}"))?;
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing a share password: {e}"))?
        .to_string())
}

/// Whether `password` matches the stored PHC string (false for a malformed one).
/// CPU-heavy: call off the async threads.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| argon2().verify_password(password.as_bytes(), &hash).is_ok())
        .unwrap_or(false)
}

/// Coordinates written into text: "near 52.46° N, 13.31° E" and "54.9°S 8.3°W" (what the
/// offline organiser puts in album descriptions), and decimal pairs such as
/// "at 52.4559, 13.3063" (what the model is told, and may echo).
static COORDINATES: LazyLock<regex::Regex> = LazyLock::new(|| {
    let degrees = r"-?\d{1,3}(?:[.,]\d+)?\s?°\s?[NSEWnsew]\b";
    let decimal = r"-?\d{1,3}\.\d{2,}";
    regex::Regex::new(&format!(
        r"(?:\s*\b(?:near|at|bei|près de|cerca de)\s+)?(?:{degrees}(?:\s*,?\s*{degrees})?|{decimal}\s*,\s*{decimal})"
    ))
    .expect("the coordinates pattern compiles")
});

/// What a share that hides locations cuts out of the text it shows (titles,
/// descriptions, captions, tags): coordinates, the names of the cameras its photos were
/// taken with, and the names of their places (town, region, country), with the word
/// that leads to them ("in Westerland, Germany"). Places a model named that no photo's
/// GPS points to stay.
pub struct Redactor {
    cameras: Option<regex::Regex>,
    places: Option<regex::Regex>,
}

/// One alternation of `names`, longest first, as whole words.
fn any_of(mut names: Vec<String>) -> Option<String> {
    names.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
    names.dedup();
    (!names.is_empty()).then(|| {
        names
            .iter()
            .map(|n| regex::escape(n))
            .collect::<Vec<_>>()
            .join("|")
    })
}

/// The letters a name's ASCII spelling (as GeoNames writes it) may carry accents on.
const ACCENTED: &[(char, &str)] = &[
    ('a', "aàáâãäåā"),
    ('c', "cçč"),
    ('e', "eèéêëē"),
    ('i', "iìíîïī"),
    ('l', "lł"),
    ('n', "nñń"),
    ('o', "oòóôõöøō"),
    ('s', "sšś"),
    ('u', "uùúûüū"),
    ('y', "yýÿ"),
    ('z', "zžźż"),
];

/// A place name as a pattern: the case as written (a town called "Of" is not the word
/// "of"), accents allowed where the ASCII spelling has none ("Zurich" finds "Zürich"),
/// and word edges only where the name starts or ends with a letter or digit
/// ("Washington, D.C.").
fn place_pattern(name: &str) -> String {
    let mut p = String::new();
    if name.starts_with(char::is_alphanumeric) {
        p.push_str(r"\b");
    }
    for c in name.chars() {
        let lower = c.to_ascii_lowercase();
        match ACCENTED.iter().find(|(k, _)| *k == lower) {
            Some((_, variants)) => {
                let variants: String = if c.is_uppercase() {
                    variants.chars().flat_map(char::to_uppercase).collect()
                } else {
                    (*variants).to_string()
                };
                p.push('[');
                p.push_str(&variants);
                p.push(']');
            }
            None => p.push_str(&regex::escape(&c.to_string())),
        }
    }
    if name.ends_with(char::is_alphanumeric) {
        p.push_str(r"\b");
    }
    p
}

impl Redactor {
    /// `cameras`: each photo's make and model, as recorded. No places.
    pub fn new<'a>(cameras: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>) -> Self {
        Self::with_places(cameras, std::iter::empty())
    }

    /// `cameras` as in [`Redactor::new`]; `places`: each photo's place.
    pub fn with_places<'a>(
        cameras: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
        places: impl IntoIterator<Item = &'a Place>,
    ) -> Self {
        let mut names: Vec<String> = Vec::new();
        for (make, model) in cameras {
            let model = model.map(str::trim).filter(|m| m.chars().count() >= 3);
            if let Some(model) = model {
                if let Some(make) = make.map(str::trim).filter(|m| !m.is_empty()) {
                    names.push(format!("{make} {model}"));
                }
                names.push(model.to_string());
            }
        }
        let cameras = any_of(names).map(|alternatives| {
            regex::Regex::new(&format!(r"(?i)\b(?:{alternatives})\b"))
                .expect("escaped names compile")
        });
        let mut names: Vec<String> = Vec::new();
        for place in places {
            names.extend(place.name.iter().cloned());
            names.extend(place.region.iter().cloned());
            names.extend(country_name(&place.country_code).map(str::to_string));
            names.extend(country_aliases(&place.country_code));
        }
        names.retain(|n| n.chars().count() >= 2);
        names.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
        names.dedup();
        let places = (!names.is_empty()).then(|| {
            let alternatives = names
                .iter()
                .map(|n| place_pattern(n))
                .collect::<Vec<_>>()
                .join("|");
            // "in Westerland, Germany", "à Lisbonne", "near Lisbon", "Westerland".
            regex::RegexBuilder::new(&format!(
                r"(?:\s*\b(?i:in|at|near|bei|nahe|à|près de|en|cerca de)\s+)?(?:{alternatives})(?:\s*,\s*(?:{alternatives}))*"
            ))
            .size_limit(64 << 20)
            .build()
            .ok()
        }).flatten();
        Self { cameras, places }
    }

    /// `text` without coordinates or camera names, its spacing and punctuation tidied.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = without_coordinates(text);
        if let Some(cameras) = &self.cameras
            && cameras.is_match(&out)
        {
            out = tidy(&cameras.replace_all(&out, ""));
        }
        if let Some(places) = &self.places
            && places.is_match(&out)
        {
            out = tidy(&places.replace_all(&out, ""));
        }
        out
    }
}

fn tidy(text: &str) -> String {
    let mut out = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [(" .", "."), (" ,", ","), (",.", "."), (" :", ":")] {
        out = out.replace(from, to);
    }
    out.trim().to_string()
}

/// `text` without the coordinates written into it, for a share that hides locations.
pub fn without_coordinates(text: &str) -> String {
    if !COORDINATES.is_match(text) {
        return text.to_string();
    }
    // "6 photos taken at 18:20 near 54.91° N, 8.31° E." → "6 photos taken at 18:20."
    tidy(&COORDINATES.replace_all(text, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_and_only_well_formed_ones_hash() {
        let a = ShareToken::generate();
        let b = ShareToken::generate();
        assert_eq!(a.token.len(), TOKEN_CHARS);
        assert_ne!(a.token, b.token);
        assert_eq!(ShareToken::hash_of(&a.token), Some(a.sha256));
        assert_eq!(ShareToken::hash_of(&a.token[1..]), None);
        assert_eq!(ShareToken::hash_of(&format!("{}=", &a.token[1..])), None);
        assert_eq!(ShareToken::hash_of(""), None);
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("correct hors", &phc));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(phc, hash_password("correct horse").unwrap(), "salted");
    }

    #[test]
    fn coordinates_are_cut_from_text() {
        assert_eq!(
            without_coordinates("6 photos taken between 18:20 and 19:02 near 54.91° N, 8.31° E."),
            "6 photos taken between 18:20 and 19:02."
        );
        assert_eq!(
            without_coordinates("Dunes at 54.9°S 8.3°W, windy"),
            "Dunes, windy"
        );
        assert_eq!(
            without_coordinates("Sunset on the beach"),
            "Sunset on the beach"
        );
        assert_eq!(
            without_coordinates("Dunes at 54.9123, 8.3123 in the wind"),
            "Dunes in the wind"
        );
        assert_eq!(
            without_coordinates("3.5 km walk, 2 hours"),
            "3.5 km walk, 2 hours"
        );
    }

    #[test]
    fn place_names_are_cut_with_the_word_before_them() {
        let sylt = Place {
            name: Some("Westerland".into()),
            region: Some("Schleswig-Holstein".into()),
            country_code: "DE".into(),
        };
        let r = Redactor::with_places([], [&sylt]);
        assert_eq!(
            r.scrub("Saturday Evening in Westerland, 2 August 2025"),
            "Saturday Evening, 2 August 2025"
        );
        assert_eq!(
            r.scrub("2 photos taken between 19:10 and 19:25 in Westerland, Germany."),
            "2 photos taken between 19:10 and 19:25."
        );
        assert_eq!(r.scrub("Dunes near Westerland"), "Dunes");
        assert_eq!(r.scrub("Westerland beach"), "beach");
        assert_eq!(
            r.scrub("An evening in the dunes"),
            "An evening in the dunes"
        );
    }

    #[test]
    fn place_names_with_accents_case_and_punctuation() {
        let zurich = Place {
            name: Some("Zurich".into()),
            region: Some("Of".into()),
            country_code: "DE".into(),
        };
        let dc = Place {
            name: Some("Washington, D.C.".into()),
            region: None,
            country_code: "US".into(),
        };
        let r = Redactor::with_places([], [&zurich, &dc]);
        // The data's ASCII spelling finds the accented one.
        assert_eq!(r.scrub("Lake Zürich at dusk"), "Lake at dusk");
        // A town called "Of" is not the word "of".
        assert_eq!(r.scrub("photos of the lake"), "photos of the lake");
        // Names ending in punctuation, and a country's own name for itself.
        assert_eq!(
            r.scrub("Spring in Washington, D.C. with friends"),
            "Spring with friends"
        );
        assert_eq!(r.scrub("Ein Abend in Deutschland"), "Ein Abend");
        assert_eq!(r.scrub("Road trip across the USA"), "Road trip across the");
    }

    #[test]
    fn camera_names_are_cut_from_text_and_other_words_stay() {
        let r = Redactor::new([
            (Some("Google"), Some("Pixel 8")),
            (Some("Fujifilm"), Some("X100V")),
            (Some("Apple"), None),
        ]);
        assert_eq!(
            r.scrub("Golden hour, shot on the Google Pixel 8 near 54.91° N, 8.31° E."),
            "Golden hour, shot on the."
        );
        assert_eq!(r.scrub("x100v colours at 52.4559, 13.3063"), "colours");
        assert_eq!(r.scrub("An apple tree"), "An apple tree");
        assert_eq!(Redactor::new([]).scrub("Pixel 8 art"), "Pixel 8 art");
    }
}
