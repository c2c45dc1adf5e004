//! The full-text index: which words each part of a ticket contributes (its own
//! fields, each note, each email in and out without quoted history and
//! signature), how a part's change moves its postings, and which postings a
//! query reads. Words and stems come from [`crate::words`], as for the query.

use std::collections::{BTreeMap, BTreeSet};

use super::Record;
use crate::message::MailMessage;
use crate::note::Note;
use crate::ticket::Ticket;
use crate::types::TicketNumber;
use crate::words;

/// The ticket's own fields as an index part.
pub const TICKET_PART: &str = "t";
/// The last query word matches as a prefix from this many characters on (shorter
/// ones match whole words and stems only: a one-letter prefix would read every word).
pub const MIN_PREFIX: usize = 2;
/// Words a prefix expands to at most (the alphabetically first).
pub const MAX_PREFIX_WORDS: usize = 50;

pub fn note_part(id: &str) -> String {
    format!("n:{id}")
}

pub fn message_part(id: &str) -> String {
    format!("m:{id}")
}

/// Words too common to tell tickets apart: not indexed (about a third of the
/// distinct words of a typical mail, and as much of the index's write cost), and
/// left out of a query that has other words.
pub const STOP_WORDS: [&str; 48] = [
    "a", "about", "all", "am", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can",
    "do", "for", "from", "had", "has", "have", "hi", "i", "if", "in", "is", "it", "its", "me",
    "my", "no", "not", "of", "on", "or", "our", "so", "that", "the", "their", "this", "to", "us",
    "was", "we", "were", "will", "with", "you",
];

pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// The index terms of `text`: the distinct stems of its words (a stem's postings
/// hold every inflection), stop words left out.
pub fn terms(text: &str) -> BTreeSet<String> {
    word_stems(text).into_values().collect()
}

/// The distinct words of `text` with their stems, stop words left out: the word
/// list prefix search reads ("jammi" finds "jamming", whose stem is "jam").
pub fn word_stems(text: &str) -> BTreeMap<String, String> {
    words::words(text)
        .filter(|w| !is_stop_word(w))
        .map(|w| {
            let stem = words::stem(&w);
            (w, stem)
        })
        .collect()
}

fn ticket_text(t: &Ticket) -> String {
    t.search_source()
}

fn note_text(n: &Note) -> String {
    n.body.clone()
}

/// An email's words: subject, sender and what its author wrote (quoted history
/// and signature left out, so a thread's words count once, where they were written).
fn message_text(m: &MailMessage) -> String {
    format!(
        "{}\n{} {}\n{}",
        m.subject,
        m.from_name,
        m.from,
        fresh_text(&m.text)
    )
}

pub fn ticket_terms(t: &Ticket) -> BTreeSet<String> {
    terms(&ticket_text(t))
}

/// What one part's change does to its postings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingChange {
    pub ticket: TicketNumber,
    pub part: String,
    /// Stems the part gained, and lost.
    pub add: Vec<String>,
    pub remove: Vec<String>,
    /// The part's words and their stems now (for the word list).
    pub words: Vec<(String, String)>,
    /// Fingerprints of the part's stems before and after ([`fingerprint`]): the
    /// store applies the change only where the part stands at `before`, so a
    /// redelivered change finds it at `after` and does nothing.
    pub before: String,
    pub after: String,
}

