//! Built-in argument transforms, named by `http.transform`, for request bodies that plain
//! placement cannot express.
//!
//! A transform takes the call's arguments and returns new ones: it may consume arguments and
//! produces the ones `toolrouter_catalog::validate::KNOWN_TRANSFORMS` declares, which the tool's
//! `params` then place like any other argument.
//!
//! `gmail_raw_message` writes a deterministic RFC 2822 message so that a request test can state
//! the exact `raw` value:
//!
//! ```text
//! To: <recipient_email, comma-joined when an array>
//! Cc: <cc>                       (when given)
//! Bcc: <bcc>                     (when given)
//! Subject: <subject>             (when given; RFC 2047 `=?UTF-8?B?…?=` words when not ASCII)
//! MIME-Version: 1.0
//! Content-Type: text/plain; charset="UTF-8"     (text/html when is_html is true)
//! Content-Transfer-Encoding: 7bit               (base64, 76-column lines, when the body is not
//!                                                ASCII or has a line over 998 octets)
//!
//! <body, line endings as CRLF>
//! ```
//!
//! Lines end in CRLF and the whole message is base64url-encoded with padding, as in Google's
//! own samples. CR and LF inside header values are replaced by spaces: an argument that came from
//! a model must not be able to add a header (a `Bcc`, say) to the message.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde_json::{Map, Value};

use crate::plan::PlanError;

/// Applies the transform `name` to `args`. Every name in `KNOWN_TRANSFORMS` has an arm here
/// (tested).
pub(crate) fn apply(name: &str, args: Map<String, Value>) -> Result<Map<String, Value>, PlanError> {
    match name {
        "gmail_raw_message" => gmail_raw_message(args),
        _ => Err(PlanError::UnknownTransform {
            name: name.to_owned(),
        }),
    }
}

/// Arguments consumed by `gmail_raw_message` (`thread_id` is read by nobody here and stays, so
/// that `params` can place it next to `raw`).
const GMAIL_MESSAGE_ARGS: [&str; 6] =
    ["recipient_email", "subject", "body", "cc", "bcc", "is_html"];

fn gmail_raw_message(mut args: Map<String, Value>) -> Result<Map<String, Value>, PlanError> {
    let fail = |message: String| PlanError::Transform {
        name: "gmail_raw_message",
        message,
    };
    let addresses = |args: &Map<String, Value>, key: &str| -> Result<Option<String>, PlanError> {
        match args.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(header_safe(s))),
            Some(Value::Array(items)) => {
                let mut list = Vec::new();
                for item in items {
                    match item.as_str() {
                        Some(s) if !s.trim().is_empty() => list.push(header_safe(s)),
                        Some(_) => {}
                        None => {
                            return Err(fail(format!(
                                "`{key}` must hold email addresses as strings"
                            )));
                        }
                    }
                }
                Ok((!list.is_empty()).then(|| list.join(", ")))
            }
            Some(_) => Err(fail(format!(
                "`{key}` must be an email address or a list of them"
            ))),
        }
    };
    let text = |args: &Map<String, Value>, key: &str| -> Result<Option<String>, PlanError> {
        match args.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(fail(format!("`{key}` must be a string"))),
        }
    };
    let to = addresses(&args, "recipient_email")?;
    let cc = addresses(&args, "cc")?;
    let bcc = addresses(&args, "bcc")?;
    let subject = text(&args, "subject")?;
    let body = text(&args, "body")?.unwrap_or_default();
    let is_html = match args.get("is_html") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(fail("`is_html` must be true or false".to_owned())),
    };

    let mut message = String::new();
    for (name, value) in [("To", &to), ("Cc", &cc), ("Bcc", &bcc)] {
        if let Some(v) = value {
            message.push_str(&format!("{name}: {v}\r\n"));
        }
    }
    if let Some(s) = &subject {
        message.push_str(&format!(
            "Subject: {}\r\n",
            encode_header_text(&header_safe(s))
        ));
    }
    let subtype = if is_html { "html" } else { "plain" };
    message.push_str("MIME-Version: 1.0\r\n");
    message.push_str(&format!(
        "Content-Type: text/{subtype}; charset=\"UTF-8\"\r\n"
    ));
    let body = crlf(&body);
    let seven_bit = body.is_ascii() && body.split("\r\n").all(|line| line.len() <= 998);
    if seven_bit {
        message.push_str("Content-Transfer-Encoding: 7bit\r\n\r\n");
        message.push_str(&body);
    } else {
        message.push_str("Content-Transfer-Encoding: base64\r\n\r\n");
        let encoded = STANDARD.encode(body.as_bytes());
        let lines: Vec<&str> = encoded
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        message.push_str(&lines.join("\r\n"));
    }

    for key in GMAIL_MESSAGE_ARGS {
        args.remove(key);
    }
    args.insert(
        "raw".to_owned(),
        Value::String(URL_SAFE.encode(message.as_bytes())),
    );
    Ok(args)
}

