//! The in-process tool search index: BM25F-style ranking over slugs, names, descriptions,
//! toolkits, tags and parameter names, with English stemming, identifier and compound splitting
//! and a hand-written table of related terms.
//!
//! # Use
//!
//! ```
//! use toolrouter_catalog::search::{SearchDoc, SearchIndex};
//!
//! let doc = |slug: &str, description: &str| SearchDoc {
//!     slug: slug.to_owned(),
//!     name: slug.to_owned(),
//!     description: description.to_owned(),
//!     ..SearchDoc::default()
//! };
//! let mut index = SearchIndex::build([
//!     doc("MAIL_SEND_EMAIL", "Send an email message to a recipient."),
//!     doc("WEATHER_FORECAST", "Daily weather forecast for a city."),
//! ]);
//! let hits = index.search("will it rain tomorrow in Paris?", 5, &|_| true);
//! assert_eq!(hits[0].slug, "WEATHER_FORECAST");
//! index.remove("WEATHER_FORECAST");
//! assert!(index.search("forecast", 5, &|_| true).is_empty());
//! ```
//!
//! * [`SearchDoc`] is what is indexed about a tool; [`SearchDoc::from_tool`] derives it from a
//!   definition (parameter names and descriptions come from the input schema's `properties`,
//!   tags from the tool's free tags and the toolkit's categories).
//! * [`SearchIndex::build`] indexes documents once; [`SearchIndex::upsert`] and
//!   [`SearchIndex::remove`] keep it current. Collection statistics (document frequencies, mean
//!   field lengths) are maintained as counters, so an index updated incrementally ranks exactly
//!   like one built fresh from the same documents. Nothing is rebuilt per query or per session.
//! * [`SearchIndex::search`] takes the query, a limit and an `allow` predicate over slugs, so
//!   each session sees only the tools it may use. Hits are ordered by score, ties by slug.
//! * [`SearchConfig`] holds the ranking knobs; [`SearchIndex::with_config`] builds with other
//!   ones (the benchmark uses it for ablations).
//!
//! The index is plain data (`Send + Sync`); the server shares it behind an `Arc<RwLock<_>>`.
//!
//! # Ranking
//!
//! *Text.* Words are cut at punctuation, snake/kebab case, camelCase and letter/digit changes,
//! stop words dropped, the rest stemmed (Porter2, with a few overrides in `data/stems.txt` where
//! it merges unrelated words: `marketing`/`market`, `listing`/`list`). All-letter words the
//! lexicon does not know are segmented: in names and identifiers at index time, against the
//! lexicon and the tool's own words (`airqualityforeast` → `air quality foreast`), the pieces
//! going to a field of their own; in queries, against the index vocabulary (`carpark` → `car
//! park`).
//!
//! *Related terms.* Each word in a group of `data/synonyms.txt` or `data/related.txt` also
//! yields that group's concept token, indexed in the same field without counting towards its
//! length. A query word scores the better of its own match and its groups' matches (weighted
//! down, and shared out when the word is in several groups), so `rain` finds a weather tool
//! while a tool that says `rain` itself still ranks first, and a word in the tables never counts
//! twice. The tables are general English written by hand, not mined from any query set.
//!
//! *Query words.* Request words that say little about the tool (`data/weak.txt`: `show`,
//! `latest`, `find`, ...) count little, are not expanded, and only reorder tools the other words
//! found. A word the index lacks matches indexed words one edit away (typos either side).
//!
//! *Scores* are BM25F: per term, field frequencies are length-normalised per field, weighted
//! and summed before one saturation, then multiplied by the term's IDF and query weight. The
//! saturated frequencies depend on collection statistics, so they are recomputed in one pass on
//! the first query after a change (a few milliseconds at 10,000 tools) and read from there.

mod analysis;
mod fasthash;

use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::sync::OnceLock;

use serde_json::Value;

use crate::model::{MCP_HINT_TAGS, ToolDef, ToolkitDef};
use analysis::{
    ConceptKind, Known, Lexicon, RawWord, known_form, segment, split_words, split_words_lowered,
};
use fasthash::{FastHasher, FastMap, FastSet};

/// Number of indexed fields.
pub const FIELD_COUNT: usize = 8;

/// The indexed fields, in the order of [`SearchConfig::field_weights`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Slug = 0,
    Name = 1,
    Description = 2,
    /// Toolkit slug and name.
    Toolkit = 3,
    Tags = 4,
    /// Input parameter names.
    Params = 5,
    /// Input parameter descriptions.
    ParamDescriptions = 6,
    /// Pieces of run-together words of the other fields (`airqualityforecast` → `air quality
    /// forecast`). Apart from their source field because a brand name's pieces (`buildbetter`)
    /// say less about the tool than its own words.
    Parts = 7,
}

/// What the index knows about one tool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchDoc {
    /// The tool's unique slug; hits name it.
    pub slug: String,
    pub name: String,
    pub description: String,
    pub toolkit_slug: String,
    pub toolkit_name: String,
    /// Free tags (MCP hint tags carry no topic and are left out by [`SearchDoc::from_tool`]).
    pub tags: Vec<String>,
    /// Input parameters: (name, description).
    pub params: Vec<(String, String)>,
}

