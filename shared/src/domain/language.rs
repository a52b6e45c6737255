//! The language a person's albums are written in: the model is asked for it, and the
//! offline organiser writes its titles and descriptions in it.

use chrono::{DateTime, Datelike, FixedOffset, Timelike};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    En,
    De,
    Fr,
    Es,
}

impl Language {
    pub const ALL: [Language; 4] = [Self::En, Self::De, Self::Fr, Self::Es];

    /// The BCP 47 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
            Self::Fr => "fr",
            Self::Es => "es",
        }
    }

    /// A code as a client sends it (`de`, `de-CH`, `FR`); the primary subtag decides.
    pub fn parse(raw: &str) -> Option<Self> {
        let primary = raw.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Self::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// Its name in English, for the model's instructions.
    pub fn english_name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::De => "German",
            Self::Fr => "French",
            Self::Es => "Spanish",
        }
    }

    fn weekday(self, t: &DateTime<FixedOffset>) -> &'static str {
        let i = t.weekday().num_days_from_monday() as usize;
        match self {
            Self::En => [
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday",
                "Friday",
                "Saturday",
                "Sunday",
            ][i],
            Self::De => [
                "Montag",
                "Dienstag",
                "Mittwoch",
                "Donnerstag",
                "Freitag",
                "Samstag",
                "Sonntag",
            ][i],
            Self::Fr => [
                "Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche",
            ][i],
            Self::Es => [
                "Lunes",
                "Martes",
                "Miércoles",
                "Jueves",
                "Viernes",
                "Sábado",
                "Domingo",
            ][i],
        }
    }

    fn month(self, t: &DateTime<FixedOffset>) -> &'static str {
        let i = t.month0() as usize;
        match self {
            Self::En => [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ][i],
            Self::De => [
                "Januar",
                "Februar",
                "März",
                "April",
                "Mai",
                "Juni",
                "Juli",
                "August",
                "September",
                "Oktober",
                "November",
                "Dezember",
            ][i],
            Self::Fr => [
                "janvier",
                "février",
                "mars",
                "avril",
                "mai",
                "juin",
                "juillet",
                "août",
                "septembre",
                "octobre",
                "novembre",
                "décembre",
            ][i],
            Self::Es => [
                "enero",
                "febrero",
                "marzo",
                "abril",
                "mayo",
                "junio",
                "julio",
                "agosto",
                "septiembre",
                "octubre",
                "noviembre",
                "diciembre",
            ][i],
        }
    }

    /// `10 May 2025`, `10. Mai 2025`, `10 mai 2025`, `10 de mayo de 2025`.
    pub fn date(self, t: &DateTime<FixedOffset>) -> String {
        let (d, m, y) = (t.day(), self.month(t), t.year());
        match self {
            Self::En | Self::Fr => format!("{d} {m} {y}"),
            Self::De => format!("{d}. {m} {y}"),
            Self::Es => format!("{d} de {m} de {y}"),
        }
    }

    /// The first day of a range without its year: `10 May`, `10. Mai`, `10 de mayo`.
    fn day_and_month(self, t: &DateTime<FixedOffset>) -> String {
        let (d, m) = (t.day(), self.month(t));
        match self {
            Self::En | Self::Fr => format!("{d} {m}"),
            Self::De => format!("{d}. {m}"),
            Self::Es => format!("{d} de {m}"),
        }
    }

    /// A one-day outing's title: `Saturday Evening, 2 August 2025`,
    /// `Samstagabend, 2. August 2025`, `Samedi soir, 2 août 2025`,
    /// `Sábado por la tarde, 2 de agosto de 2025`; with its place,
    /// `Saturday Evening in Westerland, 2 August 2025`.
    pub fn day_title(self, t: &DateTime<FixedOffset>, place: Option<&str>) -> String {
        let part = match t.hour() {
            5..=11 => 0,
            12..=16 => 1,
            17..=20 => 2,
            _ => 3,
        };
        let day = self.weekday(t);
        let named = match self {
            Self::En => format!(
                "{day} {}",
                ["Morning", "Afternoon", "Evening", "Night"][part]
            ),
            Self::De => format!("{day}{}", ["morgen", "nachmittag", "abend", "nacht"][part]),
            Self::Fr => format!("{day} {}", ["matin", "après-midi", "soir", "nuit"][part]),
            Self::Es => format!(
                "{day} {}",
                [
                    "por la mañana",
                    "a mediodía",
                    "por la tarde",
                    "por la noche"
                ][part]
            ),
        };
        match place {
            Some(place) => format!("{named} {} {place}, {}", self.in_word(), self.date(t)),
            None => format!("{named}, {}", self.date(t)),
        }
    }

    /// A longer outing's title: `10 May – 2 August 2025`; with its place,
    /// `Lisbon, 10 May – 2 August 2025`.
    pub fn range_title(
        self,
        start: &DateTime<FixedOffset>,
        end: &DateTime<FixedOffset>,
        place: Option<&str>,
    ) -> String {
        let range = format!("{} – {}", self.day_and_month(start), self.date(end));
        match place {
            Some(place) => format!("{place}, {range}"),
            None => range,
        }
    }

    /// The word before a place: `in Westerland`, `à Lisbonne`, `en Lisboa`.
    pub fn in_word(self) -> &'static str {
        match self {
            Self::En | Self::De => "in",
            Self::Fr => "à",
            Self::Es => "en",
        }
    }

    /// `1 photo`, `3 photos`.
    pub fn photos(self, n: usize) -> String {
        match (self, n) {
            (Self::En, 1) => "1 photo".into(),
            (Self::En, n) => format!("{n} photos"),
            (Self::De, 1) => "1 Foto".into(),
            (Self::De, n) => format!("{n} Fotos"),
            (Self::Fr, 1) => "1 photo".into(),
            (Self::Fr, n) => format!("{n} photos"),
            (Self::Es, 1) => "1 foto".into(),
            (Self::Es, n) => format!("{n} fotos"),
        }
    }

    /// `3 photos taken at 09:40`.
    pub fn taken_at(self, n: usize, time: &str) -> String {
        let p = self.photos(n);
        match self {
            Self::En => format!("{p} taken at {time}"),
            Self::De => format!("{p}, aufgenommen um {time}"),
            Self::Fr if n == 1 => format!("{p} prise à {time}"),
            Self::Fr => format!("{p} prises à {time}"),
            Self::Es if n == 1 => format!("{p} tomada a las {time}"),
            Self::Es => format!("{p} tomadas a las {time}"),
        }
    }

    /// `3 photos taken between 09:40 and 10:10`.
    pub fn taken_between(self, n: usize, from: &str, to: &str) -> String {
        let p = self.photos(n);
        match self {
            Self::En => format!("{p} taken between {from} and {to}"),
            Self::De => format!("{p}, aufgenommen zwischen {from} und {to}"),
            Self::Fr => format!("{p} prises entre {from} et {to}"),
            Self::Es => format!("{p} tomadas entre las {from} y las {to}"),
        }
    }

    /// ` near` / ` nahe` / ` près de` / ` cerca de`, before coordinates.
    pub fn near(self) -> &'static str {
        match self {
            Self::En => " near",
            Self::De => " nahe",
            Self::Fr => " près de",
            Self::Es => " cerca de",
        }
    }

    /// `3 photos without a recorded time.`
    pub fn without_time(self, n: usize) -> String {
        let p = self.photos(n);
        match self {
            Self::En => format!("{p} without a recorded time."),
            Self::De => format!("{p} ohne Aufnahmezeit."),
            Self::Fr => format!("{p} sans heure enregistrée."),
            Self::Es => format!("{p} sin hora registrada."),
        }
    }

    /// The album of photos with no outing, alone or beside others.
    pub fn moments(self, alone: bool) -> &'static str {
        match (self, alone) {
            (Self::En, true) => "Moments",
            (Self::En, false) => "More Moments",
            (Self::De, true) => "Momente",
            (Self::De, false) => "Weitere Momente",
            (Self::Fr, true) => "Moments",
            (Self::Fr, false) => "Autres moments",
            (Self::Es, true) => "Momentos",
            (Self::Es, false) => "Más momentos",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn titles_read_naturally_in_each_language() {
        let t = at("2025-08-02T19:10:00+02:00");
        assert_eq!(
            Language::En.day_title(&t, None),
            "Saturday Evening, 2 August 2025"
        );
        assert_eq!(
            Language::De.day_title(&t, None),
            "Samstagabend, 2. August 2025"
        );
        assert_eq!(Language::Fr.day_title(&t, None), "Samedi soir, 2 août 2025");
        assert_eq!(
            Language::Es.day_title(&t, None),
            "Sábado por la tarde, 2 de agosto de 2025"
        );
        let s = at("2025-05-10T09:40:00+02:00");
        assert_eq!(
            Language::De.range_title(&s, &t, None),
            "10. Mai – 2. August 2025"
        );
        assert_eq!(
            Language::Fr.day_title(&t, Some("Lisbonne")),
            "Samedi soir à Lisbonne, 2 août 2025"
        );
        assert_eq!(
            Language::En.range_title(&s, &t, Some("Lisbon")),
            "Lisbon, 10 May – 2 August 2025"
        );
        assert_eq!(
            Language::Es.taken_between(3, "09:40", "10:10"),
            "3 fotos tomadas entre las 09:40 y las 10:10"
        );
    }

    #[test]
    fn codes_parse_by_their_primary_subtag() {
        assert_eq!(Language::parse("de-CH"), Some(Language::De));
        assert_eq!(Language::parse("FR"), Some(Language::Fr));
        assert_eq!(Language::parse("pt"), None);
        assert_eq!(Language::parse(""), None);
    }
}
