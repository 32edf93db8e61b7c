//! Waiting for dStor to store an upload: polling with backoff, inside a deadline.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How an upload's status is polled once every chunk is sent.
///
/// The first poll is immediate; the waits between polls start at `initial`, double, and
/// stop growing at `max`. Once `deadline` has passed since the first poll, waiting stops
/// with [`StorageError::DeadlinePassed`](crate::StorageError::DeadlinePassed) (the upload
/// may still complete on dStor's side). A status this SDK does not know counts as progress.
///
/// ```
/// use std::time::Duration;
/// use dstor_storage::WaitPolicy;
///
/// let policy = WaitPolicy::default().with_deadline(Duration::from_secs(60));
/// assert_eq!(policy.interval(1), Duration::from_millis(250));
/// assert_eq!(policy.interval(10), Duration::from_secs(2));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitPolicy {
    /// The wait before the second poll (default 250 ms).
    pub initial: Duration,
    /// The longest wait between polls (default 2 s).
    pub max: Duration,
    /// How long to wait in all (default 10 minutes).
    pub deadline: Duration,
}

impl Default for WaitPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(2),
            deadline: Duration::from_secs(600),
        }
    }
}

impl WaitPolicy {
    /// Sets how long to wait in all.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets the first wait and the longest wait between polls.
    #[must_use]
    pub fn with_interval(mut self, initial: Duration, max: Duration) -> Self {
        self.initial = initial;
        self.max = max.max(initial);
        self
    }

    /// The wait after poll number `poll` (1-based): `initial · 2^(poll-1)`, at most `max`.
    pub fn interval(&self, poll: u32) -> Duration {
        let factor = 1u32 << poll.saturating_sub(1).min(20);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// What one poll found.
#[derive(Debug)]
pub(crate) enum Step<T> {
    /// Finished (stored, or failed for good).
    Finished(T),
    /// Still under way, in this phase.
    Pending(String),
}

/// Why waiting stopped without an answer.
#[derive(Debug)]
pub(crate) enum Stopped<E> {
    /// A poll failed.
    Failed(E),
    /// The deadline passed; the last phase seen, if any.
    Deadline {
        waited: Duration,
        last_phase: Option<String>,
    },
}

/// Polls until `poll` finishes or fails, or the deadline passes. `on_phase` hears each new
/// phase once.
pub(crate) async fn wait<T, E, F, Fut>(
    policy: &WaitPolicy,
    mut poll: F,
    mut on_phase: impl FnMut(&str),
) -> Result<T, Stopped<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Step<T>, E>>,
{
    let start = Instant::now();
    let deadline = start.checked_add(policy.deadline);
    let mut last_phase: Option<String> = None;
    let mut polls: u32 = 0;
    loop {
        polls = polls.saturating_add(1);
        let outcome = match deadline {
            Some(at) => match tokio::time::timeout_at(at, poll()).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    return Err(Stopped::Deadline {
                        waited: start.elapsed(),
                        last_phase,
                    });
                }
            },
            None => poll().await,
        };
        match outcome.map_err(Stopped::Failed)? {
            Step::Finished(value) => return Ok(value),
            Step::Pending(phase) => {
                if last_phase.as_deref() != Some(phase.as_str()) {
                    on_phase(&phase);
                    last_phase = Some(phase);
                }
            }
        }
        // A wake-up that cannot be represented is one past any deadline.
        let wake = Instant::now().checked_add(policy.interval(polls));
        match (wake, deadline) {
            (Some(wake), Some(at)) if wake < at => tokio::time::sleep_until(wake).await,
            (Some(wake), None) => tokio::time::sleep_until(wake).await,
            (_, Some(at)) => {
                tokio::time::sleep_until(at).await;
                return Err(Stopped::Deadline {
                    waited: start.elapsed(),
                    last_phase,
                });
            }
            (None, None) => std::future::pending::<()>().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// When each poll happened, since the start.
    type Seen = Arc<Mutex<Vec<Duration>>>;
    /// One scripted poll.
    type Polled = std::future::Ready<Result<Step<&'static str>, ()>>;

    /// A scripted status source that records when it was polled.
    fn script(steps: Vec<Step<&'static str>>) -> (Seen, impl FnMut() -> Polled) {
        let start = Instant::now();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let mut steps = steps.into_iter();
        let poll = move || {
            log.lock().unwrap().push(start.elapsed());
            std::future::ready(Ok(steps.next().unwrap_or(Step::Pending("X".into()))))
        };
        (seen, poll)
    }

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn polls_back_off_from_250_ms_to_2_s() {
        let mut steps: Vec<_> = (0..7)
            .map(|_| Step::Pending("ADDING_TO_IPFS".into()))
            .collect();
        steps.push(Step::Finished("stored"));
        let (seen, poll) = script(steps);
        let mut phases = Vec::new();
        let got = wait::<_, (), _, _>(&WaitPolicy::default(), poll, |p| phases.push(p.to_owned()))
            .await
            .unwrap();
        assert_eq!(got, "stored");
        assert_eq!(
            *seen.lock().unwrap(),
            ms(&[0, 250, 750, 1750, 3750, 5750, 7750, 9750])
        );
        assert_eq!(phases, ["ADDING_TO_IPFS"], "a phase is reported once");
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_status_is_progress_and_each_new_phase_is_reported() {
        let (_, poll) = script(vec![
            Step::Pending("ADDING_TO_IPFS".into()),
            Step::Pending("SOMETHING_NEW".into()),
            Step::Pending("SAVING_DATA".into()),
            Step::Finished("stored"),
        ]);
        let mut phases = Vec::new();
        let got =
            wait::<_, (), _, _>(&WaitPolicy::default(), poll, |p| phases.push(p.to_owned())).await;
        assert_eq!(got.unwrap(), "stored");
        assert_eq!(phases, ["ADDING_TO_IPFS", "SOMETHING_NEW", "SAVING_DATA"]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_stops_waiting_and_says_how_far_it_got() {
        let (seen, poll) = script(vec![]);
        let policy = WaitPolicy::default().with_deadline(Duration::from_secs(5));
        let started = Instant::now();
        let err = wait::<_, (), _, _>(&policy, poll, |_| {})
            .await
            .unwrap_err();
        match err {
            Stopped::Deadline { waited, last_phase } => {
                assert_eq!(waited, Duration::from_secs(5));
                assert_eq!(last_phase.as_deref(), Some("X"));
            }
            Stopped::Failed(()) => panic!("expected the deadline"),
        }
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert_eq!(*seen.lock().unwrap(), ms(&[0, 250, 750, 1750, 3750]));
    }

    #[tokio::test(start_paused = true)]
    async fn a_poll_that_hangs_is_cut_at_the_deadline() {
        let policy = WaitPolicy::default().with_deadline(Duration::from_secs(3));
        let err = wait::<(), (), _, _>(&policy, std::future::pending, |_| {})
            .await
            .unwrap_err();
        assert!(
            matches!(err, Stopped::Deadline { waited, last_phase: None } if waited == Duration::from_secs(3))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_poll_stops_waiting_at_once() {
        let started = Instant::now();
        let err = wait::<(), _, _, _>(
            &WaitPolicy::default(),
            || std::future::ready(Err::<Step<()>, _>("broken")),
            |_| {},
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Stopped::Failed("broken")));
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[test]
    fn intervals_never_overflow() {
        let policy = WaitPolicy::default().with_interval(Duration::MAX, Duration::MAX);
        assert_eq!(policy.interval(u32::MAX), Duration::MAX);
        assert_eq!(
            WaitPolicy::default().interval(0),
            Duration::from_millis(250)
        );
    }
}