impl SearchDoc {
    /// The searchable text of a tool of `toolkit`.
    pub fn from_tool(toolkit: &ToolkitDef, tool: &ToolDef) -> SearchDoc {
        let tags = tool
            .tags
            .iter()
            .filter(|t| !MCP_HINT_TAGS.contains(&t.as_str()))
            .chain(&toolkit.categories)
            .cloned()
            .collect();
        // Built once per tool at index time: a fresh tree, not kept with the tool.
        let input = tool.input.parse();
        let params = match input.get("properties") {
            Some(Value::Object(props)) => props
                .iter()
                .map(|(name, schema)| {
                    let description = schema
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    (name.clone(), description.to_owned())
                })
                .collect(),
            _ => Vec::new(),
        };
        SearchDoc {
            slug: tool.slug.clone(),
            name: tool.name.clone(),
            description: tool.description.clone(),
            toolkit_slug: toolkit.slug.clone(),
            toolkit_name: toolkit.name.clone(),
            tags,
            params,
        }
    }

    /// The text of each field, in [`Field`] order.
    fn field_texts(&self) -> [Vec<&str>; FIELD_COUNT] {
        [
            vec![self.slug.as_str()],
            vec![self.name.as_str()],
            vec![self.description.as_str()],
            vec![self.toolkit_slug.as_str(), self.toolkit_name.as_str()],
            self.tags.iter().map(String::as_str).collect(),
            self.params.iter().map(|(n, _)| n.as_str()).collect(),
            self.params.iter().map(|(_, d)| d.as_str()).collect(),
            Vec::new(),
        ]
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub slug: String,
    pub score: f32,
}

/// Ranking parameters. Fixed when the index is built, because some of them (compound splitting,
/// whether concept tokens are indexed) shape what is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchConfig {
    /// BM25F weight of each field, in [`Field`] order.
    pub field_weights: [f32; FIELD_COUNT],
    /// Length normalisation of each field (BM25's `b`).
    pub field_b: [f32; FIELD_COUNT],
    /// Term-frequency saturation (BM25's `k1`).
    pub k1: f32,
    /// Query weight of a synonym-group concept token (0 turns the synonym table off).
    pub synonym_weight: f32,
    /// Query weight of a related-topic concept token (0 turns the related table off).
    pub related_weight: f32,
    /// Segment unknown all-letter words into known pieces.
    pub split_compounds: bool,
    /// Query weight of a weak request word (`show`, `latest`, ...; see `data/weak.txt`).
    pub weak_weight: f32,
    /// Query weight of an indexed word one edit away from a query word the index lacks
    /// (0 turns typo tolerance off).
    pub fuzzy_weight: f32,
}

impl Default for SearchConfig {
    fn default() -> SearchConfig {
        SearchConfig {
            //              slug name desc toolkit tags params param-desc parts
            field_weights: [1.0, 2.0, 1.0, 0.8, 0.8, 0.6, 0.3, 1.0],
            field_b: [0.3, 0.3, 0.3, 0.3, 0.3, 0.5, 0.5, 0.3],
            k1: 2.0,
            synonym_weight: 0.6,
            related_weight: 0.6,
            split_compounds: true,
            weak_weight: 0.3,
            fuzzy_weight: 0.5,
        }
    }
}

impl SearchConfig {
    /// Plain BM25F: fields and stemming, no related terms, no compound splitting, no weak
    /// words, no typo tolerance.
    pub fn plain() -> SearchConfig {
        SearchConfig {
            synonym_weight: 0.0,
            related_weight: 0.0,
            split_compounds: false,
            weak_weight: 1.0,
            fuzzy_weight: 0.0,
            ..SearchConfig::default()
        }
    }
}

/// Index of a posting list: ids `0..concept_count` are the related-term groups, the ids after
/// them the words of the vocabulary.
type TermId = u32;
type DocId = u32;

/// One word of a query and the terms that match it.
#[derive(Debug, Default)]
struct QueryWord {
    /// The word itself (or its near spellings).
    exact: Vec<(TermId, f32)>,
    /// Groups of the related-term tables it belongs to.
    expanded: Vec<(TermId, f32)>,
    /// A weak request word: it only reorders tools other words found.
    weak: bool,
}

/// Frequencies of one term in one document, per field.
#[derive(Debug, Clone, Copy)]
struct Posting {
    doc: DocId,
    tf: [u16; FIELD_COUNT],
}

#[derive(Debug, Clone)]
struct DocSlot {
    slug: String,
    /// Every term the document has a posting for, to undo them on removal.
    terms: Vec<TermId>,
    /// Its distinct words as written (ids in `surface`), to undo their counts on removal.
    surface: Vec<u32>,
}

/// A string ↔ id table whose ids are reused once released.
#[derive(Debug, Default)]
struct Vocab {
    ids: FastMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    free: Vec<u32>,
}

