//! Measures the tool search index: ranking quality on the MetaTool dev queries (both fixed
//! halves and the whole set, single- and multi-tool) for several configurations, and build
//! time and query latency on a catalogue of at least 10,000 tools. Prints Markdown.
//!
//! `cargo run --release -p toolrouter-bench --bin search -- [--data DIR] [--half a|all]
//! [--no-quality] [--no-scale]`
//!
//! `--half a` reports only half A, the half looked at while developing; half B stays unseen
//! until the final report, so a large gap between the two shows overfitting.
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#![expect(
    clippy::print_stderr,
    reason = "usage errors and warnings go to stderr"
)]

use std::collections::HashSet;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use toolrouter_bench::metatool::{self, Data, Half};
use toolrouter_bench::metrics::{MultiStats, RankStats, micros, percentile};
use toolrouter_bench::synth::synthetic_docs;
use toolrouter_catalog::Catalog;
use toolrouter_catalog::search::{SearchConfig, SearchDoc, SearchIndex};

/// Tools in the scale test.
const SCALE_TOOLS: usize = 10_000;
/// Tools a filtered session in the scale test may use.
const SESSION_TOOLS: usize = 300;
/// Timed runs of each query (and builds); the fastest counts.
const RUNS: usize = 3;

/// Runs `f` `RUNS` times; the fastest time and the last result.
fn fastest<R>(mut f: impl FnMut() -> R) -> (Duration, R) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let r = black_box(f());
        best = best.min(start.elapsed());
        out = Some(r);
    }
    (best, out.expect("RUNS > 0"))
}

struct Args {
    data: PathBuf,
    only_half_a: bool,
    skip_quality: bool,
    skip_scale: bool,
}

fn parse_args() -> Result<Args, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut args = Args {
        data: root.join("../shared/bench/metatool"),
        only_half_a: false,
        skip_quality: false,
        skip_scale: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data" => args.data = it.next().ok_or("--data needs a directory")?.into(),
            "--half" => match it.next().as_deref() {
                Some("a") => args.only_half_a = true,
                Some("all") => args.only_half_a = false,
                other => return Err(format!("--half takes a or all, not {other:?}")),
            },
            "--no-quality" => args.skip_quality = true,
            "--no-scale" => args.skip_scale = true,
            "-h" | "--help" => {
                return Err(
                    "usage: search [--data DIR] [--half a|all] [--no-quality] [--no-scale]"
                        .to_owned(),
                );
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// Which queries a row of the quality table covers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Subset {
    HalfA,
    HalfB,
    All,
}

impl Subset {
    fn label(self) -> &'static str {
        match self {
            Subset::HalfA => "dev half A",
            Subset::HalfB => "dev half B",
            Subset::All => "dev (all)",
        }
    }

    fn contains(self, query: &str) -> bool {
        match self {
            Subset::HalfA => metatool::half(query) == Half::A,
            Subset::HalfB => metatool::half(query) == Half::B,
            Subset::All => true,
        }
    }
}

struct QualityRow {
    config: &'static str,
    subset: Subset,
    single: RankStats,
    multi: MultiStats,
    p50: Duration,
    p99: Duration,
}

fn evaluate(
    data: &Data,
    name: &'static str,
    config: &SearchConfig,
    subsets: &[Subset],
) -> Vec<QualityRow> {
    let index =
        SearchIndex::with_config(config.clone(), data.tools.iter().map(metatool::search_doc));
    subsets
        .iter()
        .map(|&subset| {
            let mut single = RankStats::default();
            let mut times = Vec::new();
            for q in data.queries.iter().filter(|q| subset.contains(&q.query)) {
                let (time, hits) = fastest(|| index.search(&q.query, 10, &|_| true));
                times.push(time);
                single.add(hits.iter().position(|h| h.slug == q.tool).map(|p| p + 1));
            }
            let mut multi = MultiStats::default();
            for q in data.multi.iter().filter(|q| subset.contains(&q.query)) {
                let top5: Vec<String> = index
                    .search(&q.query, 5, &|_| true)
                    .into_iter()
                    .map(|h| h.slug)
                    .collect();
                multi.add(&q.tools, &top5);
            }
            QualityRow {
                config: name,
                subset,
                single,
                multi,
                p50: percentile(&mut times, 50.0),
                p99: percentile(&mut times, 99.0),
            }
        })
        .collect()
}

fn print_quality(rows: &[QualityRow]) {
    println!(
        "| config | queries | n | R@1 | R@5 | NDCG@5 | MRR@10 | p50 | p99 | multi n | multi R@5 | multi both@5 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {:.3} | {:.3} | **{:.3}** | {:.3} | {} | {} | {} | {:.3} | {:.3} |",
            r.config,
            r.subset.label(),
            r.single.queries,
            r.single.recall1(),
            r.single.recall5(),
            r.single.ndcg5(),
            r.single.mrr10(),
            micros(r.p50),
            micros(r.p99),
            r.multi.queries,
            r.multi.recall5(),
            r.multi.complete5(),
        );
    }
}

/// The built-in toolkits' tools, or none when the catalogue does not load.
fn builtin_docs() -> Vec<SearchDoc> {
    match Catalog::builtin() {
        Ok(catalog) => catalog
            .toolkits()
            .iter()
            .flat_map(|tk| tk.tools.iter().map(|t| SearchDoc::from_tool(tk, t)))
            .collect(),
        Err(e) => {
            eprintln!("warning: built-in catalogue did not load, using synthetic tools only: {e}");
            Vec::new()
        }
    }
}

