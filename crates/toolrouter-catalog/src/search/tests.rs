//! Ranking, maintenance and filtering tests of the search index on a small hand-made catalog.

use expect_test::{Expect, expect};

use super::*;

fn doc(slug: &str, name: &str, description: &str) -> SearchDoc {
    let toolkit = slug.split('_').next().unwrap_or_default().to_lowercase();
    SearchDoc {
        slug: slug.to_owned(),
        name: name.to_owned(),
        description: description.to_owned(),
        toolkit_name: toolkit.clone(),
        toolkit_slug: toolkit,
        ..SearchDoc::default()
    }
}

fn catalog() -> Vec<SearchDoc> {
    vec![
        doc(
            "GMAIL_SEND_EMAIL",
            "Send email",
            "Send an email message to one or more recipients.",
        ),
        doc(
            "GMAIL_LIST_THREADS",
            "List threads",
            "List conversation threads in the inbox.",
        ),
        doc(
            "SLACK_POST_MESSAGE",
            "Post message",
            "Post a message to a Slack channel.",
        ),
        doc(
            "WEATHER_GET_FORECAST",
            "Get forecast",
            "Daily weather forecast for a city.",
        ),
        doc(
            "STOCKS_GET_QUOTE",
            "Get quote",
            "Latest share price of a ticker symbol.",
        ),
        doc(
            "DEEPL_TRANSLATE_TEXT",
            "Translate text",
            "Translate text into another language.",
        ),
        doc(
            "UNSPLASH_SEARCH_PHOTOS",
            "Search photos",
            "Search free photos by keyword.",
        ),
        doc(
            "PARKING_FIND_CARPARK",
            "Find a carpark",
            "Find a free carpark near a place.",
        ),
        doc(
            "GITHUB_CREATE_ISSUE",
            "Create an issue",
            "Open a new issue in a repository, with a title and a body.",
        ),
        SearchDoc {
            params: vec![(
                "zip_code".to_owned(),
                "US postal code of the area.".to_owned(),
            )],
            tags: vec!["environment".to_owned()],
            ..doc(
                "AIRNOW_AIRQUALITYFORECAST",
                "airqualityforecast",
                "Get the outlook for a region.",
            )
        },
    ]
}

