//! The per-host schedule shared by every replica: one KV record per
//! origin holding the earliest time the next request may start.
//!
//! A fetch *reserves* a slot: it reads the record, takes
//! `slot = max(now, next)`, and writes `next = slot + interval` with a
//! compare-and-set on the revision it read. Two replicas racing for the
//! same host cannot both win the write, so the loser re-reads and takes the
//! following slot: requests to a host start at least `interval` apart
//! whatever the number of replicas. The winner then sleeps until its slot.
//!
//! A slot within `max_wait` is waited for in-process. A later one is
//! still reserved, but for a *ticket* (the message's identity, stable
//! across redeliveries): the caller is told to come back shortly before it
//! (the stage NAKs the message with that delay), and the redelivery takes
//! the ticketed slot. No busy loop, no worker parked for minutes on one
//! slow site, and a long queue for one host costs each message about one
//! NAK, not one per round. A ticket whose message does not come back in
//! time leaves its slot unused: the host just gets a little less traffic.
//!
//! Times are wall-clock milliseconds, so replicas must have synchronised
//! clocks (NTP); a skew of `d` shortens or lengthens one gap by `d`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use newsflow_core::short_hash;

use crate::FetchError;
use crate::kv::{KvError, KvStore};

/// Compare-and-set attempts before a reservation gives up and reports the
/// host busy (only under heavy contention for one host).
const MAX_CAS_ATTEMPTS: usize = 16;

/// Farthest ahead a slot is reserved for a message that will come back
/// for it (well inside the hosts bucket's max age, so tickets outlive it).
pub(crate) const MAX_HORIZON: Duration = Duration::from_secs(15 * 60);

/// The answer to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Reserved; start the request after this wait.
    Reserved(Duration),
    /// Not now: retry after this long (the message is NAKed with it).
    Busy(Duration),
}

/// What one read-modify-write decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Reserved(Duration),
    /// Reserved for later: the slot (Unix ms) and the wait until it.
    Ticket(u64, Duration),
    Busy(Duration),
}

/// When to come back for a ticketed slot `wait` away: half the in-process
/// wait bound early, so a redelivery a little late still makes it.
fn come_back(wait: Duration, max_wait: Duration) -> Duration {
    wait.saturating_sub(max_wait / 2)
        .max(Duration::from_millis(1))
}

