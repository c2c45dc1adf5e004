//! The web console as `desk-local serve` serves it, over real HTTP: the console's
//! routes and headers beside the API, and the whole sign-in with the development
//! OIDC issuer (authorization code + PKCE, refresh, logout) ending in `GET /me`.

use base64::Engine;
use desk_tests::Stack;
use reqwest::header::{HeaderMap, LOCATION};
use reqwest::StatusCode;
use serde_json::Value;

fn client() -> reqwest::Client {
    // Redirects are what the test inspects: never followed.
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn assert_console_headers(h: &HeaderMap, what: &str) {
    let csp = header(h, "content-security-policy");
    assert!(
        csp.starts_with("default-src 'none'; script-src 'self';"),
        "{what}: {csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe"), "{what}: {csp}");
    assert_eq!(header(h, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header(h, "referrer-policy"), "no-referrer", "{what}");
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The fields the sign-in page's form for `user` posts: its hidden inputs and its button.
fn form_for(html: &str, user: &str) -> Vec<(String, String)> {
    let form = html
        .split("<form")
        .find(|f| f.contains(&format!("name=\"user\" value=\"{user}\"")))
        .unwrap_or_else(|| panic!("no sign-in button for {user} in {html}"));
    let form = form.split("</form>").next().unwrap_or("");
    let mut fields = Vec::new();
    for tag in form
        .split('<')
        .filter(|t| t.starts_with("input") || t.starts_with("button"))
    {
        let attr = |name: &str| {
            tag.split(&format!("{name}=\""))
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .map(unescape)
        };
        if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
            fields.push((n, v));
        }
    }
    fields
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn pkce() -> (String, String) {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()));
    (verifier, challenge)
}

fn sha256(data: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(data).to_vec()
}