fn show(index: &SearchIndex, query: &str, limit: usize) -> String {
    index
        .search(query, limit, &|_| true)
        .iter()
        .map(|h| h.slug.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn check(queries: &[&str], want: &Expect) {
    let index = SearchIndex::build(catalog());
    let got: Vec<String> = queries
        .iter()
        .map(|q| format!("{q} => {}", show(&index, q, 3)))
        .collect();
    want.assert_eq(&got.join("\n"));
}

#[test]
fn ranks_by_words_synonyms_and_topics() {
    check(
        &[
            "send an e-mail to Bob",
            "write a mail to my boss",
            "will it rain tomorrow?",
            "how much is an Apple stock share today",
            "say hello in French",
            "find me a picture of a cat",
            "where can I park my car",
            "Is there a carpark nearby",
            "report a bug in my repo",
            "air quality in 94110",
            "zip code area",
            "the of and",
        ],
        &expect![[r#"
            send an e-mail to Bob => GMAIL_SEND_EMAIL GMAIL_LIST_THREADS SLACK_POST_MESSAGE
            write a mail to my boss => GMAIL_SEND_EMAIL SLACK_POST_MESSAGE GMAIL_LIST_THREADS
            will it rain tomorrow? => WEATHER_GET_FORECAST AIRNOW_AIRQUALITYFORECAST
            how much is an Apple stock share today => STOCKS_GET_QUOTE
            say hello in French => DEEPL_TRANSLATE_TEXT
            find me a picture of a cat => UNSPLASH_SEARCH_PHOTOS
            where can I park my car => PARKING_FIND_CARPARK
            Is there a carpark nearby => PARKING_FIND_CARPARK
            report a bug in my repo => GITHUB_CREATE_ISSUE AIRNOW_AIRQUALITYFORECAST
            air quality in 94110 => AIRNOW_AIRQUALITYFORECAST
            zip code area => AIRNOW_AIRQUALITYFORECAST GITHUB_CREATE_ISSUE
            the of and => "#]],
    );
}

#[test]
fn exact_words_outrank_related_ones() {
    let index = SearchIndex::build([
        doc("A_RAIN_ALERT", "Rain alert", "Warns when rain is coming."),
        doc("B_WEATHER", "Weather", "Current weather conditions."),
    ]);
    let hits = index.search("rain", 5, &|_| true);
    assert_eq!(
        hits.iter().map(|h| h.slug.as_str()).collect::<Vec<_>>(),
        ["A_RAIN_ALERT", "B_WEATHER"]
    );
    assert!(hits[0].score > hits[1].score);
}

#[test]
fn ties_break_by_slug_and_limit_applies() {
    let index = SearchIndex::build([
        doc("Z_PING", "Ping", "Ping the service."),
        doc("A_PING", "Ping", "Ping the service."),
        doc("M_PING", "Ping", "Ping the service."),
    ]);
    let hits = index.search("ping", 2, &|_| true);
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].slug, "A_PING");
    assert_eq!(hits[1].slug, "M_PING");
    assert_eq!(hits[0].score, hits[1].score);
    assert!(index.search("ping", 0, &|_| true).is_empty());
}

#[test]
fn filter_is_respected() {
    let index = SearchIndex::build(catalog());
    let only_gmail = |slug: &str| slug.starts_with("GMAIL_");
    let hits = index.search("send a message", 10, &only_gmail);
    assert!(!hits.is_empty());
    assert!(
        hits.iter().all(|h| h.slug.starts_with("GMAIL_")),
        "{hits:?}"
    );
    assert!(index.search("weather forecast", 10, &only_gmail).is_empty());
    assert!(index.search("weather forecast", 10, &|_| false).is_empty());
}

fn ranked(index: &SearchIndex, queries: &[&str]) -> Vec<Vec<Hit>> {
    queries
        .iter()
        .map(|q| index.search(q, 20, &|_| true))
        .collect()
}

#[test]
fn incremental_updates_equal_a_fresh_build() {
    let queries = [
        "send email",
        "rain forecast",
        "stock price",
        "photos",
        "carpark",
        "issue",
        "translate",
        "forcast",
        "air quality",
    ];
    let all = catalog();
    let mut edited = all[3].clone();
    edited.description = "Hourly weather and rain radar for any city.".to_owned();

    let mut incremental = SearchIndex::build(all[..5].to_vec());
    for d in &all[5..] {
        incremental.upsert(d);
    }
    incremental.upsert(&edited);
    assert!(incremental.remove("SLACK_POST_MESSAGE"));
    assert!(!incremental.remove("SLACK_POST_MESSAGE"));
    incremental.remove("UNSPLASH_SEARCH_PHOTOS");
    incremental.upsert(&all[6]);

    let fresh_docs: Vec<SearchDoc> = all
        .iter()
        .filter(|d| d.slug != "SLACK_POST_MESSAGE")
        .map(|d| {
            if d.slug == edited.slug {
                edited.clone()
            } else {
                d.clone()
            }
        })
        .collect();
    let fresh = SearchIndex::build(fresh_docs);
    assert_eq!(incremental.len(), fresh.len());
    assert_eq!(ranked(&incremental, &queries), ranked(&fresh, &queries));
    assert_eq!(
        incremental.words.len(),
        fresh.words.len(),
        "no stale vocabulary"
    );
    assert_eq!(
        incremental.surface.len(),
        fresh.surface.len(),
        "no stale vocabulary"
    );
    assert_eq!(
        incremental.deletions.len(),
        fresh.deletions.len(),
        "no stale variants"
    );
    assert_eq!(
        incremental.search("slack channel", 5, &|_| true),
        Vec::new()
    );
}

/// Many interleaved upserts and removals, some re-adding removed tools with other words, end
/// in the same rankings as building the surviving tools in one go.
#[test]
fn random_updates_equal_a_fresh_build() {
    let queries = [
        "send email",
        "forcast rain",
        "stock price",
        "photos of cats",
        "carpark",
        "bug report",
        "translate french",
        "air quality",
        "channel message",
        "github issue title",
    ];
    let variants: Vec<SearchDoc> = catalog()
        .into_iter()
        .flat_map(|d| {
            let mut other = d.clone();
            other.description = format!("{} Also exports reports and sends alerts.", d.description);
            other.tags = vec!["reporting".to_owned()];
            [d, other]
        })
        .collect();
    let mut index = SearchIndex::default();
    let mut live: Vec<Option<usize>> = vec![None; variants.len() / 2];
    let mut seed: u64 = 0x5eed;
    for _ in 0..300 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let tool = (seed >> 33) as usize % live.len();
        let variant = (seed >> 20) as usize % 3;
        if variant == 2 {
            index.remove(&variants[tool * 2].slug);
            live[tool] = None;
        } else {
            index.upsert(&variants[tool * 2 + variant]);
            live[tool] = Some(tool * 2 + variant);
        }
        // Queries between updates must not change what a later query sees.
        if seed.is_multiple_of(7) {
            index.search("email", 3, &|_| true);
        }
    }
    let fresh = SearchIndex::build(live.iter().flatten().map(|&i| variants[i].clone()));
    assert!(
        fresh.len() >= 5,
        "enough tools survive to compare: {}",
        fresh.len()
    );
    let answered = ranked(&fresh, &queries)
        .iter()
        .filter(|h| !h.is_empty())
        .count();
    assert!(answered >= 6, "most queries find something: {answered}");
    assert_eq!(index.len(), fresh.len());
    assert_eq!(ranked(&index, &queries), ranked(&fresh, &queries));
    assert_eq!(index.words.len(), fresh.words.len());
    assert_eq!(index.surface.len(), fresh.surface.len());
    assert_eq!(index.deletions.len(), fresh.deletions.len());
}

#[test]
fn removing_everything_leaves_an_empty_index() {
    let mut index = SearchIndex::build(catalog());
    for d in catalog() {
        assert!(index.remove(&d.slug));
    }
    assert!(index.is_empty());
    assert_eq!(index.words.len(), 0);
    assert_eq!(index.surface.len(), 0);
    assert!(index.deletions.is_empty());
    assert!(index.postings.iter().all(Vec::is_empty));
    assert!(index.search("email", 5, &|_| true).is_empty());
    index.upsert(&catalog()[0]);
    assert_eq!(show(&index, "email", 5), "GMAIL_SEND_EMAIL");
}

#[test]
fn plain_config_has_no_related_terms() {
    let index = SearchIndex::with_config(SearchConfig::plain(), catalog());
    assert_eq!(show(&index, "will it rain tomorrow?", 3), "");
    assert_eq!(show(&index, "forecast", 3), "WEATHER_GET_FORECAST");
}

#[test]
fn doc_from_tool_uses_schema_and_tags() {
    let toolkit: ToolkitDef = serde_json::from_value(serde_json::json!({
        "slug": "github", "name": "GitHub", "description": "Code hosting.",
        "categories": ["developer-tools"], "base_url": "https://api.github.com",
        "tools": [{
            "slug": "GITHUB_CREATE_ISSUE", "name": "Create an issue",
            "description": "Open a new issue.", "tags": ["openWorldHint", "issues"],
            "input": {"type": "object", "properties": {
                "owner": {"type": "string", "description": "Account that owns the repository."},
                "title": {"type": "string"}}},
            "http": {"method": "POST", "path": "/repos/{owner}/issues"}}]
    }))
    .expect("valid toolkit");
    let doc = SearchDoc::from_tool(&toolkit, &toolkit.tools[0]);
    expect![[r#"
        SearchDoc {
            slug: "GITHUB_CREATE_ISSUE",
            name: "Create an issue",
            description: "Open a new issue.",
            toolkit_slug: "github",
            toolkit_name: "GitHub",
            tags: [
                "issues",
                "developer-tools",
            ],
            params: [
                (
                    "owner",
                    "Account that owns the repository.",
                ),
                (
                    "title",
                    "",
                ),
            ],
        }"#]]
    .assert_eq(&format!("{doc:#?}"));
    let index = SearchIndex::build([doc]);
    assert_eq!(show(&index, "repository owner", 1), "GITHUB_CREATE_ISSUE");
    assert_eq!(show(&index, "developer", 1), "GITHUB_CREATE_ISSUE");
}

#[test]
fn index_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SearchIndex>();
}

#[test]
fn edit_distance_one() {
    for (a, b) in [
        ("weather", "wether"),
        ("astrolog", "strolog"),
        ("forecast", "forcast"),
        ("forecast", "forecats"),
        ("forecast", "forecost"),
        ("forecast", "forecast"),
    ] {
        assert!(one_edit_apart(a, b), "{a} {b}");
        assert!(one_edit_apart(b, a), "{b} {a}");
    }
    for (a, b) in [
        ("weather", "wthr"),
        ("forecast", "foercsat"),
        ("forecast", "forecastss"),
        ("abcdef", "badcef"),
        ("abcdef", "abcxyz"),
    ] {
        assert!(!one_edit_apart(a, b), "{a} {b}");
    }
}

#[test]
fn typos_find_the_word_either_way() {
    let index = SearchIndex::build([
        doc("A_WEATHER", "Weather", "Weather forecast for a city."),
        doc("B_ZODIAC", "Zodiac", "Povides strology readings."),
        doc("C_MAIL", "Mail", "Send mail."),
    ]);
    assert_eq!(show(&index, "wether forcast", 5), "A_WEATHER");
    assert_eq!(show(&index, "astrology", 5), "B_ZODIAC");
    let plain = SearchIndex::with_config(SearchConfig::plain(), catalog());
    assert_eq!(show(&plain, "forcast", 5), "");
}

#[test]
fn weak_words_only_reorder() {
    let index = SearchIndex::build([
        doc("A_NEWS", "Latest news", "Show the latest headlines."),
        doc("B_WEATHER", "Weather", "Weather forecast for a city."),
    ]);
    // `show` and `latest` alone still find something...
    assert_eq!(show(&index, "show the latest", 5), "A_NEWS");
    // ...but cannot pull a tool into results the topic words did not find.
    assert_eq!(show(&index, "show me the latest weather", 5), "B_WEATHER");
}

#[test]
fn restrictive_filter_reaches_deep_in_the_ranking() {
    let docs: Vec<SearchDoc> = (0..200)
        .map(|i| doc(&format!("T{i:03}_PING"), "Ping", &"ping ".repeat(1 + i % 7)))
        .collect();
    let index = SearchIndex::build(docs);
    let all = index.search("ping", 1000, &|_| true);
    assert_eq!(all.len(), 200);
    let last = all.last().expect("200 hits").slug.clone();
    let only_last = index.search("ping", 3, &|s| s == last);
    assert_eq!(only_last.len(), 1);
    assert_eq!(only_last[0], all[199]);
    // Filtering keeps the order of the unfiltered ranking.
    let odd = |s: &str| s[1..4].parse::<u32>().is_ok_and(|n| n % 2 == 1);
    let filtered: Vec<Hit> = all
        .iter()
        .filter(|h| odd(&h.slug))
        .take(30)
        .cloned()
        .collect();
    assert_eq!(index.search("ping", 30, &odd), filtered);
}
