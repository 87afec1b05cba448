//! Object-store adapters: a local directory (CLI runs, tests), an S3 bucket (AWS, and the CLI's
//! `--store s3://…`), an in-memory map (tests), and the opener that picks one from an address.

mod local;
mod memory;
pub mod s3;
mod unset;

use std::path::PathBuf;
use std::sync::Arc;

pub use local::LocalDirStore;
pub use memory::MemoryStore;
pub use s3::{S3Location, S3Store};
pub use unset::UnsetStore;

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

/// Opens the stores that `--store`, `--config` and the `VECTORA_*_STORE` variables name: a
/// directory, or `s3://bucket[/prefix]`. One S3 client serves every bucket.
#[derive(Default)]
pub struct Opener {
    s3: Option<aws_sdk_s3::Client>,
}

impl Opener {
    /// `origin` names where `spec` came from (`--store`, `VECTORA_DATA_STORE`), for messages.
    pub async fn open(&mut self, origin: &str, spec: &str) -> Result<Arc<dyn ObjectStore>> {
        Ok(match self.locate(origin, spec)? {
            Place::Dir(path) => Arc::new(LocalDirStore::new(path)),
            Place::S3(location) => Arc::new(self.s3_store(location).await),
        })
    }

    /// The data and newsletter stores of a CLI run: run data at the top of `spec`,
    /// newsletters under `newsletters/`, in a directory or a bucket alike. A bucket is
    /// checked first, so a typo fails before any work is done.
    pub async fn open_output(
        &mut self,
        spec: &str,
    ) -> Result<(Arc<dyn ObjectStore>, Arc<dyn ObjectStore>)> {
        match self.locate("--store", spec)? {
            Place::Dir(root) => Ok((
                Arc::new(LocalDirStore::new(&root)),
                Arc::new(LocalDirStore::new(root.join("newsletters"))),
            )),
            Place::S3(location) => {
                let data = self.s3_store(location.clone()).await;
                data.check().await?;
                let newsletters = self.s3_store(location.child("newsletters")).await;
                Ok((Arc::new(data), Arc::new(newsletters)))
            }
        }
    }

    fn locate(&self, origin: &str, spec: &str) -> Result<Place> {
        if spec.trim().is_empty() {
            return Err(Error::config(
                origin,
                "-",
                "empty store address: give a directory or s3://bucket[/prefix]",
            ));
        }
        if spec.starts_with("s3://") {
            S3Location::parse(spec)
                .map(Place::S3)
                .map_err(|message| Error::config(origin, "-", message))
        } else if spec.contains("://") {
            Err(Error::config(
                origin,
                "-",
                format!("{spec:?}: only directories and s3://bucket[/prefix] are stores"),
            ))
        } else {
            Ok(Place::Dir(PathBuf::from(spec)))
        }
    }

    async fn s3_store(&mut self, location: S3Location) -> S3Store {
        if self.s3.is_none() {
            self.s3 = Some(s3::client_from_env().await);
        }
        let client = self.s3.clone().expect("just built");
        S3Store::new(client, location)
    }
}

enum Place {
    Dir(PathBuf),
    S3(S3Location),
}

/// All three areas for a CLI run: configuration from `config` (a directory or a bucket),
/// outputs under `store`.
pub async fn open_local(config: &str, store: &str) -> Result<Stores> {
    let mut opener = Opener::default();
    let (data, newsletters) = opener.open_output(store).await?;
    Ok(Stores {
        config: opener.open("--config", config).await?,
        data,
        newsletters,
    })
}
