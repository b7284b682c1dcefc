//! Text analysis shared by indexing and querying, so that both sides cut, filter and stem words
//! the same way: word splitting (punctuation, snake_case, kebab-case, camelCase, letter/digit
//! runs), stop words, English stemming, compound segmentation and the related-term table.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};

use super::fasthash::{FastMap, FastSet};

const STOP_WORDS: &str = include_str!("../../data/stopwords.txt");
const SYNONYMS: &str = include_str!("../../data/synonyms.txt");
const RELATED: &str = include_str!("../../data/related.txt");
const WORDS: &str = include_str!("../../data/words.txt");
const STEMS: &str = include_str!("../../data/stems.txt");
const WEAK: &str = include_str!("../../data/weak.txt");

/// Mixed letter/digit runs up to this length are also kept whole (`mp3`, `3d`, `h264`), because
/// their halves alone mean little.
const MAX_MIXED_LEN: usize = 8;
/// Shorter all-letter words are never segmented: short words are rarely compounds and
/// segmenting them mostly produces nonsense.
pub(crate) const MIN_COMPOUND_LEN: usize = 6;
/// Longer words are not segmented; the quadratic search would cost more than it could find.
const MAX_COMPOUND_LEN: usize = 40;
/// A segment longer than this is taken as one unknown piece rather than searched.
const MAX_PIECE_LEN: usize = 20;

/// A word cut out of a text, lower-cased, before stop-word filtering and stemming. Borrows
/// from the text when it is lower case already, as most words of prose are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawWord<'a> {
    pub(crate) text: Cow<'a, str>,
    /// All ASCII lowercase letters and long enough to be worth trying to segment.
    pub(crate) compound: bool,
}

/// Cuts `text` into lower-case words: at every character that is not a letter or digit, at
/// lower-to-upper case changes (`financeTool`), before the last capital of an acronym that
/// starts a capitalised word (`PDFExporter` → `pdf exporter`, but `PDFs` stays whole), and
/// between letters and digits (`AI2sql` → `ai 2 sql`, plus the whole `ai2sql`). Words of a
/// single character are dropped.
pub(crate) fn split_words<'a>(text: &'a str, out: &mut Vec<RawWord<'a>>) {
    split_impl(text, None, out);
}

/// [`split_words`] with `lower`, `text.to_ascii_lowercase()`, to take the words from: a
/// capitalised ASCII word then needs no allocation of its own (indexing splits a lot of text).
pub(crate) fn split_words_lowered<'a>(text: &'a str, lower: &'a str, out: &mut Vec<RawWord<'a>>) {
    debug_assert_eq!(text.len(), lower.len());
    split_impl(text, Some(lower), out);
}

fn split_impl<'a>(text: &'a str, lower: Option<&'a str>, out: &mut Vec<RawWord<'a>>) {
    let mut start = None;
    let run = |s: usize, e: usize, out: &mut Vec<RawWord<'a>>| {
        split_run(&text[s..e], lower.map(|l| &l[s..e]), out);
    };
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            run(s, i, out);
        }
    }
    if let Some(s) = start {
        run(s, text.len(), out);
    }
}

/// Character classes the boundary rules look at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Lower,
    Upper,
    Digit,
    /// Letters without case (CJK, ...) and other alphanumerics.
    Other,
}

fn class(c: char) -> Class {
    if c.is_lowercase() {
        Class::Lower
    } else if c.is_uppercase() {
        Class::Upper
    } else if c.is_numeric() {
        Class::Digit
    } else {
        Class::Other
    }
}

fn ascii_class(b: u8) -> Class {
    if b.is_ascii_lowercase() {
        Class::Lower
    } else if b.is_ascii_uppercase() {
        Class::Upper
    } else {
        Class::Digit
    }
}

/// Whether a word boundary falls before the character at `k`, given the classes around it.
fn is_boundary(prev: Class, cur: Class, next: Option<Class>, next2: Option<Class>) -> bool {
    let is_letter = |c: Class| c != Class::Digit;
    (prev == Class::Lower && cur == Class::Upper)
        || (prev == Class::Upper
            && cur == Class::Upper
            && next == Some(Class::Lower)
            && next2 == Some(Class::Lower))
        || (is_letter(prev) && cur == Class::Digit)
        || (prev == Class::Digit && is_letter(cur))
}

