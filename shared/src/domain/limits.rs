//! Limits and tiers: requests per minute by route class, photos organised and pictures
//! made per day, bytes stored, and a monthly AI budget — each tier with its numbers.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};

/// A user's tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Tier {
    #[default]
    Free,
    Premium,
}

impl Tier {
    pub const ALL: [Tier; 2] = [Tier::Free, Tier::Premium];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Premium => "premium",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "free" => Some(Self::Free),
            "premium" => Some(Self::Premium),
            _ => None,
        }
    }
}

/// What a request does, for its per-minute limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteClass {
    /// Reading: every GET.
    Read,
    /// Changing: uploads, shares, deletes, settings.
    Write,
    /// Asking for AI work: organising, generating, editing, retrying.
    Ai,
}

impl RouteClass {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Ai => "ai",
        }
    }

    /// The class of a route, by its method and path template.
    pub fn of(method: &str, template: &str) -> Self {
        match (method, template) {
            ("GET" | "HEAD", _) => Self::Read,
            (
                "POST",
                "/api/galleries/process"
                | "/api/generations"
                | "/api/images/{image_id}/edits"
                | "/api/jobs/{job_id}/retry",
            ) => Self::Ai,
            _ => Self::Write,
        }
    }
}

/// One tier's numbers.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TierLimits {
    pub read_per_minute: u32,
    pub write_per_minute: u32,
    pub ai_per_minute: u32,
    pub photos_per_day: u32,
    pub generations_per_day: u32,
    pub storage_bytes: u64,
    pub monthly_budget_usd: f64,
}

impl TierLimits {
    pub fn per_minute(&self, class: RouteClass) -> u32 {
        match class {
            RouteClass::Read => self.read_per_minute,
            RouteClass::Write => self.write_per_minute,
            RouteClass::Ai => self.ai_per_minute,
        }
    }
}

/// Every tier's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Tiers(pub HashMap<Tier, TierLimits>);

impl Tiers {
    /// The defaults: generous for a person, a wall for a script gone wrong.
    pub fn defaults() -> Self {
        let free = TierLimits {
            read_per_minute: 1200,
            write_per_minute: 300,
            ai_per_minute: 30,
            photos_per_day: 1000,
            generations_per_day: 20,
            storage_bytes: 10 * 1024 * 1024 * 1024,
            monthly_budget_usd: 2.0,
        };
        let premium = TierLimits {
            read_per_minute: 6000,
            write_per_minute: 1500,
            ai_per_minute: 150,
            photos_per_day: 20_000,
            generations_per_day: 500,
            storage_bytes: 200 * 1024 * 1024 * 1024,
            monthly_budget_usd: 50.0,
        };
        Self(HashMap::from([
            (Tier::Free, free),
            (Tier::Premium, premium),
        ]))
    }

    /// The defaults with `json`'s tiers (`{"free": {…every field…}}`) in their place.
    pub fn with_overrides(json: &str) -> Result<Self, String> {
        let raw: HashMap<String, TierLimits> =
            serde_json::from_str(json).map_err(|e| format!("not a tier table: {e}"))?;
        let mut tiers = Self::defaults();
        for (name, limits) in raw {
            let tier = Tier::parse(&name)
                .ok_or_else(|| format!("`{name}` is not a tier (free, premium)"))?;
            if !limits.monthly_budget_usd.is_finite() || limits.monthly_budget_usd < 0.0 {
                return Err(format!(
                    "the budget of `{name}` must be a non-negative number"
                ));
            }
            tiers.0.insert(tier, limits);
        }
        Ok(tiers)
    }

    pub fn of(&self, tier: Tier) -> TierLimits {
        self.0
            .get(&tier)
            .copied()
            .unwrap_or_else(|| Self::defaults().0[&Tier::Free])
    }
}

/// The start of the minute, the day and the month `now` is in (UTC), and when each ends.
pub fn minute_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::seconds(i64::from(now.timestamp().rem_euclid(60) as u32))
        - Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos()))
}

pub fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    Utc.from_utc_datetime(&now.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default())
}

pub fn month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now)
}

pub fn next_month(now: DateTime<Utc>) -> DateTime<Utc> {
    let (y, m) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0)
        .single()
        .unwrap_or(now)
}

/// Whole seconds from `now` to `then`, at least 1.
pub fn secs_until(now: DateTime<Utc>, then: DateTime<Utc>) -> u64 {
    u64::try_from((then - now).num_milliseconds().max(0)).map_or(1, |ms| ms.div_ceil(1000).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_start_and_end_where_they_should() {
        let now = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 30).unwrap();
        assert_eq!(
            minute_start(now),
            Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 0).unwrap()
        );
        assert_eq!(
            day_start(now),
            Utc.with_ymd_and_hms(2026, 12, 31, 0, 0, 0).unwrap()
        );
        assert_eq!(
            month_start(now),
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            next_month(now),
            Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(secs_until(now, next_month(now)), 30);
    }

    #[test]
    fn routes_fall_into_classes() {
        assert_eq!(RouteClass::of("GET", "/api/generations"), RouteClass::Read);
        assert_eq!(RouteClass::of("POST", "/api/generations"), RouteClass::Ai);
        assert_eq!(RouteClass::of("DELETE", "/api/me"), RouteClass::Write);
    }

    #[test]
    fn overrides_replace_a_tier_and_refuse_unknown_ones() {
        let t = Tiers::with_overrides(r#"{"free": {"readPerMinute": 5, "writePerMinute": 5, "aiPerMinute": 1, "photosPerDay": 10, "generationsPerDay": 1, "storageBytes": 1000, "monthlyBudgetUsd": 0.5}}"#).unwrap();
        assert_eq!(t.of(Tier::Free).generations_per_day, 1);
        assert_eq!(t.of(Tier::Premium).generations_per_day, 500);
        assert!(Tiers::with_overrides(r#"{"gold": {}}"#).is_err());
    }
}
