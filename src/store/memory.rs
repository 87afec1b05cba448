//! An in-memory object store: a real adapter for tests and for concurrent in-process runs.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::check_key;
use crate::error::Result;
use crate::ports::ObjectStore;

#[derive(Debug, Default)]
pub struct MemoryStore {
    objects: Mutex<BTreeMap<String, (Vec<u8>, String)>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Content type an object was stored with.
    pub fn content_type(&self, key: &str) -> Option<String> {
        self.objects
            .lock()
            .expect("store lock")
            .get(key)
            .map(|(_, ct)| ct.clone())
    }
}

#[async_trait]
impl ObjectStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        check_key(key)?;
        Ok(self
            .objects
            .lock()
            .expect("store lock")
            .get(key)
            .map(|(b, _)| b.clone()))
    }

    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<()> {
        check_key(key)?;
        self.objects
            .lock()
            .expect("store lock")
            .insert(key.to_string(), (body, content_type.to_string()));
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<bool> {
        check_key(key)?;
        // One lock for the check and the insert: no writer slips in between.
        let mut objects = self.objects.lock().expect("store lock");
        if objects.contains_key(key) {
            return Ok(false);
        }
        objects.insert(key.to_string(), (body, content_type.to_string()));
        Ok(true)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        Ok(self
            .objects
            .lock()
            .expect("store lock")
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }

    fn locate(&self, key: &str) -> String {
        format!("memory:{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_create_only_write_never_replaces_an_object() {
        let store = MemoryStore::new();
        assert!(
            store
                .put_if_absent("p.json", b"1".to_vec(), "a")
                .await
                .unwrap()
        );
        assert!(
            !store
                .put_if_absent("p.json", b"2".to_vec(), "b")
                .await
                .unwrap()
        );
        assert_eq!(store.get("p.json").await.unwrap().unwrap(), b"1");
        assert_eq!(store.content_type("p.json").as_deref(), Some("a"));
    }
}
