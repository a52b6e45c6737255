//! Keyset paging for lists newest first: a page size within bounds, and an opaque cursor
//! naming the last row's `(created_at, id)`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use crate::error::ApiError;

pub const DEFAULT_PAGE: i64 = 20;
pub const MAX_PAGE: i64 = 100;

/// Where a page ends: the cursor of its last row.
pub fn encode_cursor(created_at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{}", created_at.timestamp_micros(), id))
}

fn decode_cursor(raw: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    let invalid =
        || ApiError::bad_request("invalid_cursor", "The cursor is not one this API gave out.");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (micros, id) = text.split_once('.').ok_or_else(invalid)?;
    let micros: i64 = micros.parse().map_err(|_| invalid())?;
    let at = Utc.timestamp_micros(micros).single().ok_or_else(invalid)?;
    let id = Uuid::parse_str(id).map_err(|_| invalid())?;
    Ok((at, id))
}

/// A checked page request: how many rows, and after which row.
pub struct Page {
    pub limit: i64,
    pub after: Option<(DateTime<Utc>, Uuid)>,
}

impl Page {
    /// `limit` within 1..=[`MAX_PAGE`] (default [`DEFAULT_PAGE`]); an empty cursor is
    /// the first page, as if none were given.
    pub fn parse(cursor: Option<&str>, limit: Option<i64>) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ApiError::bad_request(
                "invalid_limit",
                format!("limit must be between 1 and {MAX_PAGE}."),
            ));
        }
        let after = cursor
            .filter(|c| !c.is_empty())
            .map(decode_cursor)
            .transpose()?;
        Ok(Self { limit, after })
    }

    /// Rows fetched with `limit + 1` cut to the page, and the cursor of the next page
    /// when there is one.
    pub fn cut<T>(
        &self,
        mut rows: Vec<T>,
        key: impl Fn(&T) -> (DateTime<Utc>, Uuid),
    ) -> (Vec<T>, Option<String>) {
        if rows.len() as i64 > self.limit {
            rows.truncate(self.limit as usize);
            let next = rows.last().map(|r| {
                let (at, id) = key(r);
                encode_cursor(at, id)
            });
            (rows, next)
        } else {
            (rows, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_400() {
        let (at, id) = (
            Utc.timestamp_micros(1_763_780_000_123_456).unwrap(),
            Uuid::new_v4(),
        );
        let page = Page::parse(Some(&encode_cursor(at, id)), None).unwrap();
        assert_eq!(page.after, Some((at, id)));
        assert_eq!(page.limit, DEFAULT_PAGE);
        for bad in [
            "!!!",
            "bm90LWEtY3Vyc29y",
            &URL_SAFE_NO_PAD.encode("12.not-a-uuid"),
        ] {
            assert_eq!(
                Page::parse(Some(bad), None).err().unwrap().code(),
                "invalid_cursor",
                "{bad}"
            );
        }
        assert!(Page::parse(Some(""), None).unwrap().after.is_none());
        for limit in [0, MAX_PAGE + 1] {
            assert_eq!(
                Page::parse(None, Some(limit)).err().unwrap().code(),
                "invalid_limit"
            );
        }
    }

    #[test]
    fn a_page_is_cut_at_its_limit_and_names_its_last_row() {
        let rows: Vec<(DateTime<Utc>, Uuid)> = (0..3)
            .map(|i| (Utc.timestamp_micros(1_000_000 * i).unwrap(), Uuid::new_v4()))
            .collect();
        let page = Page::parse(None, Some(2)).unwrap();
        let (cut, next) = page.cut(rows.clone(), |r| *r);
        assert_eq!(cut.len(), 2);
        assert_eq!(next, Some(encode_cursor(rows[1].0, rows[1].1)));
        let (all, none) = Page::parse(None, Some(3)).unwrap().cut(rows, |r| *r);
        assert_eq!((all.len(), none), (3, None));
    }
}
