//! Durable storage for the object store: a redb database (copy-on-write B-trees, every commit
//! fsync'd), so an acknowledged write survives a crash and a `kill -9` never leaves a torn file.

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;

const OBJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("objects");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const RESOURCE_VERSION: &str = "resourceVersion";

/// Stored objects: (key, JSON).
pub type Rows = Vec<(String, Vec<u8>)>;

/// The database file of a data directory.
pub struct Disk {
    db: Database,
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[error("storage: {0}")]
pub struct DiskError(String);

impl DiskError {
    /// A stored record that cannot be read back.
    pub fn corrupt(key: &str, e: impl std::fmt::Display) -> Self {
        DiskError(format!("stored object {key} cannot be read: {e}"))
    }
}

fn err(e: impl std::fmt::Display) -> DiskError {
    DiskError(e.to_string())
}

impl Disk {
    /// Opens (or creates) `dir/store.redb`.
    pub fn open(dir: &Path) -> Result<Self, DiskError> {
        std::fs::create_dir_all(dir).map_err(|e| DiskError(format!("cannot create {}: {e}", dir.display())))?;
        let db = Database::create(dir.join("store.redb")).map_err(err)?;
        // Make sure both tables exist so that reads of a new store find them.
        let txn = db.begin_write().map_err(err)?;
        txn.open_table(OBJECTS).map_err(err)?;
        txn.open_table(META).map_err(err)?;
        txn.commit().map_err(err)?;
        Ok(Self { db })
    }

    /// Every stored object (key, JSON) and the resource version.
    pub fn load(&self) -> Result<(Rows, u64), DiskError> {
        let txn = self.db.begin_read().map_err(err)?;
        let objects = txn.open_table(OBJECTS).map_err(err)?;
        let mut out = Vec::new();
        for row in objects.iter().map_err(err)? {
            let (k, v) = row.map_err(err)?;
            out.push((k.value().to_owned(), v.value().to_vec()));
        }
        let meta = txn.open_table(META).map_err(err)?;
        let rv = meta.get(RESOURCE_VERSION).map_err(err)?.map_or(0, |v| v.value());
        Ok((out, rv))
    }

    /// Writes one change set atomically and durably.
    pub fn write(&self, puts: &[(String, Vec<u8>)], deletes: &[String], rv: u64) -> Result<(), DiskError> {
        let txn = self.db.begin_write().map_err(err)?;
        {
            let mut objects = txn.open_table(OBJECTS).map_err(err)?;
            for (k, v) in puts {
                objects.insert(k.as_str(), v.as_slice()).map_err(err)?;
            }
            for k in deletes {
                objects.remove(k.as_str()).map_err(err)?;
            }
            let mut meta = txn.open_table(META).map_err(err)?;
            meta.insert(RESOURCE_VERSION, rv).map_err(err)?;
        }
        txn.commit().map_err(err)
    }
}
