//! A throw-away PostgreSQL cluster for tests and the benchmark (never used
//! by the services): `initdb` and `pg_ctl` from Debian's postgresql package on a
//! random loopback port, in a temporary directory, with durability off.
//!
//! The cluster is started by a small shell script that then waits on its
//! standard input; the test process holds the other end. When that process
//! exits — normally, by a panic or killed — the pipe closes and the script
//! stops the server and deletes the directory, so no cluster outlives its
//! tests even though Rust runs no destructor for statics.
//!
//! As root, `initdb` refuses to run, so the cluster runs as the `postgres`
//! OS user (created by the package) through `runuser`.
//!
//! A missing installation is an error naming the install command, never a
//! skipped test.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use sqlx::Connection;

/// How to install what the cluster needs.
pub const INSTALL_HINT: &str = "install PostgreSQL's server binaries with `scripts/pg/install-postgres.sh` \
     (Debian/Ubuntu: `apt-get install postgresql`), or set NEWSFLOW_PG_BIN to the directory holding initdb and pg_ctl";

/// A running throw-away cluster.
#[derive(Debug)]
pub struct PgCluster {
    port: u16,
    dir: PathBuf,
    bin: PathBuf,
    guard: Mutex<Option<(Child, ChildStdin)>>,
}

const SCRIPT: &str = r#"
set -e
dir="$1"; port="$2"; bin="$3"; user="$4"; extra="$5"
run() { if [ -n "$user" ]; then runuser -u "$user" -- "$@"; else "$@"; fi; }
run "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
    >"$dir/initdb.log" 2>&1
run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 $extra" \
    start >"$dir/pg_ctl.log" 2>&1
echo READY
# Wait for the owner to go away (its end of our stdin closes), then clean up.
cat >/dev/null || true
run "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
rm -rf "$dir"
"#;