/// A stable fingerprint of a set of stems (FNV-1a, 64 bits; empty set: "").
pub fn fingerprint(stems: &BTreeSet<String>) -> String {
    if stems.is_empty() {
        return String::new();
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for s in stems {
        for b in s.bytes().chain(std::iter::once(b'\n')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

impl PostingChange {
    fn between(ticket: TicketNumber, part: String, old: &str, new: &str) -> Option<Self> {
        let (old, new) = (terms(old), word_stems(new));
        let new_terms: BTreeSet<String> = new.values().cloned().collect();
        let add: Vec<String> = new_terms.difference(&old).cloned().collect();
        let remove: Vec<String> = old.difference(&new_terms).cloned().collect();
        (!add.is_empty() || !remove.is_empty()).then(|| Self {
            ticket,
            part,
            add,
            remove,
            words: new.into_iter().collect(),
            before: fingerprint(&old),
            after: fingerprint(&new_terms),
        })
    }
}

impl Record {
    /// The postings this change adds and removes (`None`: its words did not change).
    pub fn posting_change(&self) -> Option<PostingChange> {
        /// One part's change: its ticket and id from whichever image exists.
        fn part<T>(
            old: Option<&T>,
            new: Option<&T>,
            ticket: fn(&T) -> TicketNumber,
            id: fn(&T) -> String,
            text: fn(&T) -> String,
        ) -> Option<PostingChange> {
            let any = new.or(old)?;
            PostingChange::between(
                ticket(any),
                id(any),
                &old.map(text).unwrap_or_default(),
                &new.map(text).unwrap_or_default(),
            )
        }
        match self {
            Record::Ticket { old, new } => part(
                old.as_deref(),
                new.as_deref(),
                |t| t.number,
                |_| TICKET_PART.into(),
                ticket_text,
            ),
            Record::Note { old, new } => part(
                old.as_ref(),
                new.as_ref(),
                |n| n.ticket,
                |n| note_part(&n.id),
                note_text,
            ),
            Record::Message { old, new } => part(
                old.as_deref(),
                new.as_deref(),
                |m| m.ticket,
                |m| message_part(&m.id),
                message_text,
            ),
        }
    }
}

/// What one query word matches: a ticket with a posting of any of `words`, or
/// of any indexed word beginning with `prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermGroup {
    pub words: Vec<String>,
    pub prefix: Option<String>,
}

/// The posting groups of a query; a ticket matches when it is in every group.
/// Every word matches its stem (the index holds each word's stem beside it, so
/// the stem's postings hold every inflection); the last also as a prefix.
pub fn query_groups(terms: &[String]) -> Vec<TermGroup> {
    // Stop words are not indexed: left out, unless the query has nothing else.
    let kept: Vec<String> = terms.iter().filter(|t| !is_stop_word(t)).cloned().collect();
    let terms = if kept.is_empty() { terms } else { &kept[..] };
    terms
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let last = i + 1 == terms.len();
            TermGroup {
                words: vec![words::stem(t)],
                prefix: (last && t.chars().count() >= MIN_PREFIX).then(|| t.clone()),
            }
        })
        .collect()
}

/// The partition of the word list that holds `word` and every word it begins:
/// its first [`MIN_PREFIX`] characters.
pub fn dictionary_shard(word: &str) -> String {
    word.chars().take(MIN_PREFIX).collect()
}

/// The part of a plain-text mail body its author wrote: quoted lines (`>`) left
/// out, and everything from a signature separator (`-- `) or a reply header
/// ("On … wrote:", "-----Original Message-----", an Outlook `From:`/`Sent:`
/// block, and their German and French forms) on.
pub fn fresh_text(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        let next = lines.get(i + 1).map_or("", |l| l.trim());
        if line.trim_end() == "--" || is_reply_header(t, next) {
            break;
        }
        if t.starts_with('>') {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn is_reply_header(line: &str, next: &str) -> bool {
    let wrote = |l: &str| {
        l.ends_with("wrote:")
            || l.ends_with("schrieb:")
            || l.ends_with("a écrit :")
            || l.ends_with("a écrit:")
    };
    let opens = |l: &str| l.starts_with("On ") || l.starts_with("Am ") || l.starts_with("Le ");
    let attribution = opens(line) && (wrote(line) || wrote(next));
    let separator = line.len() > 10 && line.starts_with("-----") && line.ends_with("-----");
    let outlook =
        (line.starts_with("From:") || line.starts_with("Von:") || line.starts_with("De :"))
            && ["Sent:", "Date:", "Gesendet:", "Envoyé :"]
                .iter()
                .any(|h| next.starts_with(h));
    attribution || separator || outlook
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_text_leaves_out_quotes_reply_headers_and_signatures() {
        let text = "Still broken after the update.\n\
                    Thanks\n\
                    -- \n\
                    Jo Bloggs, Acme printers\n";
        assert_eq!(fresh_text(text), "Still broken after the update.\nThanks\n");
        let text = "Works now.\n\nOn Mon, 1 Dec 2026 at 10:00, Desk <support@desk.example> wrote:\n> Please restart the spooler.\n";
        assert_eq!(fresh_text(text), "Works now.\n\n");
        let text = "Works now.\nOn Mon, 1 Dec 2026 at 10:00, Desk\n<support@desk.example> wrote:\n> quoted\n";
        assert_eq!(fresh_text(text), "Works now.\n");
        let text = "Top answer\n\nFrom: Desk <support@desk.example>\nSent: Monday\nSubject: old\n\nold text";
        assert_eq!(fresh_text(text), "Top answer\n\n");
        let text = "Danke\n-----Ursprüngliche Nachricht-----\nalt";
        assert_eq!(fresh_text(text), "Danke\n");
        let text = "> cited first\nmy answer below\n> more\nand more";
        assert_eq!(fresh_text(text), "my answer below\nand more\n");
        let text = "On call all week, nothing wrote itself.\nBye";
        assert_eq!(fresh_text(text), text.to_string() + "\n", "not a header");
    }

    #[test]
    fn stop_words_are_sorted_for_lookup_and_left_out_of_terms() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            terms("The printer is jamming and we are stuck"),
            BTreeSet::from(["jam".into(), "printer".into(), "stuck".into()])
        );
    }

    #[test]
    fn a_part_moves_only_the_words_that_changed() {
        let mut note = Note {
            id: "01".into(),
            ticket: TicketNumber::new(7).unwrap(),
            author: "alice".into(),
            body: "Printer jammed".into(),
            created_at: chrono::Utc::now(),
        };
        let added = Record::Note {
            old: None,
            new: Some(note.clone()),
        }
        .posting_change()
        .unwrap();
        assert_eq!(added.part, "n:01");
        assert_eq!(added.add, ["jam", "printer"]);
        assert_eq!(
            added.words,
            [
                ("jammed".into(), "jam".into()),
                ("printer".into(), "printer".into())
            ]
        );
        assert!(added.remove.is_empty());
        let old = note.clone();
        note.body = "printer fixed".into();
        let edited = Record::Note {
            old: Some(old),
            new: Some(note.clone()),
        }
        .posting_change()
        .unwrap();
        assert_eq!(edited.add, ["fix"]);
        assert_eq!(edited.remove, ["jam"]);
        let same = Record::Note {
            old: Some(note.clone()),
            new: Some(note.clone()),
        };
        assert_eq!(same.posting_change(), None);
        assert_ne!(edited.before, edited.after);
        assert_eq!(
            added.after, edited.before,
            "the part's stems, as the first change left them"
        );
        let deleted = Record::Note {
            old: Some(note),
            new: None,
        }
        .posting_change()
        .unwrap();
        assert_eq!(deleted.remove, ["fix", "printer"]);
        assert_eq!(deleted.after, "", "nothing left");
    }

    #[test]
    fn query_words_read_their_stems_and_the_last_also_a_prefix() {
        let g = query_groups(&["printers".into(), "jam".into()]);
        assert_eq!(g[0].words, ["printer"]);
        assert_eq!(g[0].prefix, None);
        assert_eq!(g[1].words, ["jam"]);
        assert_eq!(g[1].prefix.as_deref(), Some("jam"));
        assert_eq!(query_groups(&["j".into()])[0].prefix, None);
        let g = query_groups(&["the".into(), "printer".into()]);
        assert_eq!(g.len(), 1, "stop words left out");
        assert_eq!(
            query_groups(&["the".into()])[0].words,
            ["the"],
            "unless alone"
        );
        assert_eq!(dictionary_shard("jammed"), "ja");
        assert_eq!(dictionary_shard("é"), "é");
    }
}