impl Vocab {
    fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let name: Box<str> = s.into();
        let id = match self.free.pop() {
            Some(id) => {
                self.names[id as usize] = name.clone();
                id
            }
            None => {
                self.names.push(name.clone());
                (self.names.len() - 1) as u32
            }
        };
        self.ids.insert(name, id);
        id
    }

    /// Frees an id; returns its string.
    fn release(&mut self, id: u32) -> Box<str> {
        let name = std::mem::take(&mut self.names[id as usize]);
        self.ids.remove(&name);
        self.free.push(id);
        name
    }

    fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    /// Ids handed out so far, released or not.
    fn capacity(&self) -> usize {
        self.names.len()
    }
}

/// An incrementally maintained BM25F index over tools. See the module docs.
pub struct SearchIndex {
    config: SearchConfig,
    lexicon: &'static Lexicon,
    /// Stemmed words; word `i` has term id `concept_count + i`.
    words: Vocab,
    /// Postings by term id, sorted by document id.
    postings: Vec<Vec<Posting>>,
    docs: Vec<Option<DocSlot>>,
    /// Field lengths by document id.
    field_len: Vec<[u32; FIELD_COUNT]>,
    free_docs: Vec<DocId>,
    by_slug: FastMap<String, DocId>,
    field_len_sum: [u64; FIELD_COUNT],
    /// Words as written, the vocabulary query words are segmented against, and how many
    /// documents hold each.
    surface: Vocab,
    surface_refs: Vec<u32>,
    /// One-deletion variants of the longer words → the words (ids in `words`): typo tolerance.
    /// Keyed by a hash of the variant (a collision only adds a candidate that the edit check
    /// then drops), which keeps indexing a new word free of allocations.
    deletions: FastMap<u64, Vec<u32>>,
    /// What queries read, derived from the above on the first query after a change, so that a
    /// burst of updates costs one pass.
    cache: OnceLock<QueryCache>,
}

impl fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchIndex")
            .field("docs", &self.len())
            .field("words", &self.words.len())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for SearchIndex {
    fn default() -> SearchIndex {
        SearchIndex::new(SearchConfig::default())
    }
}

/// What indexing remembers about a word as written, shared by the documents of one build.
#[derive(Debug, Clone, Copy)]
struct WordInfo {
    stop: bool,
    stem: TermId,
    surface: u32,
    concepts: &'static [u32],
    /// Shaped like a compound and unknown to the lexicon: worth segmenting.
    candidate: bool,
}

/// Per-word work carried across the documents of one build. Holds ids, so it is dropped
/// whenever a removal may have released some.
#[derive(Debug, Default)]
struct WordMemo {
    words: FastMap<String, WordInfo>,
    /// Compound segmentation against the lexicon alone.
    segments: FastMap<String, Option<Vec<String>>>,
    /// Scratch space of `analyze_doc`, all `u32::MAX` between documents.
    slots: Vec<u32>,
}

impl WordMemo {
    fn clear(&mut self) {
        self.words.clear();
        self.segments.clear();
    }
}

/// What indexing needs to know about one document.
struct Analyzed {
    counts: Vec<(TermId, [u16; FIELD_COUNT])>,
    field_len: [u32; FIELD_COUNT],
    surface: Vec<u32>,
}

impl SearchIndex {
    /// An empty index.
    pub fn new(config: SearchConfig) -> SearchIndex {
        let lexicon = Lexicon::get();
        SearchIndex {
            config,
            lexicon,
            words: Vocab::default(),
            postings: vec![Vec::new(); lexicon.concept_count()],
            docs: Vec::new(),
            field_len: Vec::new(),
            free_docs: Vec::new(),
            by_slug: FastMap::default(),
            field_len_sum: [0; FIELD_COUNT],
            surface: Vocab::default(),
            surface_refs: Vec::new(),
            deletions: FastMap::default(),
            cache: OnceLock::new(),
        }
    }

    /// Indexes `docs` with the default configuration. A later document with the slug of an
    /// earlier one replaces it.
    pub fn build(docs: impl IntoIterator<Item = SearchDoc>) -> SearchIndex {
        SearchIndex::with_config(SearchConfig::default(), docs)
    }

    /// Indexes `docs` with `config`.
    pub fn with_config(
        config: SearchConfig,
        docs: impl IntoIterator<Item = SearchDoc>,
    ) -> SearchIndex {
        let mut index = SearchIndex::new(config);
        let mut memo = WordMemo::default();
        for doc in docs {
            index.upsert_with(&doc, &mut memo);
        }
        index.cache();
        index
    }

    pub fn config(&self) -> &SearchConfig {
        &self.config
    }

    /// Number of indexed tools.
    pub fn len(&self) -> usize {
        self.by_slug.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_slug.is_empty()
    }

    pub fn contains(&self, slug: &str) -> bool {
        self.by_slug.contains_key(slug)
    }

