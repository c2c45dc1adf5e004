//! Search words: how text and queries become comparable words. Unicode word
//! segmentation (UAX #29), case and diacritics folded (`Éclair` → `eclair`), and
//! English stems beside the words (`printers` → `printer`), so a query word
//! matches its inflections. The same rules build the stored text and the query.

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// Longest word kept (longer runs are ids or noise, cut to this).
const MAX_WORD: usize = 40;

/// Lowercase, compatibility-decomposed, without combining marks.
pub fn fold(word: &str) -> String {
    word.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .take(MAX_WORD)
        .collect()
}

/// The folded words of `text`, in order (repeats kept).
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.unicode_words().map(fold).filter(|w| !w.is_empty())
}

fn stemmer() -> Stemmer {
    Stemmer::create(Algorithm::English)
}

/// The stem of a folded word (the word itself when stemming leaves it).
pub fn stem(word: &str) -> String {
    stemmer().stem(word).into_owned()
}

/// The searchable form of `text`: each distinct word and each distinct stem,
/// space-separated with a space at both ends, so ` word ` tests a whole word and
/// ` pre` a word's beginning.
pub fn searchable(text: &str) -> String {
    let stemmer = stemmer();
    let mut seen: Vec<String> = Vec::new();
    for w in words(text) {
        let s = stemmer.stem(&w).into_owned();
        for t in [w, s] {
            if !seen.contains(&t) {
                seen.push(t);
            }
        }
    }
    let mut out = String::from(" ");
    for t in seen {
        out.push_str(&t);
        out.push(' ');
    }
    out
}

/// What one query word requires of a searchable text: any of these substrings.
/// Every word but the last must be a whole word (or have the same stem); the
/// last may also be the beginning of a word (search as you type).
pub fn needles(term: &str, last: bool) -> Vec<String> {
    let mut n = vec![format!(" {} ", stem(term))];
    if last {
        n.push(format!(" {term}"));
    } else if stem(term) != term {
        n.push(format!(" {term} "));
    }
    n
}

/// Whether `searchable` (made by [`searchable`]) holds every query word.
pub fn matches(searchable: &str, terms: &[String]) -> bool {
    terms.iter().enumerate().all(|(i, t)| {
        needles(t, i + 1 == terms.len())
            .iter()
            .any(|n| searchable.contains(n.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Vec<String> {
        words(s).collect()
    }

    #[test]
    fn folds_case_and_diacritics_and_splits_on_word_boundaries() {
        assert_eq!(
            q("Crème BRÛLÉE, naïve café—Ärger"),
            ["creme", "brulee", "naive", "cafe", "arger"]
        );
        assert_eq!(
            q("#1001 c1@example.com +49 30 1234"),
            ["1001", "c1", "example.com", "49", "30", "1234"]
        );
        assert_eq!(q("ﬁle"), ["file"]);
    }

    #[test]
    fn all_words_must_match_inflections_and_the_last_as_prefix() {
        let text = searchable("Printers keep jamming in the Zürich office");
        assert!(matches(&text, &q("printer")));
        assert!(matches(&text, &q("offices")), "same stem: offic");
        assert!(matches(&text, &q("zurich jam")));
        assert!(matches(&text, &q("jammed zur")), "last word as a prefix");
        assert!(matches(&text, &q("ZÜRICH")));
        assert!(
            !matches(&text, &q("zur jammed")),
            "only the last word is a prefix"
        );
        assert!(
            !matches(&text, &q("printer laptop")),
            "every word must match"
        );
        assert!(!matches(&text, &q("rich")), "a prefix starts a word");
    }

    #[test]
    fn searchable_text_holds_each_word_once() {
        assert_eq!(searchable("jam Jam jams"), " jam jams ");
    }
}
