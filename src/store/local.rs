//! A directory as an object store: keys are relative paths; writes go to a temp file renamed
//! into place, so a crash never leaves a half-written object for a later step to read.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::check_key;
use crate::error::{Error, Result};
use crate::ports::ObjectStore;

#[derive(Debug, Clone)]
pub struct LocalDirStore {
    root: PathBuf,
}

impl LocalDirStore {
    pub fn new(root: impl AsRef<Path>) -> Self {
        LocalDirStore {
            root: root.as_ref().to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        check_key(key)?;
        Ok(self.root.join(key))
    }
}

fn io_error(op: &'static str, key: &str, e: std::io::Error) -> Error {
    Error::Store {
        op,
        key: key.to_string(),
        message: e.to_string(),
    }
}

/// Writes `body` to a temp file beside `path`, unique per writer so two concurrent writers of
/// one key never share one.
async fn write_temp(path: &Path, body: &[u8]) -> Result<PathBuf> {
    let shown = path.display().to_string();
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| io_error("put", &shown, e))?;
    }
    let tmp = path.with_extension(format!(
        "{}.{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
        fastrand::u64(..)
    ));
    tokio::fs::write(&tmp, body)
        .await
        .map_err(|e| io_error("put", &shown, e))?;
    Ok(tmp)
}

#[async_trait]
impl ObjectStore for LocalDirStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(key)?;
        // A folder is not an object (capture folders live beside capture files).
        if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_dir()) {
            return Ok(None);
        }
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("get", &path.display().to_string(), e)),
        }
    }

    async fn put(&self, key: &str, body: Vec<u8>, _content_type: &str) -> Result<()> {
        let path = self.path(key)?;
        let shown = path.display().to_string();
        let tmp = write_temp(&path, &body).await?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| io_error("put", &shown, e))
    }

    async fn put_if_absent(&self, key: &str, body: Vec<u8>, _content_type: &str) -> Result<bool> {
        let path = self.path(key)?;
        let shown = path.display().to_string();
        let tmp = write_temp(&path, &body).await?;
        // A hard link is created whole or not at all, and never replaces an existing file
        // (unlike rename): the create-only write, without a reader ever seeing half of it.
        let linked = tokio::fs::hard_link(&tmp, &path).await;
        let _ = tokio::fs::remove_file(&tmp).await;
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io_error("put", &shown, e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let mut entries = match tokio::fs::read_dir(&dir).await {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_error("list", &dir.display().to_string(), e)),
            };
            while let Some(entry) = entries
                .next_entry()
                .await
                .map_err(|e| io_error("list", &dir.display().to_string(), e))?
            {
                let path = entry.path();
                let kind = entry
                    .file_type()
                    .await
                    .map_err(|e| io_error("list", &path.display().to_string(), e))?;
                if kind.is_dir() {
                    stack.push(path);
                } else if let Ok(rel) = path.strip_prefix(&self.root) {
                    let key = rel.to_string_lossy().replace('\\', "/");
                    if key.starts_with(prefix) && !key.ends_with(".tmp") {
                        keys.push(key);
                    }
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    fn locate(&self, key: &str) -> String {
        self.root.join(key).display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_list_and_missing() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDirStore::new(dir.path());
        store
            .put(
                "runs/c/2026-11-23/a.json",
                b"{}".to_vec(),
                "application/json",
            )
            .await
            .unwrap();
        store
            .put(
                "runs/c/2026-11-23/b/c.json",
                b"1".to_vec(),
                "application/json",
            )
            .await
            .unwrap();
        store
            .put(
                "runs/c/2026-11-23/a.json",
                b"{\"v\":2}".to_vec(),
                "application/json",
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .get("runs/c/2026-11-23/a.json")
                .await
                .unwrap()
                .unwrap(),
            b"{\"v\":2}"
        );
        assert_eq!(store.get("nope.json").await.unwrap(), None);
        assert_eq!(
            store.list("runs/c/").await.unwrap(),
            vec![
                "runs/c/2026-11-23/a.json".to_string(),
                "runs/c/2026-11-23/b/c.json".to_string()
            ]
        );
    }

    #[tokio::test]
    async fn a_create_only_write_never_replaces_an_object() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDirStore::new(dir.path());
        let key = "shared/fetches/s/r/w/published.json";
        assert!(
            store
                .put_if_absent(key, b"first".to_vec(), "x")
                .await
                .unwrap()
        );
        assert!(
            !store
                .put_if_absent(key, b"second".to_vec(), "x")
                .await
                .unwrap()
        );
        assert_eq!(store.get(key).await.unwrap().unwrap(), b"first");
        // No temp file is left behind by the write that lost.
        assert_eq!(store.list("shared/").await.unwrap(), vec![key.to_string()]);
        let leftovers = std::fs::read_dir(dir.path().join("shared/fetches/s/r/w"))
            .unwrap()
            .count();
        assert_eq!(leftovers, 1);
    }

    #[tokio::test]
    async fn concurrent_create_only_writes_have_one_winner() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(LocalDirStore::new(dir.path()));
        let tasks: Vec<_> = (0..8u8)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .put_if_absent("p.json", vec![n; 4096], "x")
                        .await
                        .unwrap()
                        .then_some(n)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for t in tasks {
            winners.extend(t.await.unwrap());
        }
        assert_eq!(winners.len(), 1, "exactly one writer creates the object");
        assert_eq!(
            store.get("p.json").await.unwrap().unwrap(),
            vec![winners[0]; 4096]
        );
    }

    #[tokio::test]
    async fn keys_cannot_escape_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDirStore::new(dir.path());
        assert!(store.get("../etc/passwd").await.is_err());
        assert!(store.put("/abs", vec![], "x").await.is_err());
    }
}