    /// Adds a tool, or replaces the tool with the same slug.
    pub fn upsert(&mut self, doc: &SearchDoc) {
        self.upsert_with(doc, &mut WordMemo::default());
    }

    /// Removes a tool; returns whether it was there.
    pub fn remove(&mut self, slug: &str) -> bool {
        let Some(id) = self.by_slug.remove(slug) else {
            return false;
        };
        self.cache.take();
        let Some(slot) = self.docs[id as usize].take() else {
            return false;
        };
        let concepts = self.lexicon.concept_count() as TermId;
        for &term in &slot.terms {
            let list = &mut self.postings[term as usize];
            if let Ok(pos) = list.binary_search_by_key(&id, |p| p.doc) {
                list.remove(pos);
            }
            if list.is_empty() {
                *list = Vec::new();
                if term >= concepts {
                    let word = self.words.release(term - concepts);
                    self.remove_deletions(&word, term - concepts);
                }
            }
        }
        for &word in &slot.surface {
            let refs = &mut self.surface_refs[word as usize];
            *refs -= 1;
            if *refs == 0 {
                self.surface.release(word);
            }
        }
        let len = std::mem::take(&mut self.field_len[id as usize]);
        for (sum, len) in self.field_len_sum.iter_mut().zip(len) {
            *sum -= u64::from(len);
        }
        self.free_docs.push(id);
        true
    }

    fn upsert_with(&mut self, doc: &SearchDoc, memo: &mut WordMemo) {
        if self.remove(&doc.slug) {
            memo.clear();
        }
        self.cache.take();
        let Analyzed {
            counts,
            field_len,
            surface,
        } = self.analyze_doc(doc, memo);
        let id = match self.free_docs.pop() {
            Some(id) => id,
            None => {
                self.docs.push(None);
                self.field_len.push([0; FIELD_COUNT]);
                (self.docs.len() - 1) as DocId
            }
        };
        let mut terms = Vec::with_capacity(counts.len());
        for (term, tf) in counts {
            let list = &mut self.postings[term as usize];
            // Fresh ids are the largest, so a build only ever appends.
            if list.last().is_none_or(|p| p.doc < id) {
                list.push(Posting { doc: id, tf });
            } else {
                let pos = list.partition_point(|p| p.doc < id);
                list.insert(pos, Posting { doc: id, tf });
            }
            terms.push(term);
        }
        for &word in &surface {
            self.surface_refs[word as usize] += 1;
        }
        for (sum, len) in self.field_len_sum.iter_mut().zip(field_len) {
            *sum += u64::from(len);
        }
        self.field_len[id as usize] = field_len;
        self.docs[id as usize] = Some(DocSlot {
            slug: doc.slug.clone(),
            terms,
            surface,
        });
        self.by_slug.insert(doc.slug.clone(), id);
    }

    /// The analysis of a word as written, interning its stem and surface form.
    fn word_info(&mut self, word: &str, compound: bool, memo: &mut WordMemo) -> WordInfo {
        if let Some(info) = memo.words.get(word) {
            return *info;
        }
        let lex = self.lexicon;
        let info = if lex.is_stop(word) {
            WordInfo {
                stop: true,
                stem: 0,
                surface: 0,
                concepts: &[],
                candidate: false,
            }
        } else {
            let stem = lex.stem(word);
            let concepts = lex.concepts(&stem);
            let candidate = compound
                && self.config.split_compounds
                && concepts.is_empty()
                && !lex.knows_stem(&stem);
            let is_new = self.words.get(&stem).is_none();
            let id = self.words.intern(&stem);
            if is_new && self.config.fuzzy_weight > 0.0 {
                self.add_deletions(&stem, id);
            }
            let stem = lex.concept_count() as TermId + id;
            if self.postings.len() <= stem as usize {
                self.postings.resize_with(stem as usize + 1, Vec::new);
            }
            let surface = self.surface.intern(word);
            if self.surface_refs.len() < self.surface.capacity() {
                self.surface_refs.resize(self.surface.capacity(), 0);
            }
            WordInfo {
                stop: false,
                stem,
                surface,
                concepts,
                candidate,
            }
        };
        memo.words.insert(word.to_owned(), info);
        info
    }

    /// Pieces of a compound of a document: against the lexicon alone (the same for every
    /// document, so memoised), else with the document's own other words as well.
    fn segment_doc_word(
        &self,
        word: &str,
        own_words: &[&str],
        memo: &mut WordMemo,
    ) -> Option<Vec<String>> {
        let lex = self.lexicon;
        let known_to_lexicon = |p: &str| -> Known { Known::from(lex.knows(p)) };
        let general = match memo.segments.get(word) {
            Some(pieces) => pieces.clone(),
            None => {
                let pieces = segment(word, &known_to_lexicon, true)
                    .map(|ps| ps.iter().map(|p| p.text.to_owned()).collect::<Vec<_>>());
                memo.segments.insert(word.to_owned(), pieces.clone());
                pieces
            }
        };
        // The document's words help only if one of them is inside the compound.
        let inside = |w: &&&str| w.len() >= 3 && **w != word && word.contains(**w);
        if general.is_some() || !own_words.iter().any(|w| inside(&w)) {
            return general;
        }
        let own: FastSet<&str> = own_words.iter().copied().filter(|w| *w != word).collect();
        let known = |p: &str| -> Known {
            if p.len() >= 3 && !lex.is_stop(p) && known_form(p, |x| own.contains(x)) {
                2
            } else {
                Known::from(lex.knows(p))
            }
        };
        segment(word, &known, true).map(|ps| ps.iter().map(|p| p.text.to_owned()).collect())
    }

