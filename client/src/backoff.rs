//! Capped exponential backoff with jitter, for re-subscribing.
//!
//! When a subscription is lost, every scheduler of a cluster may try to come
//! back at the same moment (a master failover cuts them all off at once).
//! Waiting longer after each failure keeps a struggling master from being
//! flooded, the cap keeps a scheduler from sleeping for ages after a long
//! outage, and the jitter spreads the retries of many schedulers apart.
//!
//! The bounds, which the tests check:
//!
//! * the ceiling for attempt `n` (counting from 0) is `min(max, min_delay * 2^n)`;
//! * the delay returned is drawn uniformly from `[ceiling / 2, ceiling]`
//!   ("equal jitter"), so it is never above `max` and never below `min / 2`;
//! * [`Backoff::reset`] starts again from `min` (done after a successful
//!   SUBSCRIBED, so a later failure is retried quickly).

use std::time::Duration;

const ONE_DAY: Duration = Duration::from_secs(86_400);

/// Delays between reconnection attempts. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// A backoff that starts at `min` and never waits longer than `max`.
    /// If `max < min`, `min` is used as the cap. Both are clamped to one day,
    /// which keeps the arithmetic far from overflow.
    pub fn new(min: Duration, max: Duration) -> Self {
        let min = min.min(ONE_DAY);
        Backoff {
            min,
            max: max.max(min).min(ONE_DAY),
            attempt: 0,
        }
    }

    /// The upper bound for the next delay: `min(max, min * 2^attempt)`.
    pub fn ceiling(&self) -> Duration {
        // 2^20 * min is far beyond any sensible cap; stop doubling there so
        // the multiplication can never overflow.
        let factor = 1u32 << self.attempt.min(20);
        self.min.saturating_mul(factor).min(self.max)
    }

    /// The delay before the next attempt; each call moves one attempt on.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        // A uniform point in [half, ceiling].
        half + (ceiling - half).mul_f64(random_fraction())
    }

    /// How many delays were handed out since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Starts again from `min`.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// A random number in `[0, 1]`, from the 122 random bits of a v4 UUID (the
/// `uuid` crate draws them from the OS), so we need no extra dependency.
fn random_fraction() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() as u64;
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_millis(500);
    const MAX: Duration = Duration::from_secs(15);

    #[test]
    fn never_above_max_and_never_below_half_min() {
        let mut backoff = Backoff::new(MIN, MAX);
        for _ in 0..200 {
            let delay = backoff.next_delay();
            assert!(delay <= MAX, "{delay:?}");
            assert!(delay >= MIN / 2, "{delay:?}");
        }
    }

    #[test]
    fn ceiling_grows_then_caps() {
        let mut backoff = Backoff::new(MIN, MAX);
        let mut ceilings = Vec::new();
        for _ in 0..8 {
            ceilings.push(backoff.ceiling());
            backoff.next_delay();
        }
        let secs: Vec<f64> = ceilings.iter().map(Duration::as_secs_f64).collect();
        assert_eq!(secs, [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0]);
    }

    #[test]
    fn jitter_stays_within_the_attempts_bounds() {
        let mut backoff = Backoff::new(MIN, MAX);
        for _ in 0..50 {
            let ceiling = backoff.ceiling();
            let delay = backoff.next_delay();
            assert!(
                delay >= ceiling / 2 && delay <= ceiling,
                "{delay:?} {ceiling:?}"
            );
        }
    }

    #[test]
    fn jitter_actually_varies() {
        let delays: Vec<Duration> = (0..20)
            .map(|_| Backoff::new(MAX, MAX).next_delay())
            .collect();
        assert!(delays.iter().any(|d| *d != delays[0]));
    }

    #[test]
    fn reset_starts_over() {
        let mut backoff = Backoff::new(MIN, MAX);
        for _ in 0..10 {
            backoff.next_delay();
        }
        assert_eq!(backoff.attempts(), 10);
        backoff.reset();
        assert_eq!(backoff.ceiling(), MIN);
    }

    #[test]
    fn many_attempts_do_not_overflow() {
        let mut backoff = Backoff::new(Duration::from_secs(3600), Duration::MAX);
        for _ in 0..100 {
            backoff.next_delay();
        }
        assert_eq!(backoff.ceiling(), ONE_DAY);
    }

    #[test]
    fn max_below_min_uses_min() {
        let mut backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(1));
        assert!(backoff.next_delay() <= Duration::from_secs(2));
    }
}
