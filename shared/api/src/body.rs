//! Request bodies and query strings in, JSON out. Every parse failure becomes a
//! 400 naming the field.

use desk_domain::{FieldError, PageRequest};
use http::StatusCode;
use lambda_http::{Body, Request};
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// Bodies larger than this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

fn backticked(msg: &str) -> Option<&str> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(&msg[start..start + len])
}

fn join(path: &str, leaf: &str) -> String {
    if path == leaf || path.ends_with(&format!(".{leaf}")) {
        path.to_string()
    } else if path.is_empty() || path == "." {
        leaf.to_string()
    } else {
        format!("{path}.{leaf}")
    }
}

/// Parses a JSON body into `T`, mapping errors to problems that name the field.
pub fn json<T: DeserializeOwned>(req: &Request) -> Result<T, Problem> {
    if let Some(ct) = req.headers().get(http::header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        if !ct.starts_with("application/json") && !ct.contains("+json") {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
    }
    let bytes: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body must be at most {MAX_BODY_BYTES} bytes"),
        ));
    }
    // Every body is an object; refusing anything else up front also stops serde
    // from accepting a struct written as an array.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "the body must be a JSON object",
        )
        .with_field("body"));
    }
    // Syntax first, so broken JSON is always `invalid_json` rather than whatever
    // field error the parser met before the break.
    let value: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the body is not valid JSON: {e}"),
            )
            .with_field("body"))
        }
    };
    // Strict: objects where structs are expected, at every depth.
    let parsed: Result<T, _> = serde_path_to_error::deserialize(crate::strict::Strict(&value));
    parsed.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = inner.to_string();
        if inner.is_syntax() || inner.is_eof() {
            return Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the body is not valid JSON: {msg}"),
            )
            .with_field("body");
        }
        // Strip serde's "at line 1 column 9" suffix: the field name says where.
        let clean = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        if clean.starts_with("missing field") {
            let leaf = backticked(&clean).unwrap_or("?");
            let field = join(&path, leaf);
            return Problem::new(
                StatusCode::BAD_REQUEST,
                "missing_field",
                format!("{field} is required"),
            )
            .with_field(field);
        }
        if clean.starts_with("unknown field") {
            let leaf = backticked(&clean).unwrap_or("?");
            let field = join(&path, leaf);
            return Problem::new(
                StatusCode::BAD_REQUEST,
                "unknown_field",
                format!("{field} is not a known field"),
            )
            .with_field(field);
        }
        let field = if path.is_empty() || path == "." {
            "body".to_string()
        } else {
            path
        };
        Problem::invalid_field(FieldError::new(field, clean))
    })
}

/// Decoded query-string pairs of the request.
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// `limit` (1-500, default 100) and `cursor` for timelines and notes.
pub fn page_request(req: &Request) -> Result<PageRequest, Problem> {
    let mut page = PageRequest {
        limit: 100,
        cursor: None,
    };
    for (k, v) in query_pairs(req) {
        match k.as_str() {
            "limit" => {
                page.limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| {
                        Problem::invalid_query(FieldError::new(
                            "limit",
                            "must be a whole number from 1 to 500",
                        ))
                    })?
            }
            "cursor" if !v.is_empty() && v.len() <= 2048 => page.cursor = Some(v),
            "cursor" => {
                return Err(Problem::invalid_query(FieldError::new(
                    "cursor",
                    "is not a cursor this API returned",
                )))
            }
            other => {
                return Err(Problem::invalid_query(FieldError::new(
                    other,
                    "is not a known query parameter",
                )))
            }
        }
    }
    Ok(page)
}

/// Refuses any query parameter on routes that take none.
pub fn no_query(req: &Request) -> Result<(), Problem> {
    match query_pairs(req).into_iter().next() {
        Some((k, _)) => Err(Problem::invalid_query(FieldError::new(
            k,
            "is not a known query parameter",
        ))),
        None => Ok(()),
    }
}

/// Whether the request has no body (or only white space).
pub fn is_empty(req: &Request) -> bool {
    match req.body() {
        Body::Empty => true,
        Body::Text(t) => t.trim().is_empty(),
        Body::Binary(b) => b.iter().all(u8::is_ascii_whitespace),
        _ => true,
    }
}
