//! How a reply looks in the customer's mail program: the agent writes Markdown
//! (plain text is Markdown too), the mail carries that text as its text part and
//! the rendered, sanitised HTML beside it; the agent's signature and the desk's
//! follow, and the answered message is quoted below.

use std::collections::HashSet;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use pulldown_cmark::{html, Event, Options, Parser};

/// Most lines of the answered message quoted below a reply.
pub const QUOTE_LINES: usize = 200;

/// The sanitiser for rendered replies: links to the web and mail only, and
/// links that cannot reach back (`noopener`).
fn cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let schemes: HashSet<&str> = ["http", "https", "mailto", "tel"].into_iter().collect();
        let mut b = ammonia::Builder::default();
        b.url_schemes(schemes).link_rel(Some("noopener noreferrer"));
        b
    })
}

/// The HTML of Markdown `text`: CommonMark with tables and strikethrough. A line
/// break in the source stays a line break (agents who write plain text see their
/// lines kept); raw HTML in the source is shown as text, never passed through;
/// the result is sanitised all the same.
pub fn markdown_html(text: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let events = Parser::new_ext(text, options).map(|event| match event {
        Event::SoftBreak => Event::HardBreak,
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut out = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut out, events);
    cleaner().clean(&out).to_string()
}

/// Escapes text for HTML element content.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// The message a reply answers, quoted below it.
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a> {
    pub from: &'a str,
    pub at: DateTime<Utc>,
    pub text: &'a str,
}

impl Quoted<'_> {
    fn attribution(&self) -> String {
        format!(
            "On {}, {} wrote:",
            self.at.format("%a, %-d %b %Y at %H:%M UTC"),
            self.from
        )
    }

    /// The quoted lines, at most [`QUOTE_LINES`], trailing blank lines dropped.
    fn lines(&self) -> Vec<&str> {
        let mut lines: Vec<&str> = self.text.lines().take(QUOTE_LINES).collect();
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
        lines
    }
}

/// The mail an agent forwards, in full below their text (as mail programs
/// forward inline).
#[derive(Debug, Clone, Copy)]
pub struct Forwarded<'a> {
    pub from: &'a str,
    pub at: DateTime<Utc>,
    pub subject: &'a str,
    pub to: &'a [String],
    pub text: &'a str,
}

impl Forwarded<'_> {
    /// The header block mail programs put above a forwarded message.
    fn header(&self) -> Vec<String> {
        vec![
            "---------- Forwarded message ----------".to_string(),
            format!("From: {}", self.from),
            format!("Date: {}", self.at.format("%a, %-d %b %Y at %H:%M UTC")),
            format!("Subject: {}", self.subject),
            format!("To: {}", self.to.join(", ")),
        ]
    }
}

/// What follows the signatures: the answered message quoted, or a forwarded one.
#[derive(Debug, Clone, Copy)]
pub enum Below<'a> {
    Quote(Quoted<'a>),
    Forward(Forwarded<'a>),
}

/// A reply as mailed: both parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub text: String,
    pub html: String,
}