#[derive(Clone)]
pub(crate) struct HostSchedule {
    kv: Arc<dyn KvStore>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The KV key of an origin. Keys allow only a few characters, and origins
/// hold `:` and `[`, so the key is a hash; the value names the origin for
/// whoever inspects the bucket.
pub(crate) fn key(origin: &str) -> String {
    format!("host.{}", short_hash(origin))
}

/// The KV key of one message's reserved slot on one origin.
fn ticket_key(origin: &str, ticket: &str) -> String {
    format!("ticket.{}", short_hash(&format!("{origin}|{ticket}")))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Ticket {
    /// The reserved slot, Unix ms; 0 once used.
    slot_ms: u64,
    origin: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    /// Earliest start of the next request, Unix milliseconds.
    next_ms: u64,
    /// `scheme://host:port`, for people reading the bucket.
    origin: String,
}

fn store_error(e: KvError) -> FetchError {
    FetchError::Store(e.to_string())
}

impl HostSchedule {
    pub(crate) fn new(kv: Arc<dyn KvStore>) -> Self {
        Self { kv }
    }

    /// Reserve the next request slot of `origin`, `interval` after the
    /// previous one.
    ///
    /// Within `max_wait`: [`Slot::Reserved`], wait and go. Further away
    /// (and within [`MAX_HORIZON`]) and with a `ticket` (stable across
    /// redeliveries of one message): the slot is reserved all the same and
    /// remembered under the ticket, and the answer is [`Slot::Busy`] with
    /// the time to come back, a little before the slot; the redelivered
    /// message finds its ticket and takes its slot. So a message queued
    /// behind many others for one host is NAKed about once, not once per
    /// round, and does not use up its deliveries.
    pub(crate) async fn reserve(
        &self,
        origin: &str,
        interval: Duration,
        max_wait: Duration,
        ticket: Option<&str>,
    ) -> Result<Slot, FetchError> {
        if let Some(ticket) = ticket
            && let Some(slot) = self.use_ticket(origin, ticket, interval, max_wait).await?
        {
            return Ok(slot);
        }
        let horizon = MAX_HORIZON.max(max_wait);
        let answer = self
            .update(origin, |now, next| {
                let slot = now.max(next);
                let wait = Duration::from_millis(slot - now);
                let next = slot.saturating_add(millis(interval));
                if wait <= max_wait {
                    Ok((next, Step::Reserved(wait)))
                } else if ticket.is_none() {
                    Err(Step::Busy(wait))
                } else if wait <= horizon {
                    Ok((next, Step::Ticket(slot, wait)))
                } else {
                    // Not reserved: come back when a ticket is possible.
                    Err(Step::Busy(wait.saturating_sub(horizon / 2)))
                }
            })
            .await?;
        match (answer, ticket) {
            (Step::Reserved(wait), _) => Ok(Slot::Reserved(wait)),
            (Step::Busy(after), _) => Ok(Slot::Busy(after.max(Duration::from_millis(1)))),
            (Step::Ticket(slot, wait), Some(ticket)) => {
                let value = Bytes::from(
                    serde_json::to_vec(&Ticket {
                        slot_ms: slot,
                        origin: origin.to_string(),
                    })
                    .unwrap_or_default(),
                );
                self.kv
                    .put(&ticket_key(origin, ticket), value)
                    .await
                    .map_err(store_error)?;
                Ok(Slot::Busy(come_back(wait, max_wait)))
            }
            (Step::Ticket(_, wait), None) => Ok(Slot::Busy(wait)),
        }
    }

    /// The slot a ticket holds, if it is still good: not used, and not
    /// missed by more than a tenth of the interval (going later would
    /// crowd the request after it).
    async fn use_ticket(
        &self,
        origin: &str,
        ticket: &str,
        interval: Duration,
        max_wait: Duration,
    ) -> Result<Option<Slot>, FetchError> {
        let key = ticket_key(origin, ticket);
        let Some(entry) = self.kv.get(&key).await.map_err(store_error)? else {
            return Ok(None);
        };
        let Ok(held) = serde_json::from_slice::<Ticket>(&entry.value) else {
            return Ok(None);
        };
        let now = now_ms();
        let tolerance = millis((interval / 10).min(Duration::from_millis(250)));
        if held.slot_ms == 0 || held.slot_ms.saturating_add(tolerance) < now {
            return Ok(None);
        }
        let wait = Duration::from_millis(held.slot_ms.saturating_sub(now));
        if wait > max_wait {
            // Back too early (a shorter NAK delay than asked): again.
            return Ok(Some(Slot::Busy(come_back(wait, max_wait))));
        }
        // A ticket is good once: a second hop to the same host takes a
        // new slot.
        let used = Bytes::from(
            serde_json::to_vec(&Ticket {
                slot_ms: 0,
                origin: origin.to_string(),
            })
            .unwrap_or_default(),
        );
        self.kv.put(&key, used).await.map_err(store_error)?;
        Ok(Some(Slot::Reserved(wait)))
    }

    /// Push the host's next slot to at least `after` from now (the host
    /// answered 429 or 503 with `Retry-After`), for every replica.
    pub(crate) async fn defer(&self, origin: &str, after: Duration) -> Result<(), FetchError> {
        self.update(origin, |now, next| {
            let until = now.saturating_add(millis(after));
            if next >= until {
                Err(Step::Reserved(Duration::ZERO))
            } else {
                Ok((until, Step::Reserved(Duration::ZERO)))
            }
        })
        .await
        .map(|_| ())
    }

    /// Read-modify-write of one record with compare-and-set. `decide`
    /// gets (now, next) and returns the new `next` and the answer, or an
    /// answer without writing.
    async fn update(
        &self,
        origin: &str,
        decide: impl Fn(u64, u64) -> Result<(u64, Step), Step>,
    ) -> Result<Step, FetchError> {
        let key = key(origin);
        let mut last_next = now_ms();
        for _ in 0..MAX_CAS_ATTEMPTS {
            let entry = self.kv.get(&key).await.map_err(store_error)?;
            let next = entry
                .as_ref()
                .and_then(|e| serde_json::from_slice::<Record>(&e.value).ok())
                .map_or(0, |r| r.next_ms);
            let now = now_ms();
            last_next = next.max(now);
            let (new_next, answer) = match decide(now, next) {
                Ok(write) => write,
                Err(answer) => return Ok(answer),
            };
            let value = Bytes::from(
                serde_json::to_vec(&Record {
                    next_ms: new_next,
                    origin: origin.to_string(),
                })
                .unwrap_or_default(),
            );
            let written = match entry {
                Some(e) => self.kv.update(&key, value, e.revision).await,
                None => self.kv.create(&key, value).await,
            };
            match written {
                Ok(_) => return Ok(answer),
                Err(KvError::Conflict) => continue,
                Err(e) => return Err(store_error(e)),
            }
        }
        // Lost every race: many replicas want this host at once. It is
        // certainly not due sooner than the last slot seen.
        Ok(Step::Busy(Duration::from_millis(
            last_next.saturating_sub(now_ms()).max(1),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::MemoryKv;

    fn schedule() -> HostSchedule {
        HostSchedule::new(Arc::new(MemoryKv::new(Duration::from_secs(60))))
    }

    fn reserved(slot: Slot) -> Duration {
        match slot {
            Slot::Reserved(d) => d,
            Slot::Busy(d) => panic!("busy for {d:?}"),
        }
    }

    #[tokio::test]
    async fn slots_are_spaced_by_the_interval() {
        let s = schedule();
        let i = Duration::from_millis(200);
        let max = Duration::from_secs(1);
        assert_eq!(
            reserved(s.reserve("http://a", i, max, None).await.unwrap()),
            Duration::ZERO
        );
        let second = reserved(s.reserve("http://a", i, max, None).await.unwrap());
        assert!(
            second > Duration::from_millis(150) && second <= i,
            "{second:?}"
        );
        let third = reserved(s.reserve("http://a", i, max, None).await.unwrap());
        assert!(third > Duration::from_millis(350), "{third:?}");
        // Another origin has its own schedule.
        assert_eq!(
            reserved(s.reserve("http://b", i, max, None).await.unwrap()),
            Duration::ZERO
        );
        // Past max_wait: busy, with the time until the host is due.
        let busy = s
            .reserve("http://a", i, Duration::from_millis(100), None)
            .await
            .unwrap();
        assert!(
            matches!(busy, Slot::Busy(d) if d > Duration::from_millis(500)),
            "{busy:?}"
        );
    }

    #[tokio::test]
    async fn defer_pushes_the_next_slot() {
        let s = schedule();
        s.defer("http://a", Duration::from_secs(5)).await.unwrap();
        let slot = s
            .reserve("http://a", Duration::ZERO, Duration::from_secs(1), None)
            .await
            .unwrap();
        assert!(
            matches!(slot, Slot::Busy(d) if d > Duration::from_secs(4)),
            "{slot:?}"
        );
        // A shorter deferral does not pull it back.
        s.defer("http://a", Duration::from_secs(1)).await.unwrap();
        let slot = s
            .reserve("http://a", Duration::ZERO, Duration::from_secs(2), None)
            .await
            .unwrap();
        assert!(matches!(slot, Slot::Busy(_)), "{slot:?}");
    }

    #[tokio::test]
    async fn racing_reservations_never_share_a_slot() {
        let s = schedule();
        let i = Duration::from_millis(10);
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move {
                    let slot = s.reserve("http://a", i, Duration::from_secs(5), None).await;
                    (now_ms(), slot)
                })
            })
            .collect();
        // Absolute start times, to a millisecond or two.
        let mut starts = Vec::new();
        for t in tasks {
            let (at, slot) = t.await.unwrap();
            starts.push(at + millis(reserved(slot.unwrap())));
        }
        starts.sort_unstable();
        for pair in starts.windows(2) {
            assert!(pair[1] >= pair[0] + 7, "{starts:?}");
        }
    }

    #[tokio::test]
    async fn tickets_hold_a_later_slot_across_a_retry() {
        let s = schedule();
        // The schedule runs on the wall clock (replicas share it): times
        // long enough that a loaded machine's delays between calls (up to
        // 100 ms) stay inside the tolerances.
        let i = Duration::from_millis(1000);
        let max = Duration::from_millis(400);
        // The first request goes now; the next three are further than
        // max_wait, so they get tickets, spaced by the interval.
        assert_eq!(
            reserved(s.reserve("http://a", i, max, Some("m0")).await.unwrap()),
            Duration::ZERO
        );
        let mut backs = Vec::new();
        for m in ["m1", "m2", "m3"] {
            match s.reserve("http://a", i, max, Some(m)).await.unwrap() {
                Slot::Busy(after) => backs.push(after),
                other => panic!("{other:?}"),
            }
        }
        // Come back 200 ms (max_wait / 2) before each slot.
        for (k, after) in backs.iter().enumerate() {
            let slot = i * (k as u32 + 1);
            assert!(
                *after <= slot - Duration::from_millis(150)
                    && *after >= slot - Duration::from_millis(300),
                "{k}: {after:?}"
            );
        }
        // Back early: told to wait again; on time: the ticketed slot.
        assert!(matches!(
            s.reserve("http://a", i, max, Some("m2")).await.unwrap(),
            Slot::Busy(_)
        ));
        tokio::time::sleep(backs[0]).await;
        let wait = reserved(s.reserve("http://a", i, max, Some("m1")).await.unwrap());
        assert!(wait <= max, "{wait:?}");
        // A ticket is used once: the same message asking again (another
        // hop) queues behind everyone.
        assert!(matches!(
            s.reserve("http://a", i, max, Some("m1")).await.unwrap(),
            Slot::Busy(_)
        ));
        // A message that missed its slot by more than a tenth of the
        // interval queues again rather than crowd the next request.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let late = s.reserve("http://a", i, max, Some("m3")).await.unwrap();
        assert!(
            matches!(late, Slot::Busy(_) | Slot::Reserved(_)),
            "{late:?}"
        );
        if let Slot::Reserved(wait) = late {
            panic!("stale ticket used: {wait:?}");
        }
    }

    #[tokio::test]
    async fn no_ticket_no_reservation_beyond_max_wait() {
        let s = schedule();
        let i = Duration::from_millis(500);
        s.reserve("http://a", i, i, None).await.unwrap();
        s.reserve("http://a", i, i, None).await.unwrap();
        // 1 s away, max_wait 100 ms, no ticket: busy, nothing reserved.
        let busy = s
            .reserve("http://a", i, Duration::from_millis(100), None)
            .await
            .unwrap();
        assert!(
            matches!(busy, Slot::Busy(d) if d > Duration::from_millis(800)),
            "{busy:?}"
        );
        let next = reserved(s.reserve("http://a", i, i * 3, None).await.unwrap());
        assert!(next <= Duration::from_secs(1), "{next:?}");
    }
}
