//! HTML bodies as shown to agents: no scripts, no event handlers, no
//! `javascript:` links, and no remote content (tracking pixels) by default —
//! only images embedded in the mail itself (`cid:`) keep their source.
//!
//! Ingest stores the HTML as received ([`ParsedMail::html_source`]); whoever shows
//! a message to a person passes it through [`clean_html`] first. Sanitising at
//! read time keeps ingest fast (this is most of the cost of reading a mail) and
//! lets the display policy change (e.g. an agent choosing to load remote images)
//! without re-ingesting.
//!
//! [`ParsedMail::html_source`]: crate::ParsedMail::html_source

use std::collections::HashSet;
use std::sync::OnceLock;

/// Built once: the cleaner's configuration is the same for every mail.
fn cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let schemes: HashSet<&str> = ["http", "https", "mailto", "cid", "tel"]
            .into_iter()
            .collect();
        let mut b = ammonia::Builder::default();
        b.url_schemes(schemes)
            .link_rel(Some("noopener noreferrer nofollow"))
            .attribute_filter(|element, attribute, value| {
                let remote = element == "img"
                    && attribute == "src"
                    && !value.trim_start().to_ascii_lowercase().starts_with("cid:");
                if remote {
                    None
                } else {
                    Some(value.into())
                }
            });
        b
    })
}

/// The HTML body as agents may see it: sanitised (ammonia, plus dropping remote
/// image sources). Call it on every HTML body before serving it.
pub fn clean_html(html: &str) -> String {
    cleaner().clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_scripts_handlers_javascript_and_remote_images() {
        let dirty = r#"<p onclick="steal()">Hi<script>alert(1)</script></p>
            <a href="javascript:alert(1)">x</a><a href="https://example.com/help">help</a>
            <img src="https://tracker.example/p.gif" width="1" height="1"><img src="cid:logo@x" alt="logo">
            <style>body{background:url(https://tracker.example/bg)}</style><iframe src="https://evil.example"></iframe>"#;
        let clean = clean_html(dirty);
        for gone in [
            "script",
            "onclick",
            "javascript:",
            "tracker.example",
            "iframe",
            "<style",
        ] {
            assert!(!clean.contains(gone), "{gone} survived: {clean}");
        }
        assert!(clean.contains(r#"src="cid:logo@x""#), "{clean}");
        assert!(clean.contains("https://example.com/help"));
        assert!(clean.contains("noopener"));
    }
}