    /// Terms, field lengths and vocabulary of a document, interning what is new. Compounds are
    /// segmented against the lexicon and the document's own other words only, so that the
    /// result never depends on the rest of the index.
    fn analyze_doc(&mut self, doc: &SearchDoc, memo: &mut WordMemo) -> Analyzed {
        let texts = doc.field_texts();
        let lowered: Vec<Vec<String>> = texts
            .iter()
            .map(|ts| ts.iter().map(|t| t.to_ascii_lowercase()).collect())
            .collect();
        let mut fields: Vec<Vec<RawWord<'_>>> = Vec::with_capacity(FIELD_COUNT);
        for (texts, lowered) in texts.iter().zip(&lowered) {
            let mut words = Vec::with_capacity(texts.iter().map(|t| t.len() / 4).sum());
            for (t, lower) in texts.iter().zip(lowered) {
                split_words_lowered(t, lower, &mut words);
            }
            fields.push(words);
        }
        let n_words: usize = fields.iter().map(Vec::len).sum();
        let mut out = Analyzed {
            counts: Vec::with_capacity(n_words * 2),
            field_len: [0; FIELD_COUNT],
            surface: Vec::with_capacity(n_words),
        };
        // Term id → its place in `counts`, for this document only (reset below).
        let mut slot_of = std::mem::take(&mut memo.slots);
        let mut bump =
            |term: TermId, field: usize, counts: &mut Vec<(TermId, [u16; FIELD_COUNT])>| {
                let t = term as usize;
                if slot_of.len() <= t {
                    slot_of.resize(t + 1, u32::MAX);
                }
                if slot_of[t] == u32::MAX {
                    slot_of[t] = counts.len() as u32;
                    counts.push((term, [0; FIELD_COUNT]));
                }
                let tf = &mut counts[slot_of[t] as usize].1[field];
                *tf = tf.saturating_add(1);
            };
        let use_concepts = self.config.synonym_weight > 0.0 || self.config.related_weight > 0.0;
        let mut own_words: Option<Vec<&str>> = None;
        for (f, words) in fields.iter().enumerate() {
            // Run-together words are names and identifiers; prose is left alone.
            let segmentable =
                f != Field::Description as usize && f != Field::ParamDescriptions as usize;
            // Only a tool's own slug and name are worth segmenting against its other words;
            // toolkit names and parameters repeat across tools and would redo the same work.
            let use_own = f == Field::Slug as usize || f == Field::Name as usize;
            for w in words {
                let info = self.word_info(&w.text, w.compound, memo);
                if info.stop {
                    continue;
                }
                out.surface.push(info.surface);
                let mut pieces = Vec::new();
                if info.candidate && segmentable {
                    let own: &[&str] = if use_own {
                        own_words.get_or_insert_with(|| {
                            fields.iter().flatten().map(|w| &*w.text).collect()
                        })
                    } else {
                        &[]
                    };
                    pieces = self
                        .segment_doc_word(&w.text, own, memo)
                        .unwrap_or_default();
                }
                for p in &pieces {
                    let piece = self.word_info(p, false, memo);
                    if piece.stop {
                        continue;
                    }
                    let parts = Field::Parts as usize;
                    out.surface.push(piece.surface);
                    out.field_len[parts] += 1;
                    bump(piece.stem, parts, &mut out.counts);
                    if use_concepts {
                        for &c in piece.concepts {
                            bump(c, parts, &mut out.counts);
                        }
                    }
                }
                out.field_len[f] += 1;
                bump(info.stem, f, &mut out.counts);
                if use_concepts {
                    for &c in info.concepts {
                        bump(c, f, &mut out.counts);
                    }
                }
            }
        }
        for &(term, _) in &out.counts {
            slot_of[term as usize] = u32::MAX;
        }
        memo.slots = slot_of;
        out.surface.sort_unstable();
        out.surface.dedup();
        out
    }