/// The directory holding `initdb` and `pg_ctl`: `NEWSFLOW_PG_BIN`, else
/// where `initdb` on PATH really lives, else the newest
/// `/usr/lib/postgresql/*/bin`.
pub fn find_bin_dir() -> Result<PathBuf, String> {
    let has_tools = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("NEWSFLOW_PG_BIN") {
        let dir = PathBuf::from(dir);
        return if has_tools(&dir) {
            Ok(dir)
        } else {
            Err(format!(
                "NEWSFLOW_PG_BIN={} holds no initdb and pg_ctl; {INSTALL_HINT}",
                dir.display()
            ))
        };
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            let initdb = d.join("initdb");
            if initdb.is_file()
                && let Some(real) = std::fs::canonicalize(&initdb)
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                && has_tools(&real)
            {
                return Ok(real);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has_tools(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b).ok_or_else(|| {
        format!("PostgreSQL not found (no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin); {INSTALL_HINT}")
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .is_some_and(|s| s.trim() == "0")
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

fn read_log(dir: &Path) -> String {
    ["initdb.log", "pg_ctl.log", "server.log"]
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(dir.join(f)).ok()?;
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            Some(format!(
                "--- {f}:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl PgCluster {
    /// Start a cluster of this process's own, with durability off (no
    /// fsync: a test's data need not survive a power cut); it stops when
    /// dropped (or when the process exits).
    pub fn start() -> Result<Self, String> {
        Self::start_with(
            "-c shared_buffers=128MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        )
    }

    /// Like [`PgCluster::start`] with PostgreSQL's durable defaults (fsync
    /// on every commit) and 1 GiB of shared buffers (a small server's
    /// setting), for benchmark figures that mean something.
    pub fn start_durable() -> Result<Self, String> {
        Self::start_with("-c shared_buffers=1GB")
    }

    fn start_with(extra: &str) -> Result<Self, String> {
        let bin = find_bin_dir()?;
        let user = if is_root() {
            let known = Command::new("id")
                .args(["-u", "postgres"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !known {
                return Err(format!(
                    "running as root, and initdb refuses to run as root: the `postgres` user is missing; {INSTALL_HINT}"
                ));
            }
            "postgres"
        } else {
            ""
        };
        let mut last_error = String::new();
        for _ in 0..3 {
            match Self::try_start(&bin, user, extra) {
                Ok(c) => return Ok(c),
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }

    fn try_start(bin: &Path, user: &str, extra: &str) -> Result<Self, String> {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "newsflow-pg-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if !user.is_empty() {
            let ok = Command::new("chown")
                .args([user, &dir.display().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err(format!("cannot chown {} to {user}", dir.display()));
            }
        }
        let port = free_port()?;
        let mut child = Command::new("sh")
            .args(["-c", SCRIPT, "pg-cluster"])
            .arg(&dir)
            .arg(port.to_string())
            .arg(bin)
            .arg(user)
            .arg(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run sh: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        if line.trim() != "READY" {
            let log = read_log(&dir);
            drop(stdin);
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&dir);
            return Err(format!(
                "PostgreSQL did not start (binaries in {}):\n{log}",
                bin.display()
            ));
        }
        Ok(Self {
            port,
            dir,
            bin: bin.to_path_buf(),
            guard: Mutex::new(Some((child, stdin))),
        })
    }

    /// The cluster shared by every test of this process, started on first use.
    pub fn shared() -> Result<&'static Self, String> {
        static SHARED: OnceLock<Result<PgCluster, String>> = OnceLock::new();
        SHARED
            .get_or_init(Self::start)
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where its binaries are.
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// The URL of database `name` (superuser `postgres`, no password).
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Stop the server (fast shutdown: sessions are cut, as in an outage)
    /// and leave it stopped until [`PgCluster::start_again`]; for tests of
    /// what clients do while the database is away. Blocking.
    pub fn stop_for_outage(&self) -> Result<(), String> {
        self.pg_ctl(&["-m", "fast", "-w", "stop"])
    }

    /// Start the server stopped by [`PgCluster::stop_for_outage`] again,
    /// on the same port with the options it last started with (PostgreSQL
    /// keeps them in `postmaster.opts`). Blocking.
    pub fn start_again(&self) -> Result<(), String> {
        let opts = std::fs::read_to_string(self.dir.join("data/postmaster.opts"))
            .map_err(|e| format!("postmaster.opts: {e}"))?;
        // The file is the postgres binary followed by its quoted arguments;
        // pg_ctl adds -D itself, the rest goes back through -o.
        let args = opts.trim().split_once(' ').map(|(_, a)| a).unwrap_or("");
        let log = self.dir.join("server.log").display().to_string();
        self.pg_ctl(&["-l", &log, "-w", "-t", "60", "-o", args, "start"])
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<(), String> {
        let data = self.dir.join("data");
        let pg_ctl = self.bin.join("pg_ctl");
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(pg_ctl);
            c
        } else {
            Command::new(pg_ctl)
        };
        let out = command
            .arg("-D")
            .arg(&data)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run pg_ctl: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "pg_ctl {}: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// A new empty database; its URL.
    pub async fn fresh_database(&self, label: &str) -> Result<String, String> {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let clean: String = label
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(30)
            .collect::<String>()
            .to_ascii_lowercase();
        let name = format!("nf_{clean}_{}", SEQ.fetch_add(1, Ordering::Relaxed));
        let mut conn = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .map_err(|e| format!("connecting to the test cluster: {e}"))?;
        // The name is built from [a-z0-9_] above: safe to splice.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .map_err(|e| format!("CREATE DATABASE {name}: {e}"))?;
        let _ = conn.close().await;
        Ok(self.url(&name))
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let taken = self.guard.lock().map(|mut g| g.take()).unwrap_or(None);
        if let Some((mut child, mut stdin)) = taken {
            let _ = stdin.flush();
            drop(stdin);
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh database on the shared cluster, or a message saying what to
/// install.
pub async fn fresh_pg_database(label: &str) -> Result<String, String> {
    PgCluster::shared()?.fresh_database(label).await
}