/// Splits one run of letters and digits. `run` is non-empty; `lower` is its ASCII-lowercased
/// copy, when there is one.
fn split_run<'a>(run: &'a str, lower: Option<&'a str>, out: &mut Vec<RawWord<'a>>) {
    let push = |s: usize, e: usize, out: &mut Vec<RawWord<'a>>| {
        push_word(&run[s..e], lower.map(|l| &l[s..e]), out);
    };
    if run.is_ascii() {
        // Byte indexing without allocating: this is most of the text indexed.
        let b = run.as_bytes();
        if b.iter().all(u8::is_ascii_lowercase) {
            push(0, b.len(), out);
            return;
        }
        let at = |k: usize| b.get(k).map(|&c| ascii_class(c));
        let letters = b.iter().any(u8::is_ascii_alphabetic);
        let digits = b.iter().any(u8::is_ascii_digit);
        if letters && digits && b.len() <= MAX_MIXED_LEN {
            push(0, b.len(), out);
        }
        let mut start = 0;
        for k in 1..b.len() {
            if is_boundary(
                ascii_class(b[k - 1]),
                ascii_class(b[k]),
                at(k + 1),
                at(k + 2),
            ) {
                push(start, k, out);
                start = k;
            }
        }
        push(start, b.len(), out);
        return;
    }
    let chars: Vec<(usize, Class)> = run.char_indices().map(|(i, c)| (i, class(c))).collect();
    let class_at = |k: usize| chars.get(k).map(|&(_, c)| c);
    let mut bounds = vec![0];
    let (mut letters, mut digits) = (false, false);
    for (k, &(i, cur)) in chars.iter().enumerate() {
        letters |= matches!(cur, Class::Lower | Class::Upper | Class::Other);
        digits |= cur == Class::Digit;
        let Some(prev) = k.checked_sub(1).and_then(class_at) else {
            continue;
        };
        if is_boundary(prev, cur, class_at(k + 1), class_at(k + 2)) {
            bounds.push(i);
        }
    }
    bounds.push(run.len());
    if letters && digits && chars.len() <= MAX_MIXED_LEN {
        push(0, run.len(), out);
    }
    for w in bounds.windows(2) {
        push(w[0], w[1], out);
    }
}

fn push_word<'a>(word: &'a str, lower: Option<&'a str>, out: &mut Vec<RawWord<'a>>) {
    let text = if word.is_ascii() {
        if word.len() < 2 {
            return;
        }
        match lower {
            Some(lower) => Cow::Borrowed(lower),
            None if word.bytes().any(|b| b.is_ascii_uppercase()) => {
                Cow::Owned(word.to_ascii_lowercase())
            }
            None => Cow::Borrowed(word),
        }
    } else {
        if word.chars().nth(1).is_none() {
            return;
        }
        if word.chars().any(char::is_uppercase) {
            Cow::Owned(word.to_lowercase())
        } else {
            Cow::Borrowed(word)
        }
    };
    let compound = text.len() >= MIN_COMPOUND_LEN
        && text.len() <= MAX_COMPOUND_LEN
        && text.bytes().all(|b| b.is_ascii_lowercase());
    out.push(RawWord { text, compound });
}

/// How strongly a piece of a compound is known to be a word; higher wins ties between
/// segmentations with the same number of pieces (`carpark`: `car park` over `carp ark` when only
/// the former is in the index).
pub(crate) type Known = u8;
pub(crate) const UNKNOWN: Known = 0;

/// One piece of a segmented compound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment<'a> {
    pub(crate) text: &'a str,
    pub(crate) known: bool,
}