    /// The query's words, each with the terms that match it, in query order (so that scores
    /// add up in the same order however the index was built).
    fn query_words(&self, query: &str) -> Vec<QueryWord> {
        let lex = self.lexicon;
        let cfg = &self.config;
        let concepts = lex.concept_count() as TermId;
        let mut words = Vec::new();
        split_words(query, &mut words);
        let mut out: Vec<QueryWord> = Vec::new();
        let present = |term: TermId| !self.postings[term as usize].is_empty();
        let word_terms = |stem: &str, weight: f32, expand: bool| -> QueryWord {
            let mut q = QueryWord::default();
            match self.words.get(stem) {
                Some(id) => q.exact.push((concepts + id, weight)),
                // A word the lexicon knows is not a typo.
                None if cfg.fuzzy_weight > 0.0 => {
                    for id in self.fuzzy_matches(stem) {
                        q.exact.push((concepts + id, weight * cfg.fuzzy_weight));
                    }
                }
                None => {}
            }
            if expand {
                // A word in several groups of a table spreads that table's weight over them,
                // so that ambiguous words do not outweigh the rest of the query.
                let groups = lex.concepts(stem);
                let count = |kind| {
                    groups
                        .iter()
                        .filter(|&&c| lex.concept_kind(c) == kind)
                        .count()
                };
                let synonyms = count(ConceptKind::Synonym) as f32;
                let related = count(ConceptKind::Related) as f32;
                for &c in groups {
                    let w = match lex.concept_kind(c) {
                        ConceptKind::Synonym => cfg.synonym_weight / synonyms,
                        ConceptKind::Related => cfg.related_weight / related,
                    };
                    if w > 0.0 {
                        q.expanded.push((c, weight * w));
                    }
                }
            }
            q.exact.retain(|&(t, _)| present(t));
            q.expanded.retain(|&(t, _)| present(t));
            q
        };
        for w in words.iter().filter(|w| !lex.is_stop(&w.text)) {
            if lex.is_weak(&w.text) {
                let mut q = word_terms(&lex.stem(&w.text), cfg.weak_weight, false);
                q.weak = true;
                out.push(q);
                continue;
            }
            let stem = lex.stem(&w.text);
            let unknown = self.words.get(&stem).is_none()
                && lex.concepts(&stem).is_empty()
                && !lex.knows_stem(&stem);
            if unknown && w.compound && cfg.split_compounds {
                let known = |p: &str| -> Known {
                    if p.len() >= 3
                        && !lex.is_stop(p)
                        && known_form(p, |x| self.surface.get(x).is_some())
                    {
                        2
                    } else {
                        Known::from(lex.knows(p))
                    }
                };
                if let Some(pieces) = segment(&w.text, &known, false) {
                    for p in pieces {
                        out.push(word_terms(&lex.stem(p.text), 1.0, true));
                    }
                    continue;
                }
            }
            out.push(word_terms(&stem, 1.0, true));
        }
        out.retain(|q| !q.exact.is_empty() || !q.expanded.is_empty());
        out
    }

    /// Indexed words one edit (deletion, insertion, substitution or swap of neighbours) away
    /// from `stem`, which the index lacks: typo tolerance in both directions (`wether` finds
    /// `weather`; `astrology` finds a description that misspells it `strology`). Only for
    /// longer ASCII words, where one edit rarely turns a word into another real one. Looked up
    /// through the index's one-deletion variants of its words, so it costs one probe per letter.
    fn fuzzy_matches(&self, stem: &str) -> Vec<u32> {
        let mut found: Vec<u32> = Vec::new();
        if !fuzzy_shaped(stem) {
            return found;
        }
        let probe = |key: &[u8], found: &mut Vec<u32>| {
            if let Some(id) = std::str::from_utf8(key)
                .ok()
                .and_then(|k| self.words.get(k))
            {
                found.push(id);
            }
            if let Some(ids) = self.deletions.get(&variant_hash(key)) {
                found.extend(ids);
            }
        };
        probe(stem.as_bytes(), &mut found);
        for_each_deletion(stem, |variant| probe(variant, &mut found));
        let mut words: Vec<&str> = found.iter().map(|&id| self.words.name(id)).collect();
        words.sort_unstable();
        words.dedup();
        words.retain(|w| one_edit_apart(w, stem));
        words.truncate(FUZZY_MAX_MATCHES);
        words.iter().filter_map(|w| self.words.get(w)).collect()
    }

    /// Registers the one-deletion variants of a new word for [`Self::fuzzy_matches`].
    fn add_deletions(&mut self, word: &str, id: u32) {
        if !fuzzy_shaped(word) {
            return;
        }
        let deletions = &mut self.deletions;
        for_each_deletion(word, |variant| {
            let ids = deletions.entry(variant_hash(variant)).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        });
    }

    fn remove_deletions(&mut self, word: &str, id: u32) {
        if !fuzzy_shaped(word) {
            return;
        }
        let deletions = &mut self.deletions;
        for_each_deletion(word, |variant| {
            let key = variant_hash(variant);
            if let Some(ids) = deletions.get_mut(&key) {
                ids.retain(|&i| i != id);
                if ids.is_empty() {
                    deletions.remove(&key);
                }
            }
        });
    }

    fn slug(&self, doc: DocId) -> &str {
        self.docs[doc as usize]
            .as_ref()
            .map_or("", |s| s.slug.as_str())
    }

