//! Request counters in the Prometheus text format, kept by hand: a few
//! counters do not justify a metrics registry, and the rest of the
//! workspace has none yet.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use newsflow_store::Backend;

/// Requests served, by route and status, and their total duration.
#[derive(Debug, Default)]
pub struct Metrics {
    by_route: Mutex<BTreeMap<(String, u16), (u64, f64)>>,
}

impl Metrics {
    /// Count one request.
    pub fn record(&self, route: &str, status: u16, took: Duration) {
        if let Ok(mut m) = self.by_route.lock() {
            let e = m.entry((route.to_string(), status)).or_insert((0, 0.0));
            e.0 += 1;
            e.1 += took.as_secs_f64();
        }
    }

    /// The text exposition: request counters, durations and, when known,
    /// the number of stored articles.
    pub fn render(&self, backend: Backend, articles: Option<u64>) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP newsflow_api_requests_total Requests answered by the query API.\n\
             # TYPE newsflow_api_requests_total counter"
        );
        let snapshot = self.by_route.lock().map(|m| m.clone()).unwrap_or_default();
        for ((route, status), (n, _)) in &snapshot {
            let _ = writeln!(
                out,
                "newsflow_api_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP newsflow_api_request_seconds_total Time spent answering, by route.\n\
             # TYPE newsflow_api_request_seconds_total counter"
        );
        let mut per_route: BTreeMap<&str, f64> = BTreeMap::new();
        for ((route, _), (_, secs)) in &snapshot {
            *per_route.entry(route).or_default() += secs;
        }
        for (route, secs) in per_route {
            let _ = writeln!(
                out,
                "newsflow_api_request_seconds_total{{route=\"{route}\"}} {secs:.6}"
            );
        }
        if let Some(n) = articles {
            let _ = writeln!(
                out,
                "# HELP newsflow_store_articles Articles in the store.\n\
                 # TYPE newsflow_store_articles gauge\n\
                 newsflow_store_articles{{backend=\"{backend}\"}} {n}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters() {
        let m = Metrics::default();
        m.record("/articles", 200, Duration::from_millis(5));
        m.record("/articles", 200, Duration::from_millis(5));
        m.record("/articles", 400, Duration::from_millis(1));
        let text = m.render(Backend::Sqlite, Some(3));
        assert!(text.contains("newsflow_api_requests_total{route=\"/articles\",status=\"200\"} 2"));
        assert!(text.contains("newsflow_api_requests_total{route=\"/articles\",status=\"400\"} 1"));
        assert!(text.contains("newsflow_api_request_seconds_total{route=\"/articles\"} 0.011"));
        assert!(text.contains("newsflow_store_articles{backend=\"sqlite\"} 3"));
    }
}
