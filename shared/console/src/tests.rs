//! The asset server over the fixture build in `tests/fixture-dist`.

use super::*;

include!(concat!(env!("OUT_DIR"), "/fixture.rs"));

fn console() -> Console {
    Console::new(
        &FIXTURE,
        ConsoleConfig {
            issuer: "https://issuer.example/pool".into(),
            client_id: "client-1".into(),
            scope: "openid profile email".into(),
            origin: None,
            auth_origins: vec!["https://login.example".into()],
            end_session_endpoint: None,
        },
    )
}

fn get(path: &str, headers: &[(&'static str, &str)]) -> Option<Response<Bytes>> {
    let mut h = HeaderMap::new();
    for (k, v) in headers {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    console().respond(&Method::GET, path, &h)
}

fn header<'a>(r: &'a Response<Bytes>, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

const JS: &str = "/assets/index-3f2a9c.js";

fn fixture_file(rel: &str) -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixture-dist/").to_string() + rel)
        .unwrap()
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(b: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    brotli::Decompressor::new(b, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn index_for_root_and_app_routes_is_not_cached() {
    let index = fixture_file("index.html");
    for path in [
        "/",
        "/app/tickets",
        "/app/auth/callback",
        "/app/tickets/1001/expert",
    ] {
        let r = get(path, &[]).unwrap_or_else(|| panic!("{path} is a console route"));
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(header(&r, "cache-control"), "no-cache", "{path}");
        assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
        assert_eq!(
            r.body().as_ref(),
            index.as_slice(),
            "{path}: identity without Accept-Encoding"
        );
    }
}

#[test]
fn hashed_assets_are_immutable_for_a_year() {
    let r = get(JS, &[]).unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&r, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(
        r.body().as_ref(),
        fixture_file("assets/index-3f2a9c.js").as_slice()
    );
    let css = get("/assets/index-1b2c3d.css", &[]).unwrap();
    assert_eq!(header(&css, "content-type"), "text/css; charset=utf-8");
}

#[test]
fn every_console_response_carries_the_security_headers() {
    let paths = [
        "/",
        "/app/x",
        JS,
        "/assets/missing-000000.js",
        "/config.json",
    ];
    for path in paths {
        let r = get(path, &[("accept-encoding", "br")]).unwrap();
        let csp = header(&r, "content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self';",
            "style-src 'self';",
            "img-src 'self' data: blob:",
            "connect-src 'self' https://issuer.example https://login.example;",
            "form-action 'self' https://issuer.example https://login.example;",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: {directive} missing from {csp}"
            );
        }
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&r, "referrer-policy"), "no-referrer", "{path}");
    }
}

#[test]
fn brotli_preferred_then_gzip_then_identity() {
    let original = fixture_file("assets/index-3f2a9c.js");
    let r = get(JS, &[("accept-encoding", "gzip, deflate, br, zstd")]).unwrap();
    assert_eq!(header(&r, "content-encoding"), "br");
    assert_eq!(header(&r, "vary"), "accept-encoding");
    assert!(
        r.body().len() < original.len() / 4,
        "brotli is small: {}",
        r.body().len()
    );
    assert_eq!(unbrotli(r.body()), original);

    let r = get(JS, &[("accept-encoding", "gzip")]).unwrap();
    assert_eq!(header(&r, "content-encoding"), "gzip");
    assert_eq!(gunzip(r.body()), original);

    let r = get(JS, &[("accept-encoding", "br;q=0, gzip;q=0.5")]).unwrap();
    assert_eq!(header(&r, "content-encoding"), "gzip", "br refused by q=0");

    let r = get(JS, &[("accept-encoding", "br;q=0.2, gzip;q=0.8")]).unwrap();
    assert_eq!(
        header(&r, "content-encoding"),
        "gzip",
        "the client ranks gzip higher"
    );

    let r = get(JS, &[("accept-encoding", "*")]).unwrap();
    assert_eq!(header(&r, "content-encoding"), "br");

    for accept in ["identity", "deflate", "gzip;q=0, br;q=0"] {
        let r = get(JS, &[("accept-encoding", accept)]).unwrap();
        assert_eq!(header(&r, "content-encoding"), "", "{accept}");
        assert_eq!(r.body().as_ref(), original.as_slice(), "{accept}");
    }
}

#[test]
fn compressed_formats_and_tiny_files_are_served_as_they_are() {
    // A PNG is never re-compressed; a 5-byte text would only grow.
    for (path, rel) in [
        ("/assets/logo-9e8d7c.png", "assets/logo-9e8d7c.png"),
        ("/assets/tiny-0a0b0c.txt", "assets/tiny-0a0b0c.txt"),
    ] {
        let r = get(path, &[("accept-encoding", "br, gzip")]).unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "content-encoding"), "", "{path}");
        assert_eq!(header(&r, "vary"), "", "{path}: one representation only");
        assert_eq!(r.body().as_ref(), fixture_file(rel).as_slice());
    }
    assert_eq!(
        header(
            &get("/assets/logo-9e8d7c.png", &[]).unwrap(),
            "content-type"
        ),
        "image/png"
    );
}