    /// The best `limit` tools for `query` among those `allow` accepts, best first, ties by slug.
    pub fn search(&self, query: &str, limit: usize, allow: &dyn Fn(&str) -> bool) -> Vec<Hit> {
        if limit == 0 || self.is_empty() {
            return Vec::new();
        }
        let scores = self.score(&self.query_words(query));
        self.select(scores, limit, allow)
    }

    /// Scores of every document matching any query word.
    ///
    /// Each query word adds the better of two scores: its own (exact or near) spelling, and the
    /// related-term groups it belongs to. Taking the better rather than the sum keeps a word
    /// that is in the tables from counting twice where a word that is not counts once.
    fn score(&self, words: &[QueryWord]) -> Vec<(f32, DocId)> {
        let mut acc = vec![0.0f32; self.docs.len()];
        let mut touched: Vec<DocId> = Vec::with_capacity(self.docs.len().min(4096));
        // Per document, the current word's exact and expanded scores.
        let mut parts: Vec<[f32; 2]> = Vec::new();
        let mut word_docs: Vec<DocId> = Vec::new();
        for q in words.iter().filter(|q| !q.weak) {
            if q.expanded.is_empty() {
                for &(term, qw) in &q.exact {
                    self.score_term(term, qw, |d, s| add_score(&mut acc, &mut touched, d, s));
                }
                continue;
            }
            if parts.is_empty() {
                parts = vec![[0.0; 2]; self.docs.len()];
            }
            for (which, terms) in [&q.exact, &q.expanded].into_iter().enumerate() {
                for &(term, qw) in terms {
                    self.score_term(term, qw, |d, s| {
                        let p = &mut parts[d as usize];
                        if *p == [0.0; 2] {
                            word_docs.push(d);
                        }
                        p[which] += s;
                    });
                }
            }
            for d in word_docs.drain(..) {
                let p = std::mem::take(&mut parts[d as usize]);
                add_score(&mut acc, &mut touched, d, p[0].max(p[1]));
            }
        }
        // Weak words alone would make most of a large catalogue a candidate; they only add to
        // tools the other words found, unless there are none.
        let only_weak = touched.is_empty();
        for q in words.iter().filter(|q| q.weak) {
            for &(term, qw) in &q.exact {
                self.score_term(term, qw, |d, s| {
                    if only_weak || acc[d as usize] > 0.0 {
                        add_score(&mut acc, &mut touched, d, s);
                    }
                });
            }
        }
        touched.into_iter().map(|d| (acc[d as usize], d)).collect()
    }