/// The reply `body` (Markdown), then each non-empty signature after the usual
/// `-- ` separator, then what goes `below` (a quote or a forwarded mail).
pub fn compose(body: &str, signatures: &[&str], below: Option<Below<'_>>) -> Composed {
    let signatures: Vec<&str> = signatures
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    let mut text = body.trim_end().to_string();
    let mut html = format!("<div>{}</div>", markdown_html(body));
    if !signatures.is_empty() {
        // "-- " (with the space) is the separator mail programs recognise.
        text.push_str("\n\n-- \n");
        text.push_str(&signatures.join("\n\n"));
        html.push_str("<br><div>-- <br>");
        for s in &signatures {
            html.push_str(&markdown_html(s));
        }
        html.push_str("</div>");
    }
    if let Some(Below::Forward(f)) = below {
        let header = f.header();
        text.push_str("\n\n");
        text.push_str(&header.join("\n"));
        text.push_str("\n\n");
        text.push_str(f.text.trim_end());
        html.push_str(&format!(
            "<br><div>{}</div><br><div>{}</div>",
            header
                .iter()
                .map(|l| escape(l))
                .collect::<Vec<_>>()
                .join("<br>"),
            f.text
                .trim_end()
                .lines()
                .map(escape)
                .collect::<Vec<_>>()
                .join("<br>")
        ));
    }
    if let Some(Below::Quote(q)) = below {
        let lines = q.lines();
        if !lines.is_empty() {
            text.push_str("\n\n");
            text.push_str(&q.attribution());
            for line in &lines {
                text.push('\n');
                text.push('>');
                if !line.is_empty() {
                    text.push(' ');
                    text.push_str(line);
                }
            }
            html.push_str(&format!(
                "<br><div>{}</div><blockquote>{}</blockquote>",
                escape(&q.attribution()),
                lines
                    .iter()
                    .map(|l| escape(l))
                    .collect::<Vec<_>>()
                    .join("<br>")
            ));
        }
    }
    text.push('\n');
    Composed {
        text,
        html: cleaner().clean(&html).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_emphasis_lists_links_and_keeps_line_breaks() {
        let html = markdown_html(
            "Hello **Ann**,\nplease try:\n\n1. unplug\n2. [the guide](https://x.example/g)\n",
        );
        assert!(html.contains("<strong>Ann</strong>,<br>"), "{html}");
        assert!(html.contains("<ol>"), "{html}");
        assert!(html.contains("<li>unplug</li>"), "{html}");
        assert!(
            html.contains(
                r#"<a href="https://x.example/g" rel="noopener noreferrer">the guide</a>"#
            ),
            "{html}"
        );
    }

    #[test]
    fn raw_html_and_script_links_never_pass() {
        let html = markdown_html(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "shown as text: {html}");
    }

    #[test]
    fn a_composed_reply_has_signatures_after_the_separator_and_the_quote_last() {
        let at = "2026-12-01T09:30:00Z".parse().unwrap();
        let c = compose(
            "Please *restart* it.",
            &["Alice Agent", "", "Example Support"],
            Some(Below::Quote(Quoted {
                from: "Ann <ann@example.org>",
                at,
                text: "My printer jams.\n\nSince Monday.\n\n",
            })),
        );
        assert_eq!(
            c.text,
            "Please *restart* it.\n\n-- \nAlice Agent\n\nExample Support\n\n\
             On Tue, 1 Dec 2026 at 09:30 UTC, Ann <ann@example.org> wrote:\n\
             > My printer jams.\n>\n> Since Monday.\n"
        );
        assert!(c.html.contains("<em>restart</em>"), "{}", c.html);
        assert!(
            c.html
                .contains("-- <br><p>Alice Agent</p>\n<p>Example Support</p>"),
            "{}",
            c.html
        );
        assert!(
            c.html
                .contains("<blockquote>My printer jams.<br><br>Since Monday.</blockquote>"),
            "{}",
            c.html
        );
        assert!(
            c.html.contains("Ann &lt;ann@example.org&gt; wrote:"),
            "{}",
            c.html
        );
    }

    #[test]
    fn without_signatures_or_quote_the_text_is_the_body() {
        let c = compose("Done.", &[" "], None);
        assert_eq!(c.text, "Done.\n");
        assert_eq!(c.html, "<div><p>Done.</p>\n</div>");
    }

    #[test]
    fn a_forwarded_mail_follows_whole_under_its_header_block() {
        let at = "2026-12-01T09:30:00Z".parse().unwrap();
        let to = ["support@desk.example".to_string()];
        let long: String = (0..300).map(|i| format!("line {i}\n")).collect();
        let c = compose(
            "Can you check <this>?",
            &["Alice Agent"],
            Some(Below::Forward(Forwarded {
                from: "Ann <ann@example.org>",
                at,
                subject: "Printer jams",
                to: &to,
                text: &long,
            })),
        );
        assert!(
            c.text.starts_with(
                "Can you check <this>?\n\n-- \nAlice Agent\n\n\
                 ---------- Forwarded message ----------\n\
                 From: Ann <ann@example.org>\n\
                 Date: Tue, 1 Dec 2026 at 09:30 UTC\n\
                 Subject: Printer jams\n\
                 To: support@desk.example\n\nline 0\nline 1\n"
            ),
            "{}",
            c.text
        );
        assert!(c.text.ends_with("line 299\n"), "not cut like a quote");
        assert!(!c.text.contains("> line"), "not quoted");
        assert!(
            c.html.contains("From: Ann &lt;ann@example.org&gt;<br>"),
            "{}",
            c.html
        );
        assert!(c.html.contains("line 0<br>line 1<br>"), "{}", c.html);
    }

    #[test]
    fn the_quote_is_bounded() {
        let long: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        let at = Utc::now();
        let c = compose(
            "x",
            &[],
            Some(Below::Quote(Quoted {
                from: "a",
                at,
                text: &long,
            })),
        );
        assert_eq!(
            c.text.lines().filter(|l| l.starts_with("> line")).count(),
            QUOTE_LINES
        );
    }
}
