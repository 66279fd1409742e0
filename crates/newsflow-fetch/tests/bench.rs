//! The benchmark harness runs, small, and its politeness figures hold.

use newsflow_fetch::bench::{self, BenchOptions};

#[tokio::test]
async fn small_bench_reports_rates_within_the_limit() {
    let options = BenchOptions {
        pages: 60,
        page_bytes: 20_000,
        concurrency: 8,
        replicas: 2,
        in_flight_per_replica: 4,
        hosts: 2,
        pages_per_host: 5,
        host_min_delay_ms: 100,
        host_max_wait_ms: 250,
    };
    let report = bench::run(options, None).await.unwrap();
    let t = &report.throughput;
    assert_eq!((t.pages, t.errors), (60, 0));
    assert!(t.bytes >= 60 * 19_000, "{t:?}");
    assert!(t.pages_per_sec > 0.0 && t.mb_per_sec > 0.0);
    let p = &report.politeness;
    assert_eq!((p.pages, p.errors), (10, 0), "{p:?}");
    assert_eq!(p.per_host.len(), 2);
    for host in &p.per_host {
        // One robots.txt per replica, then the pages.
        assert_eq!(host.requests, 5 + 2, "{host:?}");
        assert!(host.min_gap_ms >= 75.0, "{host:?}");
        assert!(host.rate_per_sec <= 10.5, "{host:?}");
    }
    assert!(p.within_limit);
    // Tickets: about one requeue per postponed page, not one per round.
    assert!(p.requeued <= 2 * p.pages, "{p:?}");
    assert_eq!(p.limit_per_sec, 10.0);
}