    /// Calls `add(doc, score)` with one term's BM25F score in every document holding it.
    fn score_term(&self, term: TermId, qw: f32, mut add: impl FnMut(DocId, f32)) {
        let list = &self.cache().saturated[term as usize];
        let n = self.len() as f32;
        let df = list.len() as f32;
        let weight = qw * (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        for &(doc, sat) in list {
            add(doc, weight * sat);
        }
    }

    /// The query cache, computed if the index changed since the last query.
    fn cache(&self) -> &QueryCache {
        self.cache.get_or_init(|| {
            let norms = Norms::new(self);
            let saturated = self
                .postings
                .iter()
                .map(|list| {
                    list.iter()
                        .map(|p| {
                            (
                                p.doc,
                                norms.saturate(&p.tf, &self.field_len[p.doc as usize]),
                            )
                        })
                        .collect()
                })
                .collect();
            let mut by_slug: Vec<(&str, DocId)> = self
                .by_slug
                .iter()
                .map(|(slug, &doc)| (slug.as_str(), doc))
                .collect();
            by_slug.sort_unstable();
            let mut slug_rank = vec![u32::MAX; self.docs.len()];
            for (rank, (_, doc)) in by_slug.into_iter().enumerate() {
                slug_rank[doc as usize] = rank as u32;
            }
            QueryCache {
                saturated,
                slug_rank,
            }
        })
    }

    /// The best `limit` allowed documents, best first. Candidates are ranked a chunk at a time
    /// and `allow` is asked in rank order, so it runs about `limit` times with a permissive
    /// filter and only as far down the ranking as needed with a restrictive one.
    fn select(
        &self,
        mut cands: Vec<(f32, DocId)>,
        limit: usize,
        allow: &dyn Fn(&str) -> bool,
    ) -> Vec<Hit> {
        let rank = &self.cache().slug_rank;
        // Scores are positive, so their bits order like them; ties go to the earlier slug.
        let mut keyed: Vec<(u64, DocId, f32)> = cands
            .drain(..)
            .map(|(score, doc)| {
                let key = (u64::from(score.to_bits()) << 32) | u64::from(!rank[doc as usize]);
                (key, doc, score)
            })
            .collect();
        let order = |a: &(u64, DocId, f32), b: &(u64, DocId, f32)| b.0.cmp(&a.0);
        let mut chunk = limit.saturating_mul(2).max(16);
        let mut hits = Vec::with_capacity(limit.min(keyed.len()));
        let mut rest = keyed.as_mut_slice();
        while hits.len() < limit && !rest.is_empty() {
            let k = chunk.min(rest.len());
            // A filter that rejected this chunk will likely reject much of the next: go deeper.
            chunk = chunk.saturating_mul(2);
            if k < rest.len() {
                rest.select_nth_unstable_by(k - 1, order);
            }
            let (head, tail) = rest.split_at_mut(k);
            head.sort_unstable_by(order);
            for &(_, doc, score) in head.iter() {
                let slug = self.slug(doc);
                if allow(slug) {
                    hits.push(Hit {
                        slug: slug.to_owned(),
                        score,
                    });
                    if hits.len() == limit {
                        break;
                    }
                }
            }
            rest = tail;
        }
        hits
    }
}

/// Per-query reading of the index, derived from it after each change.
#[derive(Debug)]
struct QueryCache {
    /// Per term, each posting's saturated BM25F term frequency under the current collection
    /// statistics: what a query sums, 8 bytes per posting.
    saturated: Vec<Vec<(DocId, f32)>>,
    /// Each document's place in slug order, to break score ties without comparing strings.
    slug_rank: Vec<u32>,
}

/// Words shorter than this get no typo tolerance.
const FUZZY_MIN_LEN: usize = 6;
/// At most this many near spellings stand in for an unknown query word.
const FUZZY_MAX_MATCHES: usize = 3;

/// Longest word given typo tolerance (its variants are built on the stack).
const FUZZY_MAX_LEN: usize = 32;

/// Whether `word` gets typo tolerance: long enough that one edit rarely makes another real
/// word, and plain ASCII letters.
fn fuzzy_shaped(word: &str) -> bool {
    (FUZZY_MIN_LEN..=FUZZY_MAX_LEN).contains(&word.len())
        && word.bytes().all(|b| b.is_ascii_lowercase())
}

/// Calls `f` with each string made by deleting one letter of `word` (at most
/// [`FUZZY_MAX_LEN`] bytes), once per distinct result.
fn for_each_deletion(word: &str, mut f: impl FnMut(&[u8])) {
    let b = word.as_bytes();
    let mut buf = [0u8; FUZZY_MAX_LEN];
    for i in 0..b.len().min(FUZZY_MAX_LEN) {
        // Deleting either of two equal neighbours gives the same string.
        if i > 0 && b[i] == b[i - 1] {
            continue;
        }
        buf[..i].copy_from_slice(&b[..i]);
        buf[i..b.len() - 1].copy_from_slice(&b[i + 1..]);
        f(&buf[..b.len() - 1]);
    }
}

fn variant_hash(bytes: &[u8]) -> u64 {
    BuildHasherDefault::<FastHasher>::default().hash_one(bytes)
}

/// Whether two ASCII words are at most one deletion, insertion, substitution or swap of
/// neighbouring letters apart.
fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if short.len() == long.len() {
        let rest = prefix + 1;
        short[rest.min(short.len())..] == long[rest.min(long.len())..]
            || (rest < short.len()
                && short[prefix] == long[rest]
                && short[rest] == long[prefix]
                && short[rest + 1..] == long[rest + 1..])
    } else {
        short[prefix..] == long[prefix + 1..]
    }
}

/// Adds to a document's score, noting the document the first time.
fn add_score(acc: &mut [f32], touched: &mut Vec<DocId>, doc: DocId, score: f32) {
    let a = &mut acc[doc as usize];
    if *a == 0.0 {
        touched.push(doc);
    }
    *a += score;
}

/// BM25F's per-field weights and length normalisation under the index's current statistics.
struct Norms {
    /// Per field, the normaliser of a field of length `l` is `keep + scale * l`.
    keep: [f32; FIELD_COUNT],
    scale: [f32; FIELD_COUNT],
    weight: [f32; FIELD_COUNT],
    k1: f32,
}

impl Norms {
    fn new(index: &SearchIndex) -> Norms {
        let docs = index.len() as f32;
        let cfg = &index.config;
        let mut norms = Norms {
            keep: [0.0; FIELD_COUNT],
            scale: [0.0; FIELD_COUNT],
            weight: cfg.field_weights,
            k1: cfg.k1,
        };
        let fields = norms.keep.iter_mut().zip(&mut norms.scale);
        for ((keep, scale), (&sum, &b)) in fields.zip(index.field_len_sum.iter().zip(&cfg.field_b))
        {
            let avg = if sum > 0 { sum as f32 / docs } else { 1.0 };
            *keep = 1.0 - b;
            *scale = b / avg;
        }
        norms
    }

    /// The saturated BM25F frequency of a term occurring `tf` times in fields of lengths `len`.
    fn saturate(&self, tf: &[u16; FIELD_COUNT], len: &[u32; FIELD_COUNT]) -> f32 {
        let mut total = 0.0f32;
        let norm = self.keep.iter().zip(&self.scale).zip(&self.weight);
        for ((&tf, &len), ((&keep, &scale), &weight)) in tf.iter().zip(len).zip(norm) {
            if tf > 0 {
                total += weight * f32::from(tf) / (keep + scale * len as f32);
            }
        }
        total / (self.k1 + total)
    }
}

#[cfg(test)]
mod tests;