fn scale(data: &Data) {
    let builtin = builtin_docs();
    let n_builtin = builtin.len();
    let mut docs = builtin;
    docs.extend(synthetic_docs(
        SCALE_TOOLS.saturating_sub(n_builtin),
        0x7007_2007,
    ));

    let mut builds = Vec::new();
    let mut index = SearchIndex::default();
    for _ in 0..5 {
        let docs = docs.clone();
        let start = Instant::now();
        let built = SearchIndex::build(docs);
        builds.push(start.elapsed());
        // Replacing drops the previous index outside the timed part.
        index = built;
    }
    builds.sort_unstable();

    let queries: Vec<&str> = data.queries.iter().map(|q| q.query.as_str()).collect();
    let time_queries = |allow: &dyn Fn(&str) -> bool| {
        let mut times = Vec::with_capacity(queries.len());
        for q in &queries {
            times.push(fastest(|| index.search(q, 10, allow)).0);
        }
        (percentile(&mut times, 50.0), percentile(&mut times, 99.0))
    };
    let (p50, p99) = time_queries(&|_| true);
    // A session allowed a few toolkits' worth of tools, checked through a set as a server would.
    let session: HashSet<&str> = docs
        .iter()
        .step_by(docs.len() / SESSION_TOOLS)
        .map(|d| d.slug.as_str())
        .collect();
    let (fp50, fp99) = time_queries(&|slug| session.contains(slug));

    // Incremental maintenance: replace and then remove 100 tools.
    let changed: Vec<SearchDoc> = docs
        .iter()
        .step_by(docs.len() / 100)
        .map(|d| SearchDoc {
            description: format!("{} Updated.", d.description),
            ..d.clone()
        })
        .collect();
    let start = Instant::now();
    for d in &changed {
        index.upsert(d);
    }
    let upsert = start.elapsed() / changed.len() as u32;
    // The first query after changes recomputes the index's query cache.
    let start = Instant::now();
    black_box(index.search(queries[0], 10, &|_| true));
    let first_query = start.elapsed();
    let start = Instant::now();
    for d in &changed {
        index.remove(&d.slug);
    }
    let remove = start.elapsed() / changed.len() as u32;

    println!(
        "Catalogue: {} tools ({} built-in, {} synthetic); {} queries (the MetaTool dev queries), limit 10.\n",
        docs.len(),
        n_builtin,
        docs.len() - n_builtin,
        queries.len()
    );
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| index build, {} tools (median of {}; fastest {:.1} ms) | {:.1} ms |",
        docs.len(),
        builds.len(),
        builds[0].as_secs_f64() * 1e3,
        builds[builds.len() / 2].as_secs_f64() * 1e3
    );
    println!("| query p50, no filter | {} |", micros(p50));
    println!("| query p99, no filter | {} |", micros(p99));
    println!(
        "| query p50, session filter ({} allowed tools) | {} |",
        session.len(),
        micros(fp50)
    );
    println!(
        "| query p99, session filter ({} allowed tools) | {} |",
        session.len(),
        micros(fp99)
    );
    println!(
        "| upsert of one changed tool (mean of {}) | {} |",
        changed.len(),
        micros(upsert)
    );
    println!(
        "| remove of one tool (mean of {}) | {} |",
        changed.len(),
        micros(remove)
    );
    println!(
        "| first query after those upserts (recomputes the query cache) | {:.1} ms |",
        first_query.as_secs_f64() * 1e3
    );
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let data = match Data::load(&args.data) {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "cannot load MetaTool data from {}: {e}",
                args.data.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let subsets: &[Subset] = if args.only_half_a {
        &[Subset::HalfA]
    } else {
        &[Subset::HalfA, Subset::HalfB, Subset::All]
    };
    let configs: [(&'static str, SearchConfig); 2] = [
        ("plain BM25F", SearchConfig::plain()),
        ("full", SearchConfig::default()),
    ];

    let mut command = String::from("cargo run --release -p toolrouter-bench --bin search");
    for (i, a) in std::env::args().skip(1).enumerate() {
        command.push_str(if i == 0 { " -- " } else { " " });
        command.push_str(&a);
    }
    println!("# Tool search benchmark\n");
    println!("Command: `{command}`\n");
    println!("Latencies: each query is timed {RUNS} times and its fastest run kept, because the");
    println!("machine may be shared; p50/p99 are over queries.");
    // Timings on a busy machine are slower than the code: say how busy it was.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let one_minute = load.split_whitespace().next().unwrap_or("?");
        println!("Load average at start: {one_minute} on {cpus} CPU(s).");
    }
    println!();
    if !args.skip_quality {
        println!(
            "## Quality: MetaTool, {} tools, {} single-tool and {} multi-tool dev queries\n",
            data.tools.len(),
            data.queries.len(),
            data.multi.len()
        );
        let rows: Vec<QualityRow> = configs
            .iter()
            .flat_map(|(name, config)| evaluate(&data, name, config, subsets))
            .collect();
        print_quality(&rows);
        println!(
            "\nBaselines from the data's README (dev, all): BM25 NDCG@5 0.499, all-MiniLM-L6-v2 0.641.\n"
        );
    }
    if !args.skip_scale {
        println!("## Scale\n");
        scale(&data);
    }
    ExitCode::SUCCESS
}