#[test]
fn unknown_assets_are_404_not_the_index() {
    for path in [
        "/assets/index-000000.js",
        "/assets/",
        "/assets/index.html",
        "/assets/sub/dir.js",
    ] {
        let r = get(path, &[("accept-encoding", "br")]).unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(header(&r, "content-type"), "application/problem+json");
        assert!(String::from_utf8_lossy(r.body()).contains("\"asset_not_found\""));
    }
}

#[test]
fn path_traversal_is_refused() {
    for path in [
        "/assets/../index.html",
        "/assets/../../../../etc/passwd",
        "/assets/./index-3f2a9c.js",
        "/assets//index-3f2a9c.js",
        "/assets/%2e%2e/index.html",
        "/assets/..%2findex.html",
        "/assets/..\\index.html",
        "/assets/index-3f2a9c.js/..",
    ] {
        let r = get(path, &[]).unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert!(
            !String::from_utf8_lossy(r.body()).contains("<html"),
            "{path}"
        );
    }
}

#[test]
fn other_paths_and_methods_belong_to_the_api() {
    for path in [
        "/tickets",
        "/me",
        "/app",
        "/index.html",
        "/config.json/x",
        "/dev-oidc/token",
    ] {
        assert!(get(path, &[]).is_none(), "{path}");
    }
    let h = HeaderMap::new();
    for m in [
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
    ] {
        assert!(console().respond(&m, "/", &h).is_none(), "{m}");
    }
}

#[test]
fn head_has_the_headers_and_no_body() {
    let r = console()
        .respond(&Method::HEAD, JS, &HeaderMap::new())
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.body().is_empty());
    let len = fixture_file("assets/index-3f2a9c.js").len();
    assert_eq!(header(&r, "content-length"), len.to_string());
    assert_eq!(
        header(&r, "cache-control"),
        "public, max-age=31536000, immutable"
    );
}

#[test]
fn etag_revalidation_per_representation() {
    let first = get("/", &[("accept-encoding", "br")]).unwrap();
    let etag = header(&first, "etag").to_string();
    assert!(etag.ends_with("-br\""), "{etag}");
    let again = get("/", &[("accept-encoding", "br"), ("if-none-match", &etag)]).unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.body().is_empty());
    assert_eq!(header(&again, "cache-control"), "no-cache");
    // The brotli tag does not validate the gzip representation.
    let other = get(
        "/",
        &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
    )
    .unwrap();
    assert_eq!(other.status(), 200);
}

#[test]
fn runtime_config_names_the_issuer_and_this_origin() {
    let r = get(
        "/config.json",
        &[
            ("host", "abc.execute-api.eu-west-1.amazonaws.com"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "cache-control"), "no-cache");
    assert_eq!(header(&r, "content-type"), "application/json");
    let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "issuer": "https://issuer.example/pool",
            "client_id": "client-1",
            "scope": "openid profile email",
            "redirect_uri": "https://abc.execute-api.eu-west-1.amazonaws.com/app/auth/callback",
            "post_logout_redirect_uri": "https://abc.execute-api.eu-west-1.amazonaws.com/",
            "api_base": "",
        })
    );
    // A fixed origin wins over the request's Host.
    let mut config = console().config().clone();
    config.origin = Some("http://127.0.0.1:3000".into());
    config.end_session_endpoint = Some("https://login.example/logout".into());
    let c = Console::new(&FIXTURE, config);
    let mut h = HeaderMap::new();
    h.insert(HOST, HeaderValue::from_static("evil.example"));
    let rc = c.runtime_config_for(&h);
    assert_eq!(rc.redirect_uri, "http://127.0.0.1:3000/app/auth/callback");
    assert_eq!(
        rc.end_session_endpoint.as_deref(),
        Some("https://login.example/logout")
    );
}

#[test]
fn origins_are_parsed_strictly() {
    assert_eq!(
        origin_of("https://Cognito-IDP.eu-west-1.amazonaws.com/eu-west-1_abc").as_deref(),
        Some("https://cognito-idp.eu-west-1.amazonaws.com")
    );
    assert_eq!(
        origin_of("http://127.0.0.1:3000/dev-oidc").as_deref(),
        Some("http://127.0.0.1:3000")
    );
    for bad in [
        "javascript:alert(1)",
        "https://",
        "ftp://x.example",
        "https://a b.example/",
        "https://x.example;script-src *",
    ] {
        assert_eq!(origin_of(bad), None, "{bad}");
    }
}

#[test]
fn the_fixture_table_is_complete_and_sorted() {
    assert!(FIXTURE.real);
    let paths: Vec<_> = FIXTURE.assets.iter().map(|a| a.path).collect();
    assert_eq!(
        paths,
        [
            "assets/index-1b2c3d.css",
            "assets/index-3f2a9c.js",
            "assets/logo-9e8d7c.png",
            "assets/tiny-0a0b0c.txt"
        ]
    );
}
