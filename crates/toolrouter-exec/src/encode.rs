//! How JSON argument values are written onto the wire: path segments, query strings and
//! `application/x-www-form-urlencoded` bodies.
//!
//! One place for these rules so that the query string and a form body flatten nested values
//! the same way (`a[b]=c`, `a[0]=x`), and so that every percent-encoding in a planned request
//! uses the same strict set: only RFC 3986 unreserved characters are left as they are, which
//! every server decodes identically.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// Everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`).
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The text of a value in a path, query or header: strings as they are, numbers and booleans
/// as written in JSON (`42`, `true`), anything structured as compact JSON.
pub(crate) fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_) => value.to_string(),
    }
}

pub(crate) fn percent(text: &str) -> String {
    utf8_percent_encode(text, STRICT).to_string()
}

/// A path segment; with `keep_slashes` (`{+arg}`) each `/`-separated part is encoded on its own
/// so that a file path keeps its structure.
pub(crate) fn path_segment(text: &str, keep_slashes: bool) -> String {
    if keep_slashes {
        text.split('/').map(percent).collect::<Vec<_>>().join("/")
    } else {
        percent(text)
    }
}

/// `k=v&k2=v2` with both sides strictly percent-encoded.
pub(crate) fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", percent(k), percent(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Flattens a value into `(key, text)` pairs the way form bodies (Stripe style) expect:
/// objects as `key[field]`, arrays as `key[index]`. Nulls are skipped: an unset value is not
/// sent, in a nested object just as at the top level.
pub(crate) fn flatten_brackets(key: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (field, inner) in map {
                flatten_brackets(&format!("{key}[{field}]"), inner, out);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                flatten_brackets(&format!("{key}[{i}]"), inner, out);
            }
        }
        Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            out.push((key.to_owned(), scalar_text(value)));
        }
    }
}

/// A form body from a JSON object; `None` when the body is not an object (a form has no way to
/// say anything else).
pub(crate) fn form_body(body: &Value) -> Option<String> {
    let map = body.as_object()?;
    let mut pairs = Vec::new();
    for (key, value) in map {
        flatten_brackets(key, value, &mut pairs);
    }
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        ser.append_pair(k, v);
    }
    Some(ser.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;
    use serde_json::json;

    #[test]
    fn segments_and_queries_encode_everything_but_unreserved() {
        assert_eq!(path_segment("a b/c?d", false), "a%20b%2Fc%3Fd");
        assert_eq!(path_segment("docs/read me.md", true), "docs/read%20me.md");
        assert_eq!(
            query_string([("q", "is:open label:\"a&b\""), ("x~", "é")]),
            "q=is%3Aopen%20label%3A%22a%26b%22&x~=%C3%A9"
        );
    }

    #[test]
    fn form_bodies_nest_with_brackets_and_skip_nulls() {
        let body = json!({"amount": 2000, "capture": true, "metadata": {"order": "6735", "gone": null},
                          "items": [{"price": "p_1"}, "plain"], "note": "a b&c"});
        expect!["amount=2000&capture=true&items%5B0%5D%5Bprice%5D=p_1&items%5B1%5D=plain&metadata%5Border%5D=6735&note=a+b%26c"]
            .assert_eq(&form_body(&body).expect("object"));
        assert_eq!(form_body(&json!([1])), None);
    }

    #[test]
    fn scalars_are_written_as_json_writes_them() {
        let got: Vec<String> = [
            json!("s"),
            json!(42),
            json!(1.5),
            json!(false),
            json!(null),
            json!({"a": 1}),
        ]
        .iter()
        .map(scalar_text)
        .collect();
        assert_eq!(got, ["s", "42", "1.5", "false", "", "{\"a\":1}"]);
    }
}
