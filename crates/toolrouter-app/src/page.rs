//! Cursor pagination, shared by every list use case (catalog listings now, sessions later).
//!
//! A cursor is opaque to clients: the base64url text of the offset it resumes at, tagged so that
//! anything this server did not issue is refused with a message naming `cursor` rather than
//! silently read as the first page. The last page never carries a `next_cursor` (CONTRACT.md
//! §12.10: the SDKs loop while it is truthy).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use toolrouter_core::ErrorCode;

use crate::{AppError, AppResult};

/// Page size when the caller gives none.
pub const DEFAULT_LIMIT: u64 = 20;
/// Largest page a caller may ask for.
pub const MAX_LIMIT: u64 = 1000;

const CURSOR_TAG: &str = "o:";

/// What the caller asked for: `limit` and `cursor` exactly as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// One page of a list, with the totals the wire's paginated responses carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present only when more items follow.
    pub next_cursor: Option<String>,
    pub total_items: usize,
    pub total_pages: usize,
    /// 1-based.
    pub current_page: usize,
}

fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_TAG}{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    text.strip_prefix(CURSOR_TAG)?.parse().ok()
}

impl PageRequest {
    /// The validated `limit`, for an endpoint whose pages hold at most `max` items.
    pub fn limit_within(&self, max: u64) -> AppResult<u64> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT.min(max));
        if !(1..=max).contains(&limit) {
            return Err(AppError::new(
                ErrorCode::ValidationFailed,
                format!("query parameter `limit` must be between 1 and {max}, got {limit}"),
            )
            .with_fix(format!(
                "Ask for at most {max} items per page and follow `next_cursor`."
            )));
        }
        Ok(limit)
    }

    /// The validated `(offset, limit)` this request stands for.
    fn resolve(&self, max: u64) -> AppResult<(usize, usize)> {
        let limit = self.limit_within(max)?;
        let offset = match self.cursor.as_deref().filter(|c| !c.trim().is_empty()) {
            None => 0,
            Some(c) => decode_cursor(c).ok_or_else(|| {
                AppError::new(
                    ErrorCode::ValidationFailed,
                    "query parameter `cursor` is not a cursor this server issued",
                )
                .with_fix("Pass the `next_cursor` of the previous page unchanged, or leave `cursor` out for the first page.")
            })?,
        };
        // `limit` is at most `max`, a page size, so it fits.
        Ok((offset, limit as usize))
    }

    /// Cuts the page this request names out of the whole, ordered list.
    pub fn apply<T>(&self, all: Vec<T>) -> AppResult<Page<T>> {
        self.apply_within(all, MAX_LIMIT)
    }

    /// [`PageRequest::apply`] for an endpoint whose pages hold at most `max` items.
    pub fn apply_within<T>(&self, all: Vec<T>, max: u64) -> AppResult<Page<T>> {
        let (offset, limit) = self.resolve(max)?;
        let total_items = all.len();
        let items: Vec<T> = all.into_iter().skip(offset).take(limit).collect();
        let end = offset.saturating_add(items.len());
        Ok(Page {
            next_cursor: (end < total_items).then(|| encode_cursor(end)),
            total_items,
            total_pages: total_items.div_ceil(limit).max(1),
            current_page: offset / limit + 1,
            items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(total: usize, limit: u64) -> Vec<Vec<usize>> {
        let all: Vec<usize> = (0..total).collect();
        let mut pages = Vec::new();
        let mut cursor = None;
        loop {
            let req = PageRequest {
                limit: Some(limit),
                cursor: cursor.take(),
            };
            let page = req.apply(all.clone()).unwrap();
            assert_eq!(page.total_items, total);
            assert_eq!(page.current_page, pages.len() + 1);
            pages.push(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        pages
    }

    #[test]
    fn walking_pages_yields_every_item_once_and_stops_on_the_last() {
        assert_eq!(walk(5, 2), vec![vec![0, 1], vec![2, 3], vec![4]]);
        assert_eq!(walk(4, 2), vec![vec![0, 1], vec![2, 3]]);
        assert_eq!(walk(0, 3), vec![Vec::<usize>::new()]);
    }

    #[test]
    fn totals_count_pages() {
        let page = PageRequest {
            limit: Some(2),
            cursor: None,
        }
        .apply((0..5).collect())
        .unwrap();
        assert_eq!((page.total_pages, page.current_page), (3, 1));
        let empty = PageRequest::default().apply(Vec::<u8>::new()).unwrap();
        assert_eq!(
            (empty.total_pages, empty.current_page, empty.next_cursor),
            (1, 1, None)
        );
    }

    #[test]
    fn bad_limits_and_cursors_name_the_parameter() {
        for limit in [0, MAX_LIMIT + 1] {
            let err = PageRequest {
                limit: Some(limit),
                cursor: None,
            }
            .apply(vec![1])
            .unwrap_err();
            assert!(err.message.contains("`limit`"), "{}", err.message);
            assert_eq!(err.code, ErrorCode::ValidationFailed);
        }
        let forged = URL_SAFE_NO_PAD.encode("x:3");
        for cursor in ["%%%", "bm90IGEgY3Vyc29y", forged.as_str()] {
            let req = PageRequest {
                limit: None,
                cursor: Some(cursor.to_owned()),
            };
            let err = req.apply(vec![1]).unwrap_err();
            assert!(
                err.message.contains("`cursor`"),
                "{cursor}: {}",
                err.message
            );
        }
    }

    #[test]
    fn a_cursor_past_the_end_is_an_empty_last_page() {
        let req = PageRequest {
            limit: Some(2),
            cursor: Some(encode_cursor(10)),
        };
        let page = req.apply(vec![1, 2, 3]).unwrap();
        assert!(page.items.is_empty());
        assert_eq!(page.next_cursor, None);
    }
}
