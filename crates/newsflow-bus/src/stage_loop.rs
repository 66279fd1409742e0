//! The transport loop of a stage, kept apart from per-message logic so the
//! delivery policy lives in one place and stages stay pure.
//!
//! Every message ends in exactly one of: ack (outputs stored), nak with a
//! delay (transient failure, attempts left), or term after its DLQ record
//! is stored (poison, refusal, attempts exhausted). If the DLQ publish itself
//! fails the message is NAKed instead: a message is never terminated without
//! a record of why.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer};
use bytes::Bytes;
use chrono::Utc;
use futures::{FutureExt, StreamExt};
use newsflow_core::{DlqRecord, Envelope, Event, Stage, StageError, subjects};
use tracing::{Instrument, debug, info, info_span, warn};

use crate::{Bus, BusError, blob};

/// Counters of one `run_stage` call, for tests and the shutdown log line.
#[derive(Debug, Default)]
pub struct StageStats {
    /// Messages acked after their outputs were stored.
    pub acked: AtomicU64,
    /// Messages NAKed for a later retry.
    pub retried: AtomicU64,
    /// Messages terminated after a DLQ record.
    pub dead_lettered: AtomicU64,
    /// Waits in place while a dependency was down.
    pub outage_waits: AtomicU64,
    /// Times a message was set aside because the stage deferred it.
    pub deferred: AtomicU64,
}

/// Longest deferral parked in the process. A message parked counts against
/// the consumer's `max_ack_pending`, so one busy host deferring its whole
/// backlog far ahead could stop deliveries for every other host; a longer
/// deferral is NAKed with its delay instead (the server holds it, and it
/// counts as an attempt).
const PARK_MAX: Duration = Duration::from_secs(60);

/// Messages set aside by [`StageError::Defer`], each in its own task until
/// its time comes, so they hold no slot of `max_in_flight`.
struct Parking {
    tasks: std::sync::Mutex<tokio::task::JoinSet<()>>,
    /// Becomes true when the stage stops.
    stop: tokio::sync::watch::Receiver<bool>,
}

impl Parking {
    /// A future that resolves when the stage stops, owning what it needs.
    fn stopped(&self) -> futures::future::Shared<futures::future::BoxFuture<'static, ()>> {
        let mut stop = self.stop.clone();
        async move {
            let _ = stop.wait_for(|s| *s).await;
        }
        .boxed()
        .shared()
    }
}

struct Delivery {
    stream: String,
    sequence: u64,
    delivered: u64,
}

enum Outcome {
    Ack,
    Nak(Duration),
    /// Not now: set the message aside for this long, without spending a
    /// delivery.
    Defer(Duration),
    /// A dependency is down: hold the message and try again in place.
    Outage {
        kind: String,
        reason: String,
        article_id: Option<String>,
        trace_id: Option<String>,
    },
    DeadLetter {
        kind: String,
        message: String,
        article_id: Option<String>,
        trace_id: Option<String>,
    },
}

