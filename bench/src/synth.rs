//! A synthetic tool catalogue for timing the search index at realistic scale: toolkits of
//! made-up services across common SaaS domains, each with CRUD-style tools over the domain's
//! objects, worded like real tool definitions. Deterministic (own PRNG, fixed seed) so every
//! run times the same catalogue.

use toolrouter_catalog::search::SearchDoc;

/// SplitMix64: tiny, good enough to pick words, and identical everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A domain: its category, what the service is, and the objects its API manages.
struct Domain {
    category: &'static str,
    what: &'static str,
    objects: &'static [&'static str],
}

const DOMAINS: &[Domain] = &[
    Domain {
        category: "crm",
        what: "customer relationship management",
        objects: &[
            "contact", "company", "deal", "lead", "note", "task", "pipeline", "activity", "quote",
            "owner",
        ],
    },
    Domain {
        category: "email",
        what: "email for teams",
        objects: &[
            "message",
            "draft",
            "thread",
            "label",
            "mailbox",
            "attachment",
            "contact",
            "filter",
            "signature",
        ],
    },
    Domain {
        category: "chat",
        what: "team messaging",
        objects: &[
            "channel",
            "message",
            "reaction",
            "user",
            "file",
            "reminder",
            "thread",
            "emoji",
            "workspace",
        ],
    },
    Domain {
        category: "developer-tools",
        what: "code hosting and review",
        objects: &[
            "repository",
            "issue",
            "pull request",
            "branch",
            "commit",
            "release",
            "webhook",
            "deploy key",
            "workflow run",
            "gist",
        ],
    },
    Domain {
        category: "project-management",
        what: "project and task tracking",
        objects: &[
            "project",
            "task",
            "board",
            "sprint",
            "epic",
            "comment",
            "label",
            "milestone",
            "time entry",
            "workflow",
        ],
    },
    Domain {
        category: "documents",
        what: "documents and wikis",
        objects: &[
            "page", "document", "database", "block", "comment", "template", "space", "folder",
        ],
    },
    Domain {
        category: "storage",
        what: "cloud file storage",
        objects: &[
            "file",
            "folder",
            "shared link",
            "permission",
            "revision",
            "upload session",
            "bucket",
            "object",
        ],
    },
    Domain {
        category: "calendar",
        what: "calendars and scheduling",
        objects: &[
            "calendar",
            "event",
            "attendee",
            "availability slot",
            "booking",
            "meeting room",
            "reminder",
        ],
    },
    Domain {
        category: "payments",
        what: "online payments",
        objects: &[
            "payment",
            "customer",
            "invoice",
            "subscription",
            "refund",
            "payout",
            "price",
            "coupon",
            "dispute",
            "checkout session",
        ],
    },
    Domain {
        category: "ecommerce",
        what: "online store management",
        objects: &[
            "product",
            "order",
            "customer",
            "collection",
            "inventory item",
            "discount code",
            "fulfillment",
            "cart",
            "shipping zone",
        ],
    },
    Domain {
        category: "marketing",
        what: "email marketing and campaigns",
        objects: &[
            "campaign",
            "audience",
            "subscriber",
            "segment",
            "template",
            "automation",
            "report",
            "landing page",
        ],
    },
    Domain {
        category: "support",
        what: "customer support help desk",
        objects: &[
            "ticket",
            "agent",
            "macro",
            "article",
            "conversation",
            "satisfaction rating",
            "view",
            "group",
        ],
    },
    Domain {
        category: "hr",
        what: "human resources and hiring",
        objects: &[
            "employee",
            "candidate",
            "job posting",
            "interview",
            "offer",
            "time off request",
            "department",
            "review cycle",
        ],
    },
    Domain {
        category: "accounting",
        what: "bookkeeping and accounting",
        objects: &[
            "invoice",
            "bill",
            "expense",
            "account",
            "journal entry",
            "vendor",
            "tax rate",
            "bank transaction",
            "report",
        ],
    },
    Domain {
        category: "analytics",
        what: "product analytics",
        objects: &[
            "event",
            "funnel",
            "cohort",
            "dashboard",
            "chart",
            "user profile",
            "annotation",
            "experiment",
        ],
    },
    Domain {
        category: "cloud",
        what: "cloud infrastructure",
        objects: &[
            "instance",
            "volume",
            "snapshot",
            "load balancer",
            "dns record",
            "domain",
            "certificate",
            "firewall rule",
            "database cluster",
            "secret",
        ],
    },
    Domain {
        category: "monitoring",
        what: "error and uptime monitoring",
        objects: &[
            "alert",
            "incident",
            "monitor",
            "issue",
            "event",
            "release",
            "on-call schedule",
            "status page",
        ],
    },
    Domain {
        category: "social-media",
        what: "social media publishing",
        objects: &[
            "post",
            "comment",
            "follower",
            "story",
            "hashtag",
            "scheduled post",
            "profile",
            "direct message",
        ],
    },
    Domain {
        category: "video",
        what: "video hosting",
        objects: &[
            "video",
            "playlist",
            "channel",
            "caption",
            "thumbnail",
            "live stream",
            "comment",
            "subscription",
        ],
    },
    Domain {
        category: "music",
        what: "music streaming",
        objects: &[
            "track",
            "album",
            "artist",
            "playlist",
            "podcast episode",
            "queue",
            "recommendation",
        ],
    },
    Domain {
        category: "travel",
        what: "travel booking",
        objects: &[
            "flight",
            "hotel",
            "reservation",
            "itinerary",
            "rental car",
            "traveler profile",
            "fare alert",
        ],
    },
    Domain {
        category: "health",
        what: "clinic and patient management",
        objects: &[
            "patient",
            "appointment",
            "prescription",
            "practitioner",
            "lab result",
            "insurance claim",
        ],
    },
    Domain {
        category: "education",
        what: "online courses and classrooms",
        objects: &[
            "course",
            "lesson",
            "assignment",
            "submission",
            "grade",
            "student",
            "quiz",
            "enrollment",
        ],
    },
    Domain {
        category: "real-estate",
        what: "property listings",
        objects: &[
            "listing",
            "property",
            "showing",
            "offer",
            "agent",
            "lease",
            "tenant",
            "maintenance request",
        ],
    },
    Domain {
        category: "forms",
        what: "forms and surveys",
        objects: &["form", "response", "question", "survey", "webhook", "theme"],
    },
    Domain {
        category: "design",
        what: "design collaboration",
        objects: &[
            "file",
            "frame",
            "component",
            "comment",
            "style",
            "project",
            "asset",
            "image",
        ],
    },
    Domain {
        category: "data",
        what: "spreadsheets and databases",
        objects: &[
            "spreadsheet",
            "sheet",
            "row",
            "column",
            "table",
            "record",
            "view",
            "formula",
        ],
    },
];

