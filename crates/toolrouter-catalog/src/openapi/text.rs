//! Names and prose for generated tools: slugs within the catalog's limits, argument names every
//! LLM provider accepts, and descriptions cleaned of the HTML many OpenAPI documents carry.

use std::collections::HashSet;

use crate::validate::MAX_TOOL_SLUG_LEN;

/// Longest tool or toolkit description kept; longer texts are cut at a word boundary.
pub(super) const MAX_DESCRIPTION: usize = 1024;

/// Longest argument name (the limit of the strictest LLM tool APIs).
const MAX_ARG_LEN: usize = 64;

/// Words left out first when a slug is too long: they carry little meaning in an identifier.
const FILLER_WORDS: [&str; 14] = [
    "A", "AN", "THE", "OF", "FOR", "BY", "TO", "AND", "IN", "ON", "WITH", "FROM", "AT", "OR",
];

/// `chat_postMessage` → `CHAT_POST_MESSAGE`, `GetV1HTTPServer` → `GET_V1_HTTP_SERVER`.
pub(super) fn upper_snake(s: &str) -> String {
    words(s).join("_")
}

fn words(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut words = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some(&prev) = i.checked_sub(1).and_then(|p| chars.get(p))
            && !cur.is_empty()
            && c.is_ascii_uppercase()
        {
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            let boundary = prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower);
            if boundary {
                words.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c.to_ascii_uppercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// 32-bit FNV-1a: a stable hash (unlike `std`'s) so that shortened slugs never change between
/// builds.
fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Cuts an ASCII slug to `max` bytes without leaving a trailing `_`.
fn cut(s: &str, max: usize) -> &str {
    s[..s.len().min(max)].trim_end_matches('_')
}

/// Hands out unique tool slugs `<TOOLKIT>_<OPERATION>` of at most 60 characters.
#[derive(Debug)]
pub(super) struct SlugAllocator {
    prefix: String,
    used: HashSet<String>,
}

impl SlugAllocator {
    pub(super) fn new(toolkit_slug: &str) -> SlugAllocator {
        SlugAllocator {
            prefix: format!("{}_", toolkit_slug.to_ascii_uppercase()),
            used: HashSet::new(),
        }
    }

    pub(super) fn allocate(&mut self, operation_id: &str) -> String {
        let mut words = words(operation_id);
        if words.is_empty() {
            words.push("OPERATION".to_owned());
        }
        let full = format!("{}{}", self.prefix, words.join("_"));
        let short = if full.len() <= MAX_TOOL_SLUG_LEN {
            full
        } else {
            let kept: Vec<&str> = words
                .iter()
                .map(String::as_str)
                .filter(|w| !FILLER_WORDS.contains(w))
                .collect();
            let lean = format!("{}{}", self.prefix, kept.join("_"));
            if lean.len() <= MAX_TOOL_SLUG_LEN && !kept.is_empty() {
                lean
            } else {
                let hash = format!("_{:04X}", fnv1a(&full) & 0xffff);
                format!("{}{hash}", cut(&lean, MAX_TOOL_SLUG_LEN - hash.len()))
            }
        };
        let mut candidate = short.clone();
        let mut n = 2;
        while self.used.contains(&candidate) {
            let suffix = format!("_{n}");
            candidate = format!("{}{suffix}", cut(&short, MAX_TOOL_SLUG_LEN - suffix.len()));
            n += 1;
        }
        self.used.insert(candidate.clone());
        candidate
    }
}

fn arg_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'
}

/// An argument name matching `^[A-Za-z0-9_.-]{1,64}$`; names that already do are kept as they are.
pub(super) fn arg_name(name: &str) -> String {
    if !name.is_empty() && name.len() <= MAX_ARG_LEN && name.chars().all(arg_char_ok) {
        return name.to_owned();
    }
    let mut out = String::new();
    for c in name.chars() {
        let c = if arg_char_ok(c) { c } else { '_' };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    let out = out.trim_matches('_');
    if out.is_empty() {
        "param".to_owned()
    } else {
        cut(out, MAX_ARG_LEN).to_owned()
    }
}

/// HTML elements stripped from descriptions; other `<...>` text (`<api_key>`) is kept verbatim.
const BLOCK_TAGS: [&str; 20] = [
    "p",
    "div",
    "br",
    "ul",
    "ol",
    "pre",
    "table",
    "tr",
    "thead",
    "tbody",
    "blockquote",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "dl",
    "dd",
];
const INLINE_TAGS: [&str; 14] = [
    "a", "code", "strong", "em", "b", "i", "u", "span", "td", "th", "sup", "sub", "small", "dt",
];

/// Description text for an LLM: known HTML tags removed, entities decoded, whitespace tidied.
pub(super) fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt + 1..];
        let tag_end = after.find('>').filter(|&e| e < 300);
        let replacement = tag_end.and_then(|end| {
            let closing = after.starts_with('/');
            let inner = after[..end].trim_start_matches('/');
            let name: String = inner
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            if name == "li" {
                Some(if closing { "" } else { "\n- " })
            } else if BLOCK_TAGS.contains(&name.as_str()) {
                Some("\n")
            } else if INLINE_TAGS.contains(&name.as_str()) {
                Some("")
            } else {
                None
            }
        });
        match (replacement, tag_end) {
            (Some(r), Some(end)) => {
                out.push_str(r);
                rest = &after[end + 1..];
            }
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let mut tidy = String::with_capacity(decoded.len());
    let mut blank_lines = 0;
    for line in decoded.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_lines += 1;
            continue;
        }
        if !tidy.is_empty() {
            tidy.push_str(if blank_lines > 0 { "\n\n" } else { "\n" });
        }
        blank_lines = 0;
        tidy.push_str(line);
    }
    tidy.trim().to_owned()
}

/// [`clean`] on a single line.
pub(super) fn one_line(s: &str) -> String {
    clean(s).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first sentence of a text when it is short enough to serve as a title.
pub(super) fn short_first_sentence(s: &str) -> Option<String> {
    let line = s.lines().next()?.trim();
    let end = line.find(". ").map_or(line.len(), |i| i + 1);
    let sentence = line[..end].trim().trim_end_matches('.').trim();
    (!sentence.is_empty() && sentence.chars().count() <= 80).then(|| sentence.to_owned())
}

/// Cuts `s` to at most `max` bytes at a word boundary, marking the cut with `…`.
pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max - '…'.len_utf8();
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let head = &s[..end];
    let at_word_end = s[end..].starts_with(char::is_whitespace);
    let head = match head.rfind(char::is_whitespace) {
        Some(i) if !at_word_end => &head[..i],
        _ => head,
    };
    format!("{}…", head.trim_end())
}