impl Bus {
    /// Run `stage` on its input subject until `shutdown` resolves, then stop
    /// pulling, finish the messages in flight, and return.
    ///
    /// Replicas of a stage (in this process or others) share one durable
    /// consumer named after the stage, so each message goes to one of them.
    pub async fn run_stage<S: Stage>(
        &self,
        stage: Arc<S>,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<Arc<StageStats>, BusError> {
        let stats = Arc::new(StageStats::default());
        let shutdown = shutdown.boxed().shared();
        let settings = self.config().consumer.clone();
        let consumer = self.stage_consumer::<S>().await?;
        let (stop_parked, stop) = tokio::sync::watch::channel(false);
        let parking = Arc::new(Parking {
            tasks: std::sync::Mutex::new(tokio::task::JoinSet::new()),
            stop,
        });
        info!(stage = S::NAME, subject = S::In::SUBJECT, "stage started");
        loop {
            let messages = consumer
                .stream()
                .max_messages_per_batch(settings.max_in_flight)
                .heartbeat(Duration::from_secs(5))
                .expires(Duration::from_secs(30))
                .messages()
                .await;
            let messages = match messages {
                Ok(m) => m,
                Err(e) => {
                    warn!(stage = S::NAME, error = %e, "cannot pull; retrying in 1 s");
                    tokio::select! {
                        _ = shutdown.clone() => break,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            messages
                .take_until(shutdown.clone())
                .for_each_concurrent(settings.max_in_flight, |item| {
                    let stage = stage.clone();
                    let stats = stats.clone();
                    let shutdown = shutdown.clone();
                    let parking = parking.clone();
                    async move {
                        match item {
                            Ok(message) => {
                                self.process(stage, message, stats, shutdown, &parking)
                                    .await;
                            }
                            // Missed heartbeats and similar: the pull stream
                            // recovers by itself; nothing was delivered.
                            Err(e) => debug!(stage = S::NAME, error = %e, "pull stream notice"),
                        }
                    }
                })
                .await;
            if shutdown.clone().now_or_never().is_some() {
                break;
            }
            warn!(stage = S::NAME, "message stream ended; resubscribing");
        }
        // Messages set aside are handed back to the server (NAKed) now.
        let _ = stop_parked.send(true);
        let mut parked = std::mem::take(
            &mut *parking
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        while parked.join_next().await.is_some() {}
        info!(
            stage = S::NAME,
            acked = stats.acked.load(Ordering::Relaxed),
            retried = stats.retried.load(Ordering::Relaxed),
            dead_lettered = stats.dead_lettered.load(Ordering::Relaxed),
            "stage stopped"
        );
        Ok(stats)
    }

    async fn stage_consumer<S: Stage>(&self) -> Result<consumer::PullConsumer, BusError> {
        let s = &self.config().consumer;
        let stream_name = subjects::stream_for(S::In::SUBJECT)
            .ok_or_else(|| BusError::Topology(format!("no stream for {}", S::In::SUBJECT)))?;
        let stream = self
            .js()
            .get_stream(stream_name)
            .await
            .map_err(|e| BusError::Topology(format!("stream {stream_name}: {e}")))?;
        // create_consumer creates or updates the durable, so a changed
        // ack_wait takes effect on restart. The server's delivery limit is
        // off: at that limit it would stop delivering a message silently
        // (only an advisory says so). The stage loop counts deliveries
        // itself and dead-letters, with the reason, what used them up.
        stream
            .create_consumer(consumer::pull::Config {
                durable_name: Some(S::NAME.to_string()),
                description: Some(format!("newsflow {} stage", S::NAME)),
                filter_subject: S::In::SUBJECT.to_string(),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(s.ack_wait_secs),
                max_deliver: -1,
                max_ack_pending: s.max_ack_pending,
                num_replicas: self.config().replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| BusError::Topology(format!("consumer {}: {e}", S::NAME)))
    }

    /// Handle one message from start to finish, telling the server all
    /// along that it is being worked on: decoding a large payload, keeping
    /// it in a DLQ record or waiting out an outage can outlast ack_wait, and
    /// a redelivery then would only start the same work over elsewhere.
    /// A deferred message is parked in a task of its own and this returns,
    /// freeing the slot.
    async fn process<S: Stage>(
        &self,
        stage: Arc<S>,
        message: jetstream::Message,
        stats: Arc<StageStats>,
        shutdown: impl Future<Output = ()> + Clone,
        parking: &Arc<Parking>,
    ) {
        let work = self.process_inner(&*stage, &message, &stats, shutdown);
        let Some(after) = with_progress(&message, self.progress_interval(), work).await else {
            return;
        };
        let bus = self.clone();
        let stop = parking.stopped();
        parking
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .spawn(async move { bus.park(stage, message, stats, stop, after).await });
    }

    /// Hold a deferred message (progress acks keep it ours) until its time,
    /// then handle it again; as often as the stage defers it, for at most
    /// `defer_max_secs` in all. Past that, or when the stage stops, it is
    /// NAKed like a retry, so the server redelivers it.
    async fn park<S: Stage>(
        self,
        stage: Arc<S>,
        message: jetstream::Message,
        stats: Arc<StageStats>,
        stop: impl Future<Output = ()> + Clone,
        mut after: Duration,
    ) {
        let budget = Duration::from_secs(self.config().consumer.defer_max_secs);
        let mut parked = Duration::ZERO;
        loop {
            stats.deferred.fetch_add(1, Ordering::Relaxed);
            let stopped = self.hold(&message, after, stop.clone()).await;
            parked += after;
            if stopped || parked > budget {
                stats.retried.fetch_add(1, Ordering::Relaxed);
                let delay = if stopped {
                    after.min(Duration::from_secs(5))
                } else {
                    after
                };
                if let Err(e) = message.ack_with(AckKind::Nak(Some(delay))).await {
                    debug!(stage = S::NAME, error = %e, "NAK of a parked message failed; it comes back after ack_wait");
                }
                return;
            }
            let work = self.process_inner(&*stage, &message, &stats, stop.clone());
            match with_progress(&message, self.progress_interval(), work).await {
                None => return,
                Some(next) => after = next,
            }
        }
    }

    /// Returns `Some(after)` when the stage deferred the message: nothing
    /// was acked and the caller parks it.
    async fn process_inner<S: Stage>(
        &self,
        stage: &S,
        message: &jetstream::Message,
        stats: &StageStats,
        shutdown: impl Future<Output = ()> + Clone,
    ) -> Option<Duration> {
        let delivery = match message.info() {
            Ok(i) => Delivery {
                stream: i.stream.to_string(),
                sequence: i.stream_sequence,
                delivered: u64::try_from(i.delivered).unwrap_or(1),
            },
            Err(e) => {
                warn!(stage = S::NAME, error = %e, "message without JetStream metadata; ignored");
                return None;
            }
        };
        let payload = match blob::resolve(self.js(), &message.message).await {
            Ok(p) => p,
            Err(e) => {
                let outcome = self.retry_or_give_up(
                    &delivery,
                    StageError::retry("blob", e.to_string()),
                    None,
                    None,
                );
                let payload = message.message.payload.clone();
                self.finish::<S>(message, &delivery, outcome, payload, stats)
                    .await;
                return None;
            }
        };
        let fallback_trace =
            newsflow_core::short_hash(&format!("{}:{}", delivery.stream, delivery.sequence));
        let settings = &self.config().consumer;
        let cap = S::In::MAX_BYTES.map_or(settings.max_input_bytes, |m| {
            m.min(settings.max_input_bytes)
        });
        if payload.len() > cap {
            let outcome = Outcome::DeadLetter {
                kind: "too_large".into(),
                message: format!(
                    "{} bytes, more than a {} event can be ({cap} bytes); not decoded",
                    payload.len(),
                    S::In::KIND
                ),
                article_id: None,
                trace_id: None,
            };
            self.finish::<S>(message, &delivery, outcome, payload, stats)
                .await;
            return None;
        }
        // Delivered more often than retries allow without ever reaching an
        // outcome: every earlier attempt crashed the process or outlived
        // ack_wait. Handling it again could crash again; it goes to the DLQ.
        let limit = u64::try_from(settings.max_deliver).unwrap_or(u64::MAX);
        if delivery.delivered > limit {
            let outcome = Outcome::DeadLetter {
                kind: "deliveries_exhausted".into(),
                message: format!(
                    "delivered {} times without an outcome: each attempt crashed the stage or outlived ack_wait",
                    delivery.delivered
                ),
                article_id: None,
                trace_id: None,
            };
            self.finish::<S>(message, &delivery, outcome, payload, stats)
                .await;
            return None;
        }
        let outage_budget = Duration::from_secs(settings.outage_max_secs);
        let mut waited = Duration::ZERO;
        let mut pause = Duration::from_millis(settings.backoff_base_ms.max(1));
        let outcome = loop {
            let outcome = match S::In::decode(&payload, &fallback_trace) {
                Err(e) => Outcome::DeadLetter {
                    kind: e.kind().to_string(),
                    message: e.to_string(),
                    article_id: None,
                    trace_id: None,
                },
                Ok(input) => {
                    let span = info_span!(
                        "message",
                        stage = S::NAME,
                        article_id = %input.article_id,
                        trace_id = %input.trace_id,
                        seq = delivery.sequence,
                        attempt = delivery.delivered,
                    );
                    self.handle::<S>(stage, message, &delivery, input)
                        .instrument(span)
                        .await
                }
            };
            let (kind, reason, article_id, trace_id) = match outcome {
                Outcome::Defer(after) => return Some(after),
                Outcome::Outage {
                    kind,
                    reason,
                    article_id,
                    trace_id,
                } => (kind, reason, article_id, trace_id),
                outcome => break outcome,
            };
            // The input is fine and a dependency is down: wait here (the
            // server keeps the message ours through progress acks) rather
            // than spend a delivery attempt per retry, and so turn an outage
            // into dead letters. A stopping stage or an outage longer than
            // the budget falls back to the counted retries.
            let stopping = shutdown.clone().now_or_never().is_some();
            if stopping || waited >= outage_budget {
                break self.retry_or_give_up(
                    &delivery,
                    StageError::retry(kind, reason),
                    article_id,
                    trace_id,
                );
            }
            if waited.is_zero() {
                warn!(
                    stage = S::NAME,
                    kind,
                    reason,
                    "dependency unavailable; holding the message and retrying in place"
                );
            } else {
                debug!(
                    stage = S::NAME,
                    kind,
                    reason,
                    waited_ms = waited.as_millis() as u64,
                    "still unavailable"
                );
            }
            stats.outage_waits.fetch_add(1, Ordering::Relaxed);
            let interrupted = self.hold(message, pause, shutdown.clone()).await;
            waited += pause;
            pause = (pause * 2).min(
                Duration::from_millis(settings.backoff_max_ms.max(1)).min(Duration::from_secs(5)),
            );
            if interrupted {
                waited = outage_budget;
            }
        };
        self.finish::<S>(message, &delivery, outcome, payload, stats)
            .await;
        None
    }

    async fn handle<S: Stage>(
        &self,
        stage: &S,
        message: &jetstream::Message,
        delivery: &Delivery,
        input: Envelope<S::In>,
    ) -> Outcome {
        let article_id = input.article_id.clone();
        let trace_id = input.trace_id.clone();
        let work = AssertUnwindSafe(stage.handle(input)).catch_unwind();
        let result = with_progress(message, self.progress_interval(), work).await;
        let outputs = match result {
            Err(_) => {
                return Outcome::DeadLetter {
                    kind: "panic".into(),
                    message: format!("the {} stage panicked on this input", S::NAME),
                    article_id: Some(article_id),
                    trace_id: Some(trace_id),
                };
            }
            Ok(Err(StageError::Defer {
                kind,
                reason,
                after,
            })) if after <= PARK_MAX => {
                debug!(
                    stage = S::NAME,
                    kind,
                    reason,
                    after_ms = after.as_millis() as u64,
                    "deferred"
                );
                return Outcome::Defer(after);
            }
            Ok(Err(StageError::Unavailable { kind, reason })) => {
                return Outcome::Outage {
                    kind,
                    reason,
                    article_id: Some(article_id),
                    trace_id: Some(trace_id),
                };
            }
            Ok(Err(error)) => {
                return self.retry_or_give_up(delivery, error, Some(article_id), Some(trace_id));
            }
            Ok(Ok(outputs)) => outputs,
        };
        for (index, output) in outputs.iter().enumerate() {
            // Derived from the input's place in its stream, so a redelivery
            // after a crash between publish and ack republishes the same id
            // and JetStream drops the copy.
            let msg_id = format!(
                "{}:{}:{}:{}:{}",
                S::Out::KIND,
                output.article_id,
                delivery.stream,
                delivery.sequence,
                index
            );
            if let Err(e) = self.publish(output, &msg_id).await {
                // NATS (or the output stream) is unavailable: redone in
                // place; outputs already published are dropped by their ids.
                return Outcome::Outage {
                    kind: "publish".into(),
                    reason: e.to_string(),
                    article_id: Some(article_id),
                    trace_id: Some(trace_id),
                };
            }
        }
        Outcome::Ack
    }

    fn retry_or_give_up(
        &self,
        delivery: &Delivery,
        error: StageError,
        article_id: Option<String>,
        trace_id: Option<String>,
    ) -> Outcome {
        let settings = &self.config().consumer;
        match error {
            // Reached once the outage budget is spent: counted like any retry.
            StageError::Unavailable { kind, reason } => self.retry_or_give_up(
                delivery,
                StageError::retry(kind, reason),
                article_id,
                trace_id,
            ),
            StageError::Reject { kind, reason } => Outcome::DeadLetter {
                kind,
                message: reason,
                article_id,
                trace_id,
            },
            StageError::Defer {
                kind,
                reason,
                after,
            } => self.retry_or_give_up(
                delivery,
                StageError::Retry {
                    kind,
                    reason,
                    after: Some(after),
                },
                article_id,
                trace_id,
            ),
            StageError::Retry {
                kind,
                reason,
                after,
            } => {
                if i64::try_from(delivery.delivered).unwrap_or(i64::MAX) >= settings.max_deliver {
                    Outcome::DeadLetter {
                        kind: "retries_exhausted".into(),
                        message: format!(
                            "gave up after {} attempts; last error {kind}: {reason}",
                            delivery.delivered
                        ),
                        article_id,
                        trace_id,
                    }
                } else {
                    let delay = settings
                        .backoff(delivery.delivered)
                        .max(after.unwrap_or_default());
                    warn!(
                        kind,
                        reason,
                        delay_ms = delay.as_millis() as u64,
                        "transient failure"
                    );
                    Outcome::Nak(delay)
                }
            }
        }
    }

    async fn finish<S: Stage>(
        &self,
        message: &jetstream::Message,
        delivery: &Delivery,
        outcome: Outcome,
        payload: Bytes,
        stats: &StageStats,
    ) {
        let result = match outcome {
            Outcome::Ack => {
                stats.acked.fetch_add(1, Ordering::Relaxed);
                message.double_ack().await
            }
            // process() turns outages into a wait or a counted retry; an
            // outage reaching here is retried like any transient failure.
            Outcome::Nak(_) | Outcome::Defer(_) | Outcome::Outage { .. } => {
                let delay = match outcome {
                    Outcome::Nak(delay) | Outcome::Defer(delay) => delay,
                    _ => self.config().consumer.backoff(delivery.delivered),
                };
                stats.retried.fetch_add(1, Ordering::Relaxed);
                message.ack_with(AckKind::Nak(Some(delay))).await
            }
            Outcome::DeadLetter {
                kind,
                message: reason,
                article_id,
                trace_id,
            } => {
                warn!(stage = S::NAME, kind, reason, "dead-lettering message");
                let record = dlq_record::<S>(
                    message, delivery, &payload, kind, reason, article_id, trace_id,
                );
                match self.publish_dlq(S::NAME, delivery, &record).await {
                    Ok(()) => {
                        stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
                        message.double_ack_with(AckKind::Term).await
                    }
                    Err(e) => {
                        warn!(error = %e, "DLQ publish failed; NAKing so nothing is lost");
                        stats.retried.fetch_add(1, Ordering::Relaxed);
                        let delay = self.config().consumer.backoff(delivery.delivered);
                        message.ack_with(AckKind::Nak(Some(delay))).await
                    }
                }
            }
        };
        if let Err(e) = result {
            // The server will redeliver after ack_wait; outputs are deduplicated.
            warn!(stage = S::NAME, error = %e, "acknowledgement failed; the message will be redelivered");
        }
    }

    async fn publish_dlq(
        &self,
        stage: &str,
        delivery: &Delivery,
        record: &Envelope<DlqRecord>,
    ) -> Result<(), BusError> {
        let msg_id = format!("dlq:{stage}:{}:{}", delivery.stream, delivery.sequence);
        self.publish_bytes(
            &subjects::dlq(stage),
            Bytes::from(record.to_bytes()),
            &msg_id,
        )
        .await
        .map(|_| ())
    }

    /// Keep `message` ours (progress acks) for `pause`; true when `stop`
    /// came first.
    async fn hold(
        &self,
        message: &jetstream::Message,
        pause: Duration,
        stop: impl Future<Output = ()>,
    ) -> bool {
        tokio::select! {
            _ = with_progress(message, self.progress_interval(), tokio::time::sleep(pause)) => false,
            _ = stop => true,
        }
    }

    fn progress_interval(&self) -> Duration {
        Duration::from_secs(self.config().consumer.ack_wait_secs.max(3) / 3)
    }
}

/// Run `work`, telling the server every `interval` that the message is still
/// being worked on, so a slow page is not redelivered to another replica.
async fn with_progress<F: Future>(
    message: &jetstream::Message,
    interval: Duration,
    work: F,
) -> F::Output {
    let mut work = std::pin::pin!(work);
    let mut ticker = tokio::time::interval(interval);
    ticker.tick().await;
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = ticker.tick() => {
                if let Err(e) = message.ack_with(AckKind::Progress).await {
                    debug!(error = %e, "progress ack failed");
                }
            }
        }
    }
}

fn dlq_record<S: Stage>(
    message: &jetstream::Message,
    delivery: &Delivery,
    payload: &[u8],
    error_kind: String,
    reason: String,
    article_id: Option<String>,
    trace_id: Option<String>,
) -> Envelope<DlqRecord> {
    let (original, original_base64) = match std::str::from_utf8(payload) {
        Ok(text) => (Some(text.to_string()), None),
        Err(_) => (None, Some(newsflow_core::base64::encode(payload))),
    };
    let record = DlqRecord {
        stage: S::NAME.to_string(),
        subject: message.subject.to_string(),
        stream_sequence: delivery.sequence,
        error_kind,
        message: reason,
        attempts: delivery.delivered,
        time: Utc::now(),
        article_id: article_id.clone(),
        trace_id: trace_id.clone(),
        original,
        original_base64,
    };
    Envelope::new(
        article_id.unwrap_or_default(),
        trace_id.unwrap_or_default(),
        record,
    )
}