/// Prefix and suffix halves of made-up service names.
const NAME_HEADS: &[&str] = &[
    "Acme", "Blue", "Bright", "Cloud", "Core", "Data", "Deep", "Echo", "Flow", "Fox", "Green",
    "Hyper", "Iron", "Jet", "Kite", "Lumen", "Meta", "Nimbus", "Nova", "Orbit", "Pixel", "Quill",
    "Rapid", "Sky", "Swift", "Terra", "Ultra", "Vast", "Wave", "Zen",
];
const NAME_TAILS: &[&str] = &[
    "base", "desk", "dock", "flow", "forge", "grid", "hub", "kit", "lab", "line", "loop", "mate",
    "ly", "nest", "pad", "point", "pulse", "scope", "stack", "ware",
];

/// Actions: slug verb, display name, description template. `{o}` is the object, `{os}` its
/// plural, `{S}` the service, `{what}` the domain.
const ACTIONS: &[(&str, &str, &str)] = &[
    (
        "CREATE",
        "Create a {o}",
        "Create a new {o} in {S}. Returns the created {o} with its id and URL.",
    ),
    (
        "GET",
        "Get a {o}",
        "Fetch a single {o} from {S} by its id, with all fields.",
    ),
    (
        "LIST",
        "List {os}",
        "List {os} in {S}, newest first. Supports cursor pagination and filters.",
    ),
    (
        "UPDATE",
        "Update a {o}",
        "Change fields of an existing {o} in {S}; fields left out keep their value.",
    ),
    (
        "DELETE",
        "Delete a {o}",
        "Permanently delete a {o} from {S}. This cannot be undone.",
    ),
    (
        "SEARCH",
        "Search {os}",
        "Search {os} in {S} by keyword, owner or date range.",
    ),
    (
        "ARCHIVE",
        "Archive a {o}",
        "Archive a {o} in {S} so it no longer shows in lists; it can be restored later.",
    ),
    (
        "EXPORT",
        "Export {os}",
        "Export {os} from {S} as CSV or JSON for reporting or backup.",
    ),
    (
        "SHARE",
        "Share a {o}",
        "Share a {o} in {S} with people or teams and set their access level.",
    ),
    (
        "COUNT",
        "Count {os}",
        "Count the {os} in {S} that match a filter, without fetching them.",
    ),
];

