//! Restart strategies: whether, and after how long, the job restarts after a failure — as
//! Flink's `restart-strategy` options decide it.
//!
//! A sans-IO state machine: told each failure and its time (and handed the restart stream
//! for jitter), it answers with a delay or gives up. Giving up fails the job for good, which
//! a run reports as its own verdict (`restarts-exhausted`), never a pass.

use crate::kernel::rng::SimRng;
use crate::kernel::time::{SimDuration, SimTime};
use std::collections::VecDeque;

/// How the job restarts after failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartStrategy {
    /// Never: the first failure fails the job.
    None,
    /// After `delay`, at most `max_attempts` times (`None`: without limit).
    FixedDelay {
        /// The wait before each restart.
        delay: SimDuration,
        /// The most restarts allowed; `None`: without limit.
        max_attempts: Option<u32>,
    },
    /// After a backoff that starts at `initial`, grows by `multiplier_percent` / 100 per
    /// failure up to `max`, varies by ±`jitter_percent`, and goes back to `initial` after
    /// `reset_after` without a failure; at most `max_attempts` times (`None`: without limit).
    ExponentialDelay {
        /// The first backoff, and the one used again after `reset_after` without a failure.
        initial: SimDuration,
        /// The largest backoff.
        max: SimDuration,
        /// The backoff's growth per failure, in percent (200 doubles it).
        multiplier_percent: u32,
        /// How far each backoff varies either way, in percent.
        jitter_percent: u32,
        /// How long without a failure resets the backoff to `initial`.
        reset_after: SimDuration,
        /// The most restarts allowed; `None`: without limit.
        max_attempts: Option<u32>,
    },
    /// After `delay`, unless more than `max_failures` failures fell within `interval`.
    FailureRate {
        /// The most failures allowed within `interval`.
        max_failures: u32,
        /// The sliding window failures are counted in.
        interval: SimDuration,
        /// The wait before each restart.
        delay: SimDuration,
    },
}

/// What the strategy decides about one failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartDecision {
    /// Restart after this delay.
    RestartAfter(SimDuration),
    /// Fail the job for good.
    GiveUp,
}

/// A strategy and the failures it has seen.
#[derive(Clone, Debug)]
pub struct Restarts {
    strategy: RestartStrategy,
    attempts: u32,
    backoff: SimDuration,
    last_failure: Option<SimTime>,
    recent_failures: VecDeque<SimTime>,
}

impl Restarts {
    /// No failure seen yet.
    pub fn new(strategy: RestartStrategy) -> Restarts {
        let backoff = match strategy {
            RestartStrategy::ExponentialDelay { initial, .. } => initial,
            _ => SimDuration::ZERO,
        };
        Restarts { strategy, attempts: 0, backoff, last_failure: None, recent_failures: VecDeque::new() }
    }

    /// Decides about a failure at `now`; `jitter` is drawn from only by exponential delay.
    pub fn on_failure(&mut self, now: SimTime, jitter: &mut SimRng) -> RestartDecision {
        let since_last = self.last_failure.map(|last| now.since(last));
        self.last_failure = Some(now);
        self.attempts += 1;
        let within = |max_attempts: Option<u32>, attempts: u32| max_attempts.is_none_or(|max| attempts <= max);
        match self.strategy {
            RestartStrategy::None => RestartDecision::GiveUp,
            RestartStrategy::FixedDelay { delay, max_attempts } => {
                if within(max_attempts, self.attempts) {
                    RestartDecision::RestartAfter(delay)
                } else {
                    RestartDecision::GiveUp
                }
            }
            RestartStrategy::ExponentialDelay {
                initial,
                max,
                multiplier_percent,
                jitter_percent,
                reset_after,
                max_attempts,
            } => {
                if since_last.is_some_and(|quiet| quiet >= reset_after) {
                    self.backoff = initial;
                    self.attempts = 1;
                }
                if !within(max_attempts, self.attempts) {
                    return RestartDecision::GiveUp;
                }
                let base = self.backoff.as_nanos();
                let spread = base / 100 * u64::from(jitter_percent);
                let delay = base - spread + jitter.in_range(0, spread * 2);
                let grown = base.saturating_mul(u64::from(multiplier_percent)) / 100;
                self.backoff = SimDuration::from_nanos(grown.clamp(initial.as_nanos(), max.as_nanos()));
                RestartDecision::RestartAfter(SimDuration::from_nanos(delay))
            }
            RestartStrategy::FailureRate { max_failures, interval, delay } => {
                self.recent_failures.push_back(now);
                while self.recent_failures.front().is_some_and(|&failure| now.since(failure) > interval) {
                    self.recent_failures.pop_front();
                }
                if self.recent_failures.len() > max_failures as usize {
                    RestartDecision::GiveUp
                } else {
                    RestartDecision::RestartAfter(delay)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::rng::{Seed, Stream};

    fn ms(millis: u64) -> SimDuration {
        SimDuration::from_millis(millis)
    }

    fn at(millis: u64) -> SimTime {
        SimTime::ZERO.after(ms(millis))
    }

    fn decisions(strategy: RestartStrategy, failures_at: &[u64]) -> Vec<RestartDecision> {
        let mut restarts = Restarts::new(strategy);
        let mut rng = SimRng::open(Seed(1), Stream::Restarts);
        failures_at.iter().map(|&millis| restarts.on_failure(at(millis), &mut rng)).collect()
    }

    #[test]
    fn fixed_delay_restarts_up_to_its_attempts() {
        let strategy = RestartStrategy::FixedDelay { delay: ms(10), max_attempts: Some(2) };
        let wait = RestartDecision::RestartAfter(ms(10));
        assert_eq!(decisions(strategy, &[0, 50, 100]), [wait, wait, RestartDecision::GiveUp]);
        let unlimited = RestartStrategy::FixedDelay { delay: ms(10), max_attempts: None };
        assert!(decisions(unlimited, &[0; 50]).iter().all(|&decision| decision == wait));
        assert_eq!(decisions(RestartStrategy::None, &[0]), [RestartDecision::GiveUp]);
    }

    #[test]
    fn exponential_delay_grows_to_its_max_jitters_and_resets_after_quiet() {
        let exponential = |jitter_percent| RestartStrategy::ExponentialDelay {
            initial: ms(10),
            max: ms(50),
            multiplier_percent: 200,
            jitter_percent,
            reset_after: ms(1_000),
            max_attempts: None,
        };
        let strategy = exponential(0);
        let delays: Vec<RestartDecision> = decisions(strategy, &[0, 20, 40, 60, 80, 2_000]);
        let expected = [10, 20, 40, 50, 50, 10].map(|millis| RestartDecision::RestartAfter(ms(millis)));
        assert_eq!(delays, expected);
        for decision in decisions(exponential(10), &[0, 20, 40]) {
            let RestartDecision::RestartAfter(delay) = decision else { panic!("{decision:?}") };
            assert!(delay >= ms(9) && delay <= ms(44), "{delay:?}");
        }
    }

    #[test]
    fn failure_rate_gives_up_when_too_many_failures_fall_in_the_interval() {
        let strategy = RestartStrategy::FailureRate { max_failures: 2, interval: ms(100), delay: ms(5) };
        let wait = RestartDecision::RestartAfter(ms(5));
        assert_eq!(decisions(strategy, &[0, 50, 200, 250]), [wait, wait, wait, wait], "never more than 2 per 100 ms");
        assert_eq!(decisions(strategy, &[0, 30, 60]), [wait, wait, RestartDecision::GiveUp]);
    }
}
