//! Chaos, bounded: 300 URLs over 20 virtual hosts (some slow, some failing
//! once with 500, some missing) flow through the four stages as separate
//! processes while stage processes are killed with SIGKILL, nats-server is
//! stopped and started again, and PostgreSQL goes away for seconds. Every
//! URL must end stored or dead-lettered with its reason, exactly once.
//! `newsflow bench soak` runs the same scenario at scale.

use std::time::Duration;

use newsflow_cli::chaos::{self, ChaosOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_url_is_accounted_for_once_through_kills_and_outages() {
    let work_dir = tempfile::tempdir().unwrap();
    // A different seed each run explores other interleavings; it is printed
    // (and in the failure message) so a failing run can be replayed.
    let seed = std::env::var("NEWSFLOW_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let opts = ChaosOptions {
        urls: 300,
        hosts: 20,
        fault_every: Duration::from_secs(2),
        max_duration: Duration::from_secs(180),
        seed,
        binary: env!("CARGO_BIN_EXE_newsflow").into(),
        work_dir: work_dir.path().to_path_buf(),
        progress_every: Duration::from_secs(10),
    };
    let report = chaos::run(&opts, |p| {
        eprintln!(
            "chaos: {:.0}s published {} stored {:?} dlq {:?} faults {} restarts {} down {:?}",
            p.elapsed_secs, p.published, p.stored, p.dead_lettered, p.faults, p.restarts, p.down
        )
    })
    .await
    .unwrap();
    let text = chaos::render(&report);
    eprintln!("{text}");
    assert!(
        report.faults.values().sum::<usize>() >= 3,
        "too few faults to mean anything:\n{text}"
    );
    assert_eq!(report.lost, 0, "{text}");
    assert_eq!(report.duplicated, 0, "{text}");
    assert_eq!(report.dlq_without_reason, 0, "{text}");
    assert_eq!(report.unexpected, 0, "{text}");
    assert!(report.passed(), "{text}");
}
