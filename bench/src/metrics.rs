//! Ranking metrics and latency percentiles, computed the way the MetaTool baselines in
//! `shared/bench/metatool/README.md` are reported (one gold tool per row, rank from 1).

use std::time::Duration;

/// Running sums of the ranking metrics over single-gold queries.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RankStats {
    pub queries: usize,
    hit1: f64,
    hit5: f64,
    ndcg5: f64,
    rr10: f64,
}

impl RankStats {
    /// Adds one query whose gold tool came at `rank` (1-based), or was not returned.
    pub fn add(&mut self, rank: Option<usize>) {
        self.queries += 1;
        let Some(r) = rank else { return };
        if r == 1 {
            self.hit1 += 1.0;
        }
        if r <= 5 {
            self.hit5 += 1.0;
            // One relevant item: the ideal DCG is 1, so NDCG is the discounted gain at its rank.
            self.ndcg5 += 1.0 / ((r as f64) + 1.0).log2();
        }
        if r <= 10 {
            self.rr10 += 1.0 / r as f64;
        }
    }

    fn mean(&self, sum: f64) -> f64 {
        if self.queries == 0 {
            0.0
        } else {
            sum / self.queries as f64
        }
    }

    pub fn recall1(&self) -> f64 {
        self.mean(self.hit1)
    }

    pub fn recall5(&self) -> f64 {
        self.mean(self.hit5)
    }

    pub fn ndcg5(&self) -> f64 {
        self.mean(self.ndcg5)
    }

    pub fn mrr10(&self) -> f64 {
        self.mean(self.rr10)
    }
}

/// Recall@5 over queries with several gold tools.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MultiStats {
    pub queries: usize,
    /// Sum over queries of the fraction of gold tools in the top 5.
    found: f64,
    /// Queries with every gold tool in the top 5.
    complete: f64,
}

impl MultiStats {
    pub fn add(&mut self, gold: &[String], top5: &[String]) {
        self.queries += 1;
        if gold.is_empty() {
            return;
        }
        let found = gold.iter().filter(|g| top5.contains(g)).count();
        self.found += found as f64 / gold.len() as f64;
        if found == gold.len() {
            self.complete += 1.0;
        }
    }

    pub fn recall5(&self) -> f64 {
        if self.queries == 0 {
            0.0
        } else {
            self.found / self.queries as f64
        }
    }

    /// Share of queries with all their gold tools in the top 5.
    pub fn complete5(&self) -> f64 {
        if self.queries == 0 {
            0.0
        } else {
            self.complete / self.queries as f64
        }
    }
}

/// The `p`-th percentile (0–100) by nearest rank; zero for no samples.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// Microseconds with one decimal, for tables.
pub fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_metrics() {
        let mut s = RankStats::default();
        s.add(Some(1));
        s.add(Some(3));
        s.add(Some(7));
        s.add(None);
        assert_eq!(s.queries, 4);
        assert!((s.recall1() - 0.25).abs() < 1e-12);
        assert!((s.recall5() - 0.5).abs() < 1e-12);
        assert!(
            (s.ndcg5() - (1.0 + 0.5) / 4.0).abs() < 1e-12,
            "{}",
            s.ndcg5()
        );
        assert!((s.mrr10() - (1.0 + 1.0 / 3.0 + 1.0 / 7.0) / 4.0).abs() < 1e-12);
    }

    #[test]
    fn multi_recall() {
        let mut s = MultiStats::default();
        let gold = ["A".to_owned(), "B".to_owned()];
        s.add(&gold, &["A".to_owned(), "C".to_owned()]);
        s.add(&gold, &["B".to_owned(), "A".to_owned()]);
        assert!((s.recall5() - 0.75).abs() < 1e-12);
        assert!((s.complete5() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut v: Vec<Duration> = (1..=100).rev().map(Duration::from_micros).collect();
        assert_eq!(percentile(&mut v, 50.0), Duration::from_micros(50));
        assert_eq!(percentile(&mut v, 99.0), Duration::from_micros(99));
        assert_eq!(percentile(&mut v, 100.0), Duration::from_micros(100));
        assert_eq!(percentile(&mut [], 50.0), Duration::ZERO);
    }
}
