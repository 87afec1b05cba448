//! Object-store adapters: a local directory (CLI runs, tests) and an in-memory map (tests), and
//! the `--store` spec parser that picks one.

mod local;
mod memory;

use std::path::PathBuf;
use std::sync::Arc;

pub use local::LocalDirStore;
pub use memory::MemoryStore;

use crate::error::{Error, Result};
use crate::ports::{ObjectStore, Stores};

/// Rejects keys that could escape a store's root or collide with temp files.
pub(crate) fn check_key(key: &str) -> Result<()> {
    if crate::config::is_relative_path(key) && !key.ends_with(".tmp") {
        Ok(())
    } else {
        Err(Error::Internal(format!("invalid object key {key:?}")))
    }
}

/// The data and newsletter stores named by `--store`: a directory, where run data lives at the
/// top and newsletters under `newsletters/`.
pub fn open_output(spec: &str) -> Result<(Arc<dyn ObjectStore>, Arc<dyn ObjectStore>)> {
    if spec.starts_with("s3://") {
        return Err(Error::config(
            "--store",
            "-",
            format!("{spec:?}: S3 stores are not available in this build; use a directory"),
        ));
    }
    let root = PathBuf::from(spec);
    Ok((
        Arc::new(LocalDirStore::new(&root)),
        Arc::new(LocalDirStore::new(root.join("newsletters"))),
    ))
}

/// All three areas for a local run: configuration from `config_dir`, outputs under `store`.
pub fn open_local(config_dir: &str, store: &str) -> Result<Stores> {
    let (data, newsletters) = open_output(store)?;
    Ok(Stores {
        config: Arc::new(LocalDirStore::new(config_dir)),
        data,
        newsletters,
    })
}