/// Segments an ASCII lower-case `word` into known pieces with the fewest pieces, preferring
/// better-known ones. With `allow_unknown`, at most one piece may be unknown (`airqualityforeast`
/// → `air quality foreast`). Returns `None` unless at least two pieces are known: a single known
/// piece plus a remainder is too often a plain word the lexicon lacks (`inform` + `ation`).
pub(crate) fn segment<'a>(
    word: &'a str,
    known: &dyn Fn(&str) -> Known,
    allow_unknown: bool,
) -> Option<Vec<Segment<'a>>> {
    let n = word.len();
    if !word.is_ascii() || n < MIN_COMPOUND_LEN {
        return None;
    }
    // best[i][u]: cheapest way to cover word[..i] using u unknown pieces, with the start of the
    // last piece. Cost: 10 per known piece minus its strength, 10 plus 3 per byte per unknown.
    let max_unknown = usize::from(allow_unknown);
    let mut best: Vec<[Option<(u32, usize)>; 2]> = vec![[None, None]; n + 1];
    best[0][0] = Some((0, 0));
    for end in 1..=n {
        for start in end.saturating_sub(MAX_PIECE_LEN)..end {
            let piece = &word[start..end];
            let strength = known(piece);
            for u in 0..=max_unknown {
                let Some((base, _)) = best[start][u] else {
                    continue;
                };
                let (cost, nu) = if strength > UNKNOWN {
                    (base + 10 - u32::from(strength.min(9)), u)
                } else if u < max_unknown {
                    (base + 10 + 3 * piece.len() as u32, u + 1)
                } else {
                    continue;
                };
                let slot = &mut best[end][nu];
                if slot.is_none_or(|(c, _)| cost < c) {
                    *slot = Some((cost, start));
                }
            }
        }
    }
    let (_, u) = (0..=max_unknown)
        .filter_map(|u| best[n][u].map(|(c, _)| (c, u)))
        .min()?;
    let mut pieces = Vec::new();
    let (mut end, mut u) = (n, u);
    while end > 0 {
        let (_, start) = best[end][u]?;
        let text = &word[start..end];
        let is_known = known(text) > UNKNOWN;
        if !is_known {
            u -= 1;
        }
        pieces.push(Segment {
            text,
            known: is_known,
        });
        end = start;
    }
    pieces.reverse();
    let known_pieces = pieces.iter().filter(|p| p.known).count();
    (pieces.len() >= 2 && known_pieces >= 2).then_some(pieces)
}

/// Whether `word` or one of its likely base forms (`buddies` → `buddy`, `hauling` → `haul`,
/// `rolled` → `roll`) passes `is_word`. A cheap stand-in for stemming, which compound
/// segmentation would otherwise run on every substring it tries.
pub(crate) fn known_form(word: &str, is_word: impl Fn(&str) -> bool) -> bool {
    if is_word(word) {
        return true;
    }
    let n = word.len();
    if !(4..MAX_COMPOUND_LEN).contains(&n) || !word.is_ascii() {
        return false;
    }
    // `base` plus one letter, built on the stack: this runs for every substring segmentation
    // tries.
    let with = |base: &str, letter: u8| {
        let mut buf = [0u8; MAX_COMPOUND_LEN + 1];
        buf[..base.len()].copy_from_slice(base.as_bytes());
        buf[base.len()] = letter;
        std::str::from_utf8(&buf[..=base.len()]).is_ok_and(&is_word)
    };
    let strip = |suffix: &str| word.strip_suffix(suffix).filter(|b| b.len() >= 3);
    if let Some(base) = strip("ies") {
        return with(base, b'y');
    }
    if let Some(base) = strip("es")
        && is_word(base)
    {
        return true;
    }
    if let Some(base) = strip("s") {
        return !base.ends_with('s') && is_word(base);
    }
    for suffix in ["ing", "ed", "er"] {
        if let Some(base) = strip(suffix) {
            let undoubled = base.len() >= 4
                && base.as_bytes()[base.len() - 1] == base.as_bytes()[base.len() - 2];
            return is_word(base)
                || with(base, b'e')
                || (undoubled && is_word(&base[..base.len() - 1]));
        }
    }
    false
}

/// Which table a related-term group comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ConceptKind {
    /// Words that name the same thing (`email mail`).
    Synonym,
    /// Words about the same topic (`weather rain umbrella`).
    Related,
}

/// The built-in language data: stop words, a lexicon for compound segmentation and the
/// related-term groups, all stemmed once.
pub(crate) struct Lexicon {
    stemmer: Stemmer,
    stop: FastSet<&'static str>,
    /// Words whose Porter2 stem would merge them with an unrelated word.
    stem_overrides: FastMap<&'static str, &'static str>,
    /// Request words that say little about the tool wanted.
    weak: FastSet<&'static str>,
    /// Stems of every word the data files mention.
    words: FastSet<String>,
    /// The same words as written (lower case), for compound segmentation, which must not stem
    /// every substring it tries.
    surface: FastSet<String>,
    /// Two-letter words that may be a piece of a compound (`ai`, `tv`).
    short_words: FastSet<&'static str>,
    /// Stem → ids of every group it belongs to. Groups are numbered from 0 across both
    /// tables.
    concepts: FastMap<String, Vec<u32>>,
    /// Table of each group, by id.
    kinds: Vec<ConceptKind>,
}