/// A header value on one line.
fn header_safe(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// Bare LF (and lone CR) to CRLF, the canonical line ending of text in a message.
fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', "\r\n")
}

/// RFC 2047 B-encoding for header text that is not ASCII. Each encoded word stays within the
/// 75-character limit (45 input bytes give 60 base64 characters plus 12 of framing) and never
/// splits a UTF-8 character, so each word decodes on its own.
fn encode_header_text(s: &str) -> String {
    if s.is_ascii() {
        return s.to_owned();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for ch in s.chars() {
        if chunk.len() + ch.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(ch);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(chunk.as_bytes())));
    }
    words.join("\r\n ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};
    use serde_json::json;
    use toolrouter_catalog::validate::KNOWN_TRANSFORMS;

    /// The decoded message with CRLF shown, and the arguments left next to `raw`.
    fn check_gmail(args: Value, expected: &Expect) {
        let Value::Object(args) = args else {
            panic!("arguments must be an object")
        };
        let out = apply("gmail_raw_message", args).expect("transform succeeds");
        let raw = out
            .get("raw")
            .and_then(Value::as_str)
            .expect("raw is produced");
        let message = String::from_utf8(URL_SAFE.decode(raw).expect("base64url")).expect("utf-8");
        let others: Vec<&str> = out
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "raw")
            .collect();
        expected.assert_eq(&format!(
            "{}\n-- other args: {others:?}",
            message.replace("\r\n", "⏎\n")
        ));
    }

    #[test]
    fn every_known_transform_is_implemented_and_produces_its_outputs() {
        for (name, outputs) in KNOWN_TRANSFORMS {
            let args = json!({"recipient_email": "a@example.com", "subject": "s", "body": "b"});
            let Value::Object(args) = args else {
                unreachable!("literal object")
            };
            let out = apply(name, args).unwrap_or_else(|e| panic!("{name}: {e}"));
            for o in *outputs {
                assert!(
                    out.contains_key(*o),
                    "transform `{name}` does not produce `{o}`"
                );
            }
        }
        assert!(matches!(
            apply("nope", Map::new()),
            Err(PlanError::UnknownTransform { .. })
        ));
    }

    #[test]
    fn plain_text_message_keeps_thread_id_for_placement() {
        check_gmail(
            json!({"recipient_email": "ann@example.com", "cc": ["bo@example.com", "cy@example.com"],
                   "subject": "Lunch", "body": "Noon?\nSee you", "thread_id": "18c2f", "is_html": false}),
            &expect![[r#"
                To: ann@example.com⏎
                Cc: bo@example.com, cy@example.com⏎
                Subject: Lunch⏎
                MIME-Version: 1.0⏎
                Content-Type: text/plain; charset="UTF-8"⏎
                Content-Transfer-Encoding: 7bit⏎
                ⏎
                Noon?⏎
                See you
                -- other args: ["thread_id"]"#]],
        );
    }

    #[test]
    fn non_ascii_subject_and_body_are_encoded_and_headers_cannot_be_injected() {
        check_gmail(
            json!({"recipient_email": "ann@example.com\r\nBcc: spy@example.com", "bcc": "boss@example.com",
                   "subject": "Réunion à 14 h — ordre du jour complet et très détaillé", "body": "<p>Voilà</p>",
                   "is_html": true}),
            &expect![[r#"
                To: ann@example.com  Bcc: spy@example.com⏎
                Bcc: boss@example.com⏎
                Subject: =?UTF-8?B?UsOpdW5pb24gw6AgMTQgaCDigJQgb3JkcmUgZHUgam91ciBjb21wbGV0IGV0?=⏎
                 =?UTF-8?B?IHRyw6hzIGTDqXRhaWxsw6k=?=⏎
                MIME-Version: 1.0⏎
                Content-Type: text/html; charset="UTF-8"⏎
                Content-Transfer-Encoding: base64⏎
                ⏎
                PHA+Vm9pbMOgPC9wPg==
                -- other args: []"#]],
        );
    }

    #[test]
    fn encoded_words_decode_back_to_the_subject() {
        let subject = "日本語のとても長い件名です。これは二つ以上の単語に分かれます";
        let encoded = encode_header_text(subject);
        let mut decoded = Vec::new();
        for word in encoded.split("\r\n ") {
            assert!(word.len() <= 75, "{word}");
            let inner = word
                .strip_prefix("=?UTF-8?B?")
                .and_then(|w| w.strip_suffix("?="))
                .expect("framed");
            decoded.extend(STANDARD.decode(inner).expect("base64"));
        }
        assert_eq!(String::from_utf8(decoded).expect("utf-8"), subject);
    }

    #[test]
    fn wrong_argument_types_are_named() {
        let Value::Object(args) = json!({"recipient_email": 5}) else {
            unreachable!("literal object")
        };
        let err = apply("gmail_raw_message", args).expect_err("bad type");
        expect!["transform gmail_raw_message: `recipient_email` must be an email address or a list of them"]
            .assert_eq(&err.to_string());
    }
}