/// The sign-in page for an authorization request (PKCE `challenge`, state `state-&-1`).
async fn sign_in_page(
    http: &reqwest::Client,
    base: &str,
    redirect_uri: &str,
    challenge: &str,
) -> reqwest::Response {
    http.get(format!("{base}/dev-oidc/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", "desk-console"),
            ("redirect_uri", redirect_uri),
            ("scope", "openid profile email"),
            ("state", "state-&-1"),
            ("nonce", "nonce-1"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .expect("sign-in page")
}

/// Posts the sign-in form `fields`, as choosing a user on the page does.
async fn choose(
    http: &reqwest::Client,
    base: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    http.post(format!("{base}/dev-oidc/authorize"))
        .form(fields)
        .send()
        .await
        .expect("sign-in form")
}

/// `POST /dev-oidc/token` with an authorization code.
async fn redeem(
    http: &reqwest::Client,
    base: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> reqwest::Response {
    http.post(format!("{base}/dev-oidc/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", "desk-console"),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("token endpoint")
}

#[tokio::test]
async fn console_routes_beside_the_api() {
    let s = Stack::start().await;
    let http = client();
    for path in ["/", "/app/tickets?status=open", "/app/auth/callback"] {
        let r = http.get(format!("{}{path}", s.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(header(r.headers(), "cache-control"), "no-cache", "{path}");
        assert_eq!(
            header(r.headers(), "content-type"),
            "text/html; charset=utf-8",
            "{path}"
        );
        assert_console_headers(r.headers(), path);
        assert!(r.text().await.unwrap().contains("<html"), "{path}");
    }
    let r = http
        .get(format!("{}/assets/no-such-file-123.js", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_console_headers(r.headers(), "unknown asset");
    let r = http
        .get(format!("{}/assets/../../Cargo.toml", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "traversal refused");

    // config.json names the development issuer on this very origin.
    let r = http
        .get(format!("{}/config.json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(r.headers(), "cache-control"), "no-cache");
    assert_console_headers(r.headers(), "config.json");
    let config: Value = r.json().await.unwrap();
    assert_eq!(config["issuer"], format!("{}/dev-oidc", s.base));
    assert_eq!(config["client_id"], "desk-console");
    assert_eq!(config["scope"], "openid profile email");
    assert_eq!(
        config["redirect_uri"],
        format!("{}/app/auth/callback", s.base)
    );
    assert_eq!(config["post_logout_redirect_uri"], format!("{}/", s.base));
    assert_eq!(config["api_base"], "");

    // The API's paths are unchanged, and other methods on console paths are the API's.
    let me = s.get("/me", "alice").await;
    assert_eq!(me.status, StatusCode::OK);
    let r = s
        .call(reqwest::Method::POST, "/", Some("alice"), None)
        .await;
    desk_tests::assert_problem(&r, 404, "route_not_found", None);
    let r = s
        .call(reqwest::Method::GET, "/nope", Some("alice"), None)
        .await;
    desk_tests::assert_problem(&r, 404, "route_not_found", None);
}

#[tokio::test]
async fn sign_in_with_the_development_issuer_then_call_the_api() {
    let s = Stack::start().await;
    let http = client();
    let config: Value = http
        .get(format!("{}/config.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issuer = config["issuer"].as_str().unwrap().to_string();
    let redirect_uri = config["redirect_uri"].as_str().unwrap().to_string();

    // Discovery, as oidc-client-ts reads it.
    let d: Value = http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["issuer"], issuer);
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let jwks: Value = http
        .get(d["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks, serde_json::json!({"keys": []}));

    // The endpoints the helpers below call are the ones discovery names.
    for (key, path) in [
        ("authorization_endpoint", "authorize"),
        ("token_endpoint", "token"),
        ("end_session_endpoint", "logout"),
    ] {
        assert_eq!(d[key], format!("{issuer}/{path}"), "{key}");
    }

    // The sign-in page lists the desk's users with name, id and role, and runs no script.
    let (verifier, challenge) = pkce();
    let r = sign_in_page(&http, &s.base, &redirect_uri, &challenge).await;
    assert_eq!(r.status(), StatusCode::OK);
    let csp = header(r.headers(), "content-security-policy").to_string();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    let html = r.text().await.unwrap();
    assert!(!html.to_lowercase().contains("<script"), "{html}");
    for (id, role) in [("admin", "admin"), ("alice", "agent"), ("bob", "agent")] {
        assert!(
            html.contains(&format!("name=\"user\" value=\"{id}\"")),
            "{id} listed: {html}"
        );
        assert!(
            html.contains(&format!(
                "<span class=\"id\">({id})</span> — <span class=\"role\">{role}</span>"
            )),
            "{id} as {role}: {html}"
        );
    }

    // Choosing alice posts the form; the issuer redirects back with a code and the state.
    let r = choose(&http, &s.base, &form_for(&html, "alice")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = header(r.headers(), LOCATION.as_str()).to_string();
    assert!(
        location.starts_with(&format!("{redirect_uri}?")),
        "{location}"
    );
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some("state-&-1")
    );
    let code = query_param(&location, "code").expect("code");

    // The token endpoint checks PKCE and hands out the tokens.
    let r = redeem(&http, &s.base, &code, &redirect_uri, &verifier).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(r.headers(), "cache-control"), "no-store");
    let tokens: Value = r.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);

    // The access token is what the API accepts.
    let me = |token: String| http.get(format!("{}/me", s.base)).bearer_auth(token).send();
    let r = me(tokens["access_token"].as_str().unwrap().into())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["user"]["id"], "alice", "{body}");
    assert_eq!(body["role"], "agent", "{body}");

    // The code was single-use.
    let r = redeem(&http, &s.base, &code, &redirect_uri, &verifier).await;
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["error"], "invalid_grant");

    // Renewal: the refresh token rotates.
    let refresh = |token: String| {
        http.post(format!("{}/dev-oidc/token", s.base))
            .form(&[
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", token),
                ("client_id", "desk-console".to_string()),
            ])
            .send()
    };
    let first_refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let r = refresh(first_refresh.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let renewed: Value = r.json().await.unwrap();
    let r = me(renewed["access_token"].as_str().unwrap().into())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = refresh(first_refresh).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "a rotated refresh token is spent"
    );

    // Sign-out ends the session at the issuer and returns to the console.
    let r = http
        .get(d["end_session_endpoint"].as_str().unwrap())
        .query(&[
            ("id_token_hint", renewed["id_token"].as_str().unwrap()),
            (
                "post_logout_redirect_uri",
                config["post_logout_redirect_uri"].as_str().unwrap(),
            ),
            ("client_id", "desk-console"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(r.headers(), "location"), format!("{}/", s.base));
    let r = refresh(renewed["refresh_token"].as_str().unwrap().into())
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "signed out: {body}");
}

#[tokio::test]
async fn the_issuer_refuses_foreign_redirects_wrong_verifiers_and_unknown_users() {
    let s = Stack::start().await;
    let http = client();
    let (verifier, challenge) = pkce();
    // A redirect URI off the desk's origin: an error page, never a redirect.
    let r = sign_in_page(
        &http,
        &s.base,
        "https://evil.example/app/auth/callback",
        &challenge,
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get(LOCATION).is_none());

    let redirect_uri = format!("{}/app/auth/callback", s.base);
    let r = sign_in_page(&http, &s.base, &redirect_uri, &challenge).await;
    let html = r.text().await.unwrap();
    let mut fields = form_for(&html, "bob");
    // A user who is not in the directory cannot be chosen by editing the form.
    for f in fields.iter_mut().filter(|(k, _)| k == "user") {
        f.1 = "mallory".into();
    }
    let r = choose(&http, &s.base, &fields).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get(LOCATION).is_none());

    let r = choose(&http, &s.base, &form_for(&html, "bob")).await;
    let code = query_param(header(r.headers(), "location"), "code").expect("code");
    let r = redeem(
        &http,
        &s.base,
        &code,
        &redirect_uri,
        &format!("{verifier}x"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
    // JSON bodies are not what the token endpoint speaks.
    let r = http
        .post(format!("{}/dev-oidc/token", s.base))
        .json(&serde_json::json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