fn plural(word: &str) -> String {
    if let Some(stem) = word.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if word.ends_with('s') || word.ends_with('x') || word.ends_with("ch") || word.ends_with("sh") {
        return format!("{word}es");
    }
    format!("{word}s")
}

fn upper_snake(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(str::to_uppercase)
        .collect::<Vec<_>>()
        .join("_")
}

fn snake(text: &str) -> String {
    upper_snake(text).to_lowercase()
}

/// Parameters a tool of `action` on `object` takes.
fn params(action: &str, object: &str, service: &str) -> Vec<(String, String)> {
    let id = (
        format!("{}_id", snake(object)),
        format!("Id of the {object} in {service}."),
    );
    let p = |n: &str, d: &str| (n.to_owned(), d.to_owned());
    match action {
        "CREATE" => vec![
            p("name", &format!("Name of the new {object}.")),
            p("description", "Longer text, Markdown allowed."),
            p("owner_id", "User who owns it; defaults to the caller."),
        ],
        "LIST" => vec![
            p("limit", "Maximum number of results, 1-100."),
            p("cursor", "Cursor from the previous page."),
            p("sort", "Field to sort by."),
        ],
        "UPDATE" => vec![id, p("fields", "Fields to change, by name.")],
        "SEARCH" => vec![
            p("query", "Words to look for."),
            p(
                "created_after",
                "Only items created after this date (ISO 8601).",
            ),
            p("limit", "Maximum number of results."),
        ],
        "EXPORT" => vec![
            p("format", "csv or json."),
            p("filter", "Only items matching this filter."),
        ],
        "SHARE" => vec![
            id,
            p("emails", "Email addresses to share with."),
            p("role", "viewer, editor or owner."),
        ],
        "COUNT" => vec![p("filter", "Only count items matching this filter.")],
        _ => vec![id],
    }
}

/// Synthetic tools, `count` of them at least (whole toolkits, so a few more), with slugs that
/// cannot clash with real ones (toolkit slugs start with `syn`).
pub fn synthetic_docs(count: usize, seed: u64) -> Vec<SearchDoc> {
    let mut rng = Rng::new(seed);
    let mut docs = Vec::with_capacity(count + 64);
    let mut toolkit = 0usize;
    while docs.len() < count {
        let domain = &DOMAINS[toolkit % DOMAINS.len()];
        let service = format!("{}{}", rng.pick(NAME_HEADS), rng.pick(NAME_TAILS));
        let toolkit_slug = format!("syn{toolkit}_{}", service.to_lowercase());
        let toolkit_name = format!("{service} {}", domain.what);
        let n_objects = 3 + rng.below(domain.objects.len().min(8) - 2);
        let start = rng.below(domain.objects.len());
        for k in 0..n_objects {
            let object = domain.objects[(start + k) % domain.objects.len()];
            for &(verb, name, description) in ACTIONS {
                // Not every API offers every action on every object.
                if rng.below(10) < 2 {
                    continue;
                }
                let fill = |t: &str| {
                    t.replace("{os}", &plural(object))
                        .replace("{o}", object)
                        .replace("{S}", &service)
                        .replace("{what}", domain.what)
                };
                docs.push(SearchDoc {
                    slug: format!(
                        "{}_{verb}_{}",
                        upper_snake(&toolkit_slug),
                        upper_snake(object)
                    ),
                    name: fill(name),
                    description: fill(description),
                    toolkit_slug: toolkit_slug.clone(),
                    toolkit_name: toolkit_name.clone(),
                    tags: vec![domain.category.to_owned()],
                    params: params(verb, object, &service),
                });
            }
        }
        toolkit += 1;
    }
    docs
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn words() {
        assert_eq!(plural("company"), "companies");
        assert_eq!(plural("key"), "keys");
        assert_eq!(plural("box"), "boxes");
        assert_eq!(plural("ticket"), "tickets");
        assert_eq!(upper_snake("pull request"), "PULL_REQUEST");
        assert_eq!(snake("on-call schedule"), "on_call_schedule");
    }

    #[test]
    fn catalogue_is_big_unique_and_deterministic() {
        let docs = synthetic_docs(2_000, 7);
        assert!(docs.len() >= 2_000);
        let slugs: HashSet<&str> = docs.iter().map(|d| d.slug.as_str()).collect();
        assert_eq!(slugs.len(), docs.len(), "slugs are unique");
        assert!(docs.iter().all(|d| d.slug.starts_with("SYN")));
        assert_eq!(docs, synthetic_docs(2_000, 7));
        assert_ne!(docs, synthetic_docs(2_000, 8));
    }
}