impl fmt::Debug for Lexicon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lexicon")
            .field("stop", &self.stop.len())
            .field("words", &self.words.len())
            .field("concepts", &self.concepts.len())
            .finish()
    }
}

/// Lines of a data file: `#` starts a comment, blank lines are skipped.
fn data_lines(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
}

impl Lexicon {
    /// The process-wide lexicon, parsed on first use.
    pub(crate) fn get() -> &'static Lexicon {
        static LEXICON: OnceLock<Lexicon> = OnceLock::new();
        LEXICON.get_or_init(Lexicon::load)
    }

    fn load() -> Lexicon {
        let stemmer = Stemmer::create(Algorithm::English);
        let stop: FastSet<&'static str> = data_lines(STOP_WORDS)
            .flat_map(str::split_whitespace)
            .collect();
        let mut stem_overrides = FastMap::default();
        for line in data_lines(STEMS) {
            if let [word, stem] = line.split_whitespace().collect::<Vec<_>>()[..] {
                stem_overrides.insert(word, stem);
            }
        }
        let weak = data_lines(WEAK).flat_map(str::split_whitespace).collect();
        let mut lexicon = Lexicon {
            stemmer,
            stop,
            stem_overrides,
            weak,
            words: FastSet::default(),
            surface: FastSet::default(),
            short_words: FastSet::default(),
            concepts: FastMap::default(),
            kinds: Vec::new(),
        };
        for word in data_lines(WORDS).flat_map(str::split_whitespace) {
            lexicon.add_word(word);
        }
        for (kind, text) in [
            (ConceptKind::Synonym, SYNONYMS),
            (ConceptKind::Related, RELATED),
        ] {
            for line in data_lines(text) {
                let id = lexicon.kinds.len() as u32;
                lexicon.kinds.push(kind);
                let mut seen = FastSet::default();
                for word in line.split_whitespace() {
                    lexicon.add_word(word);
                    let lower = word.to_lowercase();
                    if lexicon.is_stop(&lower) {
                        continue;
                    }
                    let stem = lexicon.stem(&lower);
                    if seen.insert(stem.clone()) {
                        lexicon.concepts.entry(stem).or_default().push(id);
                    }
                }
            }
        }
        lexicon
    }

    fn add_word(&mut self, word: &'static str) {
        let lower = word.to_lowercase();
        if word.len() == 2 {
            self.short_words.insert(word);
        }
        let stem = self.stem(&lower);
        self.words.insert(stem);
        self.surface.insert(lower);
    }

    pub(crate) fn is_stop(&self, lower: &str) -> bool {
        self.stop.contains(lower)
    }

    /// Whether `lower` is a weak request word (see `data/weak.txt`).
    pub(crate) fn is_weak(&self, lower: &str) -> bool {
        self.weak.contains(lower)
    }

    pub(crate) fn stem(&self, lower: &str) -> String {
        if let Some(stem) = self.stem_overrides.get(lower) {
            return (*stem).to_owned();
        }
        self.stemmer.stem(lower).into_owned()
    }

    /// Whether the data files know `piece` (already lower case), or a base form of it, as a
    /// word.
    pub(crate) fn knows(&self, piece: &str) -> bool {
        if piece.len() < 3 {
            return self.short_words.contains(piece);
        }
        !self.is_stop(piece) && known_form(piece, |w| self.surface.contains(w))
    }

    /// Whether the data files know the stem `stem`.
    pub(crate) fn knows_stem(&self, stem: &str) -> bool {
        self.words.contains(stem)
    }

    /// Concept tokens of the groups the stem belongs to.
    pub(crate) fn concepts(&self, stem: &str) -> &[u32] {
        self.concepts.get(stem).map_or(&[], Vec::as_slice)
    }

    /// Number of groups; their ids are `0..concept_count()`.
    pub(crate) fn concept_count(&self) -> usize {
        self.kinds.len()
    }

    pub(crate) fn concept_kind(&self, id: u32) -> ConceptKind {
        self.kinds[id as usize]
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn check_split(text: &str, want: &Expect) {
        let mut out = Vec::new();
        split_words(text, &mut out);
        let got: Vec<String> = out
            .iter()
            .map(|w| {
                if w.compound {
                    format!("{}*", w.text)
                } else {
                    w.text.to_string()
                }
            })
            .collect();
        want.assert_eq(&got.join(" "));
    }

    #[test]
    fn splits_identifiers_and_punctuation() {
        check_split("GITHUB_CREATE_ISSUE", &expect!["github* create* issue"]);
        check_split("FinanceTool", &expect!["finance* tool"]);
        check_split("PDFExporter and PDFs", &expect!["pdf exporter* and pdfs"]);
        check_split("list-pull-requests", &expect!["list pull requests*"]);
        check_split("getUserById", &expect!["get user by id"]);
        check_split("AI2sql", &expect!["ai2sql ai sql"]);
        check_split("PDF&URLTool", &expect!["pdf url tool"]);
        check_split("today's e-mail, (2D/3D)", &expect!["today mail 2d 3d"]);
        check_split("airqualityforeast", &expect!["airqualityforeast*"]);
        check_split("Crème brûlée", &expect!["crème brûlée"]);
    }

    #[test]
    fn lowered_copy_splits_the_same() {
        for text in [
            "GITHUB_CREATE_ISSUE getUserById",
            "Crème BRÛLÉE àla PDFs",
            "AI2sql 3D x",
        ] {
            let lower = text.to_ascii_lowercase();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            split_words(text, &mut a);
            split_words_lowered(text, &lower, &mut b);
            assert_eq!(a, b, "{text}");
        }
    }

    #[test]
    fn stems_and_stops() {
        let lex = Lexicon::get();
        assert!(lex.is_stop("the"));
        assert!(lex.is_stop("please"));
        assert!(!lex.is_stop("weather"));
        assert_eq!(lex.stem("forecasts"), "forecast");
        assert_eq!(lex.stem("recipes"), lex.stem("recipe"));
    }

    fn show(pieces: Option<Vec<Segment<'_>>>) -> String {
        match pieces {
            None => "-".to_owned(),
            Some(p) => p
                .iter()
                .map(|s| {
                    if s.known {
                        s.text.to_owned()
                    } else {
                        format!("?{}", s.text)
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    #[test]
    fn segments_compounds() {
        let vocab = ["air", "quality", "car", "park", "carp", "ark", "theme"];
        let strong = ["car", "park"];
        let known = |p: &str| -> Known {
            if strong.contains(&p) {
                2
            } else {
                u8::from(vocab.contains(&p))
            }
        };
        let cases = [
            ("airqualityforeast", true),
            ("airqualityforeast", false),
            ("carpark", false),
            ("hdbcarpark", true),
            ("themepark", false),
            ("information", true),
        ];
        let got: Vec<String> = cases
            .iter()
            .map(|(w, unk)| format!("{w}: {}", show(segment(w, &known, *unk))))
            .collect();
        expect![[r#"
            airqualityforeast: air quality ?foreast
            airqualityforeast: -
            carpark: car park
            hdbcarpark: ?hdb car park
            themepark: theme park
            information: -"#]]
        .assert_eq(&got.join("\n"));
    }

    /// A group whose words all stem alike only doubles the weight of that word.
    #[test]
    fn every_group_relates_different_words() {
        let lex = Lexicon::get();
        let mut lonely = Vec::new();
        for text in [SYNONYMS, RELATED] {
            for line in data_lines(text) {
                let stems: FastSet<String> = line
                    .split_whitespace()
                    .map(str::to_lowercase)
                    .filter(|w| !lex.is_stop(w))
                    .map(|w| lex.stem(&w))
                    .collect();
                if stems.len() < 2 {
                    lonely.push(line);
                }
            }
        }
        assert!(lonely.is_empty(), "groups of one word: {lonely:?}");
    }

    #[test]
    fn lexicon_has_groups() {
        let lex = Lexicon::get();
        let mail = lex.concepts(&lex.stem("mail"));
        let email = lex.concepts(&lex.stem("email"));
        assert!(
            mail.iter().any(|m| email.contains(m)),
            "email and mail share a group"
        );
        assert!(lex.knows("quality"));
        assert!(lex.knows("qualities"));
        assert!(!lex.knows("qzx"));
        assert!(!lex.knows("the"));
    }

    #[test]
    fn base_forms() {
        let words = ["buddy", "haul", "roll", "theme", "park", "box", "ship"];
        let known = |w: &str| known_form(w, |x| words.contains(&x));
        for w in [
            "buddies", "hauling", "rolled", "roller", "themed", "parks", "boxes", "shipping",
        ] {
            assert!(known(w), "{w}");
        }
        for w in ["parkss", "bud", "haulx"] {
            assert!(!known(w), "{w}");
        }
    }
}
