/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The configured database URL names a backend this build cannot use
    /// (or the wrong constructor was called for it).
    #[error("database not supported: {0}")]
    Unsupported(String),
    /// The configuration is unusable.
    #[error("bad store configuration: {0}")]
    Config(String),
    /// A query was malformed or out of bounds (e.g. `since` is not a date).
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
    /// A stored value is not what this code wrote.
    #[error("unexpected stored value: {0}")]
    Corrupt(String),
}

/// SQLite primary result codes (the low byte of extended codes) that mean
/// "try again": BUSY, LOCKED, IOERR, FULL, CANTOPEN, PROTOCOL.
const TRANSIENT_SQLITE_CODES: &[i64] = &[5, 6, 10, 13, 14, 15];

/// PostgreSQL SQLSTATE classes and codes that mean "try again":
/// connection exceptions (08), serialization failure and deadlock (40001,
/// 40P01), insufficient resources (53), operator intervention such as a
/// server shutting down (57P01–57P03), lock not available (55P03).
fn pg_transient(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "40001" | "40P01" | "55P03" | "57P01" | "57P02" | "57P03"
        )
}

/// The primary result code (low byte of the extended code) of a SQLite
/// error; `None` for other databases' errors.
fn sqlite_primary_code(db: &dyn sqlx::error::DatabaseError) -> Option<i64> {
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
    db.code()?.parse::<i64>().ok().map(|c| c & 0xff)
}

fn sqlx_is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            if db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                return db.code().is_some_and(|c| pg_transient(&c));
            }
            sqlite_primary_code(db.as_ref()).is_some_and(|c| TRANSIENT_SQLITE_CODES.contains(&c))
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

impl StoreError {
    /// Whether SQLite refused for a lock held by another connection
    /// (BUSY or LOCKED), including the cases its busy handler does not wait
    /// for.
    pub fn is_busy(&self) -> bool {
        let e = match self {
            Self::Db(e) | Self::Migration { source: e, .. } => e,
            _ => return false,
        };
        match e {
            sqlx::Error::Database(db) => {
                sqlite_primary_code(db.as_ref()).is_some_and(|c| matches!(c, 5 | 6))
            }
            _ => false,
        }
    }

    /// Whether the same operation may succeed later (lock contention, IO,
    /// a lost connection): the stage then asks for a redelivery instead of
    /// dead-lettering.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Io(_) => true,
            Self::Db(e) | Self::Migration { source: e, .. } => sqlx_is_transient(e),
            Self::Unsupported(_)
            | Self::Config(_)
            | Self::Query(_)
            | Self::Json(_)
            | Self::Corrupt(_) => false,
        }
    }

    /// Whether the caller asked for something invalid (a bad filter, a
    /// foreign cursor), as opposed to the store failing: the API answers
    /// 400 for these and 500/503 for the others.
    pub fn is_bad_request(&self) -> bool {
        matches!(self, Self::Query(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_codes() {
        assert!(pg_transient("40P01"));
        assert!(pg_transient("08006"));
        assert!(pg_transient("53300"));
        assert!(!pg_transient("23505"));
        assert!(!pg_transient("42601"));
    }
}
