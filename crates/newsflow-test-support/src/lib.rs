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
