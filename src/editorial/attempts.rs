//! The attempts ledger: every model call made for a section, kept in the run's data. Each
//! state-machine retry is a new invocation that remembers nothing; the ledger is what lets the
//! bound on attempts, the run's budget and the report's account of calls, tokens and throttles
//! hold across invocations. `generate-section` empties it once the section's draft is written,
//! so the next execution starts its own account.

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::keys;
use crate::model::Attempt;
use crate::ports::ObjectStore;
use crate::ports::store::content_type;

pub struct Ledger<'a> {
    store: &'a dyn ObjectStore,
    key: String,
}

impl<'a> Ledger<'a> {
    pub fn new(
        store: &'a dyn ObjectStore,
        client_id: &str,
        run_date: NaiveDate,
        section_id: &str,
    ) -> Self {
        Ledger {
            store,
            key: keys::attempts(client_id, run_date, section_id),
        }
    }

    pub async fn read(&self) -> Result<Vec<Attempt>> {
        match self.store.get(&self.key).await? {
            None => Ok(Vec::new()),
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::Internal(format!(
                    "{} is not an attempts ledger: {e}",
                    self.store.locate(&self.key)
                ))
            }),
        }
    }

    /// Adds one attempt. A section is written by one invocation at a time (the Map runs each
    /// section's retries in sequence), so read-then-write cannot lose an entry.
    pub async fn push(&self, attempt: Attempt) -> Result<()> {
        let mut attempts = self.read().await?;
        attempts.push(attempt);
        self.write(&attempts).await
    }

    /// Starts an empty account, once the section's draft holds the attempts.
    pub async fn clear(&self) -> Result<()> {
        self.write(&[]).await
    }

    async fn write(&self, attempts: &[Attempt]) -> Result<()> {
        let mut body = serde_json::to_vec_pretty(attempts)
            .map_err(|e| Error::Internal(format!("serializing {}: {e}", self.key)))?;
        body.push(b'\n');
        self.store.put(&self.key, body, content_type::JSON).await
    }
}
