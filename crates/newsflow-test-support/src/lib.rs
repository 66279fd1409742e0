//! Real servers for tests and demos: a `nats-server` per test on a random
//! port with a throw-away store, and a small HTTP site on 127.0.0.1 that
//! serves fixture pages (and misbehaves on request).
//!
//! Nothing here is a mock: the pipeline talks to these exactly as it talks
//! to production servers. The site is also what `newsflow up --demo` serves
//! the seed pages from.

mod site;

pub use site::{FixtureSite, Page};

use newsflow_runtime::{NatsServerError, NatsServerProcess};

/// A `nats-server` with JetStream for one test, deleted with its data on drop.
pub struct NatsServer {
    process: NatsServerProcess,
    _dir: tempfile::TempDir,
}

impl NatsServer {
    /// Start a server on a free loopback port.
    ///
    /// # Panics
    /// When `nats-server` cannot be found or started: a test needing NATS
    /// must fail loudly, never skip. The message names the install command.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Start with extra command-line arguments.
    ///
    /// # Panics
    /// As [`NatsServer::start`].
    pub fn start_with(args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir for the JetStream store");
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match NatsServerProcess::start(0, dir.path(), &args) {
            Ok(process) => Self { process, _dir: dir },
            Err(e @ NatsServerError::NotFound) => panic!("{e}"),
            Err(e) => panic!("cannot start nats-server for this test: {e}"),
        }
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.process.url()
    }

    /// Stop and start again on the same port and store.
    ///
    /// # Panics
    /// When it will not start again.
    pub fn restart(&mut self) {
        self.process.restart().expect("restart nats-server");
    }
}

/// Three (or more) `nats-server`s clustered on loopback ports with
/// JetStream, for replicated (R3) streams: each node has its own client
/// port, cluster port and store; any node can be killed and restarted.
pub struct NatsCluster {
    nodes: Vec<NatsServerProcess>,
    _dir: tempfile::TempDir,
}

/// A loopback port free at the time of the call (bound, then released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

impl NatsCluster {
    /// Start `n` clustered nodes, routes between all of them.
    ///
    /// # Panics
    /// As [`NatsServer::start`].
    pub fn start(n: usize) -> Self {
        let dir = tempfile::tempdir().expect("temp dir for the JetStream stores");
        let cluster_ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let client_ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let routes = cluster_ports
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        let nodes = (0..n)
            .map(|i| {
                let args: Vec<String> = [
                    "--server_name".to_string(),
                    format!("node-{i}"),
                    "--cluster_name".into(),
                    "newsflow-test".into(),
                    "--cluster".into(),
                    format!("nats://127.0.0.1:{}", cluster_ports[i]),
                    "--routes".into(),
                    routes.clone(),
                ]
                .into();
                let store = dir.path().join(format!("node-{i}"));
                match NatsServerProcess::start(client_ports[i], &store, &args) {
                    Ok(p) => p,
                    Err(e @ NatsServerError::NotFound) => panic!("{e}"),
                    Err(e) => panic!("cannot start cluster node {i}: {e}"),
                }
            })
            .collect();
        Self { nodes, _dir: dir }
    }

    /// Every node's URL, comma-separated: what a client is given so it can
    /// fail over.
    pub fn url(&self) -> String {
        self.nodes
            .iter()
            .map(NatsServerProcess::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The URL of node `i` alone.
    pub fn node_url(&self, i: usize) -> String {
        self.nodes[i].url()
    }

    /// Kill node `i` with SIGKILL, as a crashed machine would go.
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].kill();
    }

    /// Start node `i` again on its ports and store.
    ///
    /// # Panics
    /// When it will not start again.
    pub fn restart(&mut self, i: usize) {
        self.nodes[i].restart().expect("restart cluster node");
    }
}
