//! The store of an area a deployed function was not given (least privilege: only assemble
//! writes newsletters): every call fails, naming the setting that would give the area.

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::ports::ObjectStore;

/// The area a function was not given.
#[derive(Debug, Clone)]
pub struct UnsetStore {
    var: &'static str,
}

impl UnsetStore {
    /// `var` names the setting that would give the area.
    pub fn new(var: &'static str) -> Self {
        UnsetStore { var }
    }

    fn refuse(&self, key: &str) -> Error {
        Error::config(
            self.var,
            "-",
            format!(
                "this function has no store for {key:?}: set {} to a directory or s3://bucket[/prefix]",
                self.var
            ),
        )
    }
}

#[async_trait]
impl ObjectStore for UnsetStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Err(self.refuse(key))
    }
    async fn put(&self, key: &str, _body: Vec<u8>, _content_type: &str) -> Result<()> {
        Err(self.refuse(key))
    }
    async fn put_if_absent(&self, key: &str, _body: Vec<u8>, _content_type: &str) -> Result<bool> {
        Err(self.refuse(key))
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        Err(self.refuse(prefix))
    }
    fn locate(&self, key: &str) -> String {
        format!("({} unset)/{key}", self.var)
    }
}
