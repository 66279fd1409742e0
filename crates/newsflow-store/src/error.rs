/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The configured database URL names a backend this build cannot use.
    #[error("database `{0}` is not supported yet (only SQLite paths and sqlite:// URLs)")]
    Unsupported(String),
    /// The configuration is unusable.
    #[error("bad store configuration: {0}")]
    Config(String),
    /// A search was malformed (e.g. `since` is not a date).
    #[error("bad query: {0}")]
    Query(String),
    /// Filesystem error, e.g. creating the database's directory.
    #[error("store IO: {0}")]
    Io(#[from] std::io::Error),
    /// A migration failed; the database is left at the previous version.
    #[error("migration {version} failed: {source}")]
    Migration {
        /// The migration's version.
        version: i64,
        /// The database error.
        source: sqlx::Error,
    },
    /// The database refused or failed an operation.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// A stored or given event does not (de)serialise.
    #[error("event JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// SQLite primary result codes (the low byte of extended codes) that mean
/// "try again": BUSY, LOCKED, IOERR, FULL, CANTOPEN, PROTOCOL.
const TRANSIENT_SQLITE_CODES: &[i64] = &[5, 6, 10, 13, 14, 15];

fn sqlx_is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .is_some_and(|c| TRANSIENT_SQLITE_CODES.contains(&(c & 0xff))),
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

impl StoreError {
    /// Whether the same operation may succeed later (lock contention, IO):
    /// the stage then asks for a redelivery instead of dead-lettering.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Io(_) => true,
            Self::Db(e) | Self::Migration { source: e, .. } => sqlx_is_transient(e),
            Self::Unsupported(_) | Self::Config(_) | Self::Query(_) | Self::Json(_) => false,
        }
    }
}
