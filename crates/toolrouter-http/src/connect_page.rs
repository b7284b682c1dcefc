//! The hosted connect page's HTML: server-rendered, no JavaScript, every value escaped.
//!
//! Every page and redirect carries `Referrer-Policy: no-referrer` (its URL holds a link token,
//! or an authorization code and state, which must not reach a logo's host or the next site),
//! `Cache-Control: no-store`, and a Content-Security-Policy that allows no script and no
//! framing. Secret inputs are password fields with autocomplete off.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue, LOCATION};
use toolrouter_app::auth::connect::{ConnectError, ConnectForm, ConnectProblem};

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; \
                   base-uri 'none'; frame-ancestors 'none'";

/// Escapes text for HTML element content and double-quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn protect(res: &mut Response) {
    let h = res.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    h.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CSP),
    );
}

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;background:#f5f5f7;margin:0;padding:2rem}}\
         main{{max-width:28rem;margin:3rem auto;background:#fff;border-radius:12px;padding:2rem;\
         box-shadow:0 1px 4px rgba(0,0,0,.1)}}h1{{font-size:1.3rem}}label{{display:block;\
         margin-top:1rem;font-weight:600}}input{{width:100%;box-sizing:border-box;padding:.5rem;\
         margin-top:.3rem;font-size:1rem}}small{{color:#666}}button{{margin-top:1.5rem;\
         padding:.6rem 1.2rem;font-size:1rem}}img{{height:40px}}.err{{color:#a00}}\
         </style></head><body><main>{body}</main></body></html>\n",
        title = escape(title)
    )
}

fn html(status: StatusCode, page: String) -> Response {
    let mut res = Response::new(Body::from(page));
    *res.status_mut() = status;
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    protect(&mut res);
    res
}

/// A redirect (302 after a GET, 303 after the form's POST).
pub(crate) fn redirect(status: StatusCode, url: &str) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = status;
    match HeaderValue::from_str(url) {
        Ok(v) => {
            res.headers_mut().insert(LOCATION, v);
        }
        Err(_) => return failure_page(&unavailable()),
    }
    protect(&mut res);
    res
}

fn unavailable() -> ConnectError {
    ConnectError {
        problem: ConnectProblem::Unavailable,
        message: "Something went wrong on our side. Please try again in a moment.".to_owned(),
    }
}

/// The form asking for a scheme's fields; it posts back to the link's own URL.
pub(crate) fn form_page(form: &ConnectForm) -> Response {
    html(
        StatusCode::OK,
        layout(&format!("Connect {}", form.toolkit_name), &form_body(form)),
    )
}

fn form_body(form: &ConnectForm) -> String {
    let mut body = String::new();
    if !form.toolkit_logo.is_empty() && form.toolkit_logo.starts_with("https://") {
        body.push_str(&format!(
            "<img src=\"{}\" alt=\"\">",
            escape(&form.toolkit_logo)
        ));
    }
    body.push_str(&format!(
        "<h1>Connect {}</h1><form method=\"post\">",
        escape(&form.toolkit_name)
    ));
    for f in &form.fields {
        let kind = if f.secret { "password" } else { "text" };
        let required = if f.required { " required" } else { "" };
        body.push_str(&format!(
            "<label for=\"f_{name}\">{label}</label>\
             <input id=\"f_{name}\" name=\"{name}\" type=\"{kind}\" autocomplete=\"off\"{required}>",
            name = escape(&f.name),
            label = escape(&f.label),
        ));
        if !f.description.is_empty() {
            body.push_str(&format!("<small>{}</small>", escape(&f.description)));
        }
    }
    body.push_str("<button type=\"submit\">Connect</button></form>");
    body
}

/// The result page when the app gave no callback URL.
pub(crate) fn done_page(toolkit_name: &str, connected: bool, reason: Option<&str>) -> Response {
    let (title, text) = if connected {
        (
            format!("{toolkit_name} connected"),
            "Your account is connected. You can close this window.".to_owned(),
        )
    } else {
        (
            format!("{toolkit_name} not connected"),
            format!(
                "{toolkit_name} did not grant access{}. You can close this window and try again from the app.",
                reason.map(|r| format!(" ({r})")).unwrap_or_default()
            ),
        )
    };
    let class = if connected { "" } else { " class=\"err\"" };
    html(
        StatusCode::OK,
        layout(
            &title,
            &format!("<h1>{}</h1><p{class}>{}</p>", escape(&title), escape(&text)),
        ),
    )
}

/// Why the page cannot go on.
pub(crate) fn failure_page(err: &ConnectError) -> Response {
    let (status, title) = match err.problem {
        ConnectProblem::Invalid => (StatusCode::NOT_FOUND, "Link not valid"),
        ConnectProblem::Expired => (StatusCode::GONE, "Link expired"),
        ConnectProblem::AlreadyUsed => (StatusCode::CONFLICT, "Link already used"),
        ConnectProblem::BadInput => (StatusCode::BAD_REQUEST, "Some details are missing"),
        ConnectProblem::Refused => (StatusCode::BAD_REQUEST, "Access not granted"),
        ConnectProblem::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "Try again later"),
    };
    html(
        status,
        layout(
            title,
            &format!(
                "<h1>{}</h1><p class=\"err\">{}</p>",
                escape(title),
                escape(&err.message)
            ),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use toolrouter_app::auth::connect::FormField;

    #[test]
    fn everything_shown_is_escaped() {
        assert_eq!(
            escape(r#"<script>"a"&'b'</script>"#),
            "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;&lt;/script&gt;"
        );
        let form = ConnectForm {
            toolkit_name: "<b>Evil</b>".into(),
            toolkit_logo: "javascript:alert(1)".into(),
            scheme: "API_KEY".into(),
            fields: vec![FormField {
                name: "api_key".into(),
                label: "Key\"><script>".into(),
                description: String::new(),
                secret: true,
                required: true,
            }],
        };
        let body = form_body(&form);
        assert!(
            !body.contains("<script>") && !body.contains("<b>"),
            "{body}"
        );
        assert!(
            !body.contains("javascript:"),
            "only https logos are shown: {body}"
        );
        assert!(body.contains(r#"type="password""#), "{body}");
        let res = form_page(&form);
        assert_eq!(res.headers()["referrer-policy"], "no-referrer");
        assert!(
            res.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
    }
}
