//! Recorded captures: a source's `capture` file from the config area (`sources/{capture}`),
//! served as if fetched from the source's URL. This is what `vectora run --offline` uses.

use std::sync::Arc;

use async_trait::async_trait;

use super::content_type_for;
use crate::error::{Error, Result};
use crate::ports::fetcher::{FetchRequest, FetchResponse};
use crate::ports::{Fetcher, ObjectStore};

pub struct CaptureFetcher {
    config: Arc<dyn ObjectStore>,
}

impl CaptureFetcher {
    pub fn new(config: Arc<dyn ObjectStore>) -> Self {
        CaptureFetcher { config }
    }
}

#[async_trait]
impl Fetcher for CaptureFetcher {
    async fn fetch(&self, request: &FetchRequest) -> Result<FetchResponse> {
        let capture = request.capture.as_deref().ok_or_else(|| {
            Error::source(
                &request.source_id,
                "no recorded capture: add `capture:` to its catalogue entry, or run without --offline",
            )
        })?;
        let key = format!("sources/{capture}");
        let body = self.config.get(&key).await?.ok_or_else(|| {
            Error::source(
                &request.source_id,
                format!("capture {} does not exist", self.config.locate(&key)),
            )
        })?;
        Ok(FetchResponse {
            status: 200,
            body,
            content_type: content_type_for(capture).map(str::to_string),
            // Relative links in the capture resolve against the real URL, as they would online.
            final_url: request.url.clone(),
            etag: None,
            last_modified: None,
        })
    }

    fn medium(&self) -> &'static str {
        "captures"
    }
}
