//! Measurements the master takes for benchmarks: how long schedulers take to answer offers.
//!
//! The master knows when it made each offer (`OfferEntry::created`); when an ACCEPT names
//! the offer, the time since then is one sample of "offer-to-ACCEPT latency". It is
//! measured here, by the cluster, so that any scheduler (ours, or one written in Go or
//! Python) is measured the same way, from outside.
//!
//! Samples are kept in a plain vector behind their own mutex (not the master's state
//! lock, so reading them never delays the master). It is capped so a cluster that runs
//! for days does not grow without bound: past [`MAX_SAMPLES`], new samples are counted
//! but not kept.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most latency samples kept (8 MiB of `u64`s).
pub const MAX_SAMPLES: usize = 1 << 20;

/// What the master recorded since the cluster started (or since the last reset).
#[derive(Default)]
pub(crate) struct Stats {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Offer-to-ACCEPT latencies in nanoseconds, in arrival order.
    samples: Vec<u64>,
    /// ACCEPT calls that named at least one current offer.
    accepts: u64,
    /// Tasks in those ACCEPT calls (LAUNCH and LAUNCH_GROUP).
    tasks: u64,
    /// Offers those ACCEPT calls used (samples beyond the cap are only counted here).
    offers: u64,
}

/// A summary of offer-to-ACCEPT latency, from [`crate::Cluster::offer_stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OfferStats {
    /// ACCEPT calls that used at least one current offer.
    pub accepts: u64,
    /// Tasks launched by those ACCEPT calls.
    pub tasks: u64,
    /// Offers accepted (one latency sample each; the first 2^20 samples are kept).
    pub offers: u64,
    /// Median time from the master sending an offer to the ACCEPT that used it.
    pub p50: Duration,
    /// 99th percentile of the same.
    pub p99: Duration,
    /// The slowest offer to be accepted.
    pub max: Duration,
}

impl Stats {
    /// Records one ACCEPT: when each of its offers was made, and how many tasks it has.
    pub(crate) fn accepted(&self, offers_created: &[Instant], tasks: usize) {
        let now = Instant::now();
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        s.accepts += 1;
        s.tasks += tasks as u64;
        for created in offers_created {
            s.offers += 1;
            if s.samples.len() < MAX_SAMPLES {
                let ns = now.duration_since(*created).as_nanos();
                s.samples.push(u64::try_from(ns).unwrap_or(u64::MAX));
            }
        }
    }

    /// The summary so far.
    pub(crate) fn summary(&self) -> OfferStats {
        let s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut sorted = s.samples.clone();
        let (accepts, tasks, offers) = (s.accepts, s.tasks, s.offers);
        drop(s);
        sorted.sort_unstable();
        let at = |q: f64| -> Duration {
            if sorted.is_empty() {
                return Duration::ZERO;
            }
            // Nearest rank: the smallest sample with at least q of all samples at or below it.
            let rank = (q * sorted.len() as f64).ceil() as usize;
            Duration::from_nanos(sorted[rank.clamp(1, sorted.len()) - 1])
        };
        OfferStats {
            accepts,
            tasks,
            offers,
            p50: at(0.50),
            p99: at(0.99),
            max: sorted
                .last()
                .map_or(Duration::ZERO, |n| Duration::from_nanos(*n)),
        }
    }

    /// Forgets everything recorded so far (between benchmark runs on one cluster).
    pub(crate) fn reset(&self) {
        *self.inner.lock().unwrap_or_else(|p| p.into_inner()) = Inner::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let stats = Stats::default();
        let t0 = Instant::now();
        stats.accepted(&[t0, t0], 3);
        stats.accepted(&[t0], 0);
        let s = stats.summary();
        assert_eq!((s.accepts, s.tasks, s.offers), (2, 3, 3));
        assert!(s.p50 <= s.p99 && s.p99 <= s.max);
        stats.reset();
        assert_eq!(stats.summary(), OfferStats::default());
    }
}
