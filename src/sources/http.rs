//! HTTP(S) fetching with the limits a fetcher holding AWS credentials needs: timeouts, a
//! redirect limit, a byte cap enforced while streaming, and `file://` only where allowed.

use std::time::Duration;

use async_trait::async_trait;
use url::Url;

use super::content_type_for;
use crate::error::{Error, Result};
use crate::ports::Fetcher;
use crate::ports::fetcher::{FetchRequest, FetchResponse};

#[derive(Debug, Clone)]
pub struct HttpLimits {
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub max_redirects: usize,
    pub max_bytes: usize,
    /// `file://` URLs are read from disk only in local runs; never in a Lambda.
    pub allow_file_urls: bool,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_redirects: 5,
            max_bytes: 15 * 1024 * 1024,
            allow_file_urls: false,
        }
    }
}

pub struct HttpFetcher {
    client: reqwest::Client,
    limits: HttpLimits,
}

pub const USER_AGENT: &str = concat!(
    "VectoraInbox/",
    env!("CARGO_PKG_VERSION"),
    " (newsletter source fetcher)"
);

impl HttpFetcher {
    pub fn new(limits: HttpLimits) -> Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.timeout)
            .redirect(reqwest::redirect::Policy::limited(limits.max_redirects))
            .build()
            .map_err(|e| Error::Internal(format!("building the HTTP client: {e}")))?;
        Ok(HttpFetcher { client, limits })
    }

    async fn fetch_file(&self, request: &FetchRequest, url: &Url) -> Result<FetchResponse> {
        let path = url.to_file_path().map_err(|_| {
            Error::source(
                &request.source_id,
                format!("{url} is not a local file path"),
            )
        })?;
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(|e| Error::source(&request.source_id, format!("{}: {e}", path.display())))?;
        if meta.len() > self.limits.max_bytes as u64 {
            return Err(Error::source(
                &request.source_id,
                format!(
                    "{} is larger than the {} byte limit",
                    path.display(),
                    self.limits.max_bytes
                ),
            ));
        }
        let body = tokio::fs::read(&path)
            .await
            .map_err(|e| Error::source(&request.source_id, format!("{}: {e}", path.display())))?;
        Ok(FetchResponse {
            status: 200,
            body,
            content_type: content_type_for(url.path()).map(str::to_string),
            final_url: url.to_string(),
            etag: None,
            last_modified: None,
        })
    }
}

#[async_trait]
impl Fetcher for HttpFetcher {
    async fn fetch(&self, request: &FetchRequest) -> Result<FetchResponse> {
        let id = &request.source_id;
        let url = Url::parse(&request.url)
            .map_err(|e| Error::source(id, format!("bad URL {:?}: {e}", request.url)))?;
        match url.scheme() {
            "http" | "https" => {}
            "file" if self.limits.allow_file_urls => return self.fetch_file(request, &url).await,
            other => {
                return Err(Error::source(
                    id,
                    format!("scheme {other:?} is not allowed here: use http or https"),
                ));
            }
        }
        let mut response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| Error::source(id, describe(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::source(
                id,
                format!("HTTP {} from {url}", status.as_u16()),
            ));
        }
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let etag = header(reqwest::header::ETAG);
        let last_modified = header(reqwest::header::LAST_MODIFIED);
        let final_url = response.url().to_string();
        let mut body = Vec::new();
        // reqwest has no body limit: stop reading as soon as the cap is passed, so a huge or
        // endless body costs at most `max_bytes` of memory.
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Error::source(id, describe(&e)))?
        {
            if body.len() + chunk.len() > self.limits.max_bytes {
                return Err(Error::source(
                    id,
                    format!(
                        "response from {url} exceeds the {} byte limit",
                        self.limits.max_bytes
                    ),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(FetchResponse {
            status: status.as_u16(),
            body,
            content_type,
            final_url,
            etag,
            last_modified,
        })
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("timed out: {e}")
    } else if e.is_redirect() {
        format!("too many redirects: {e}")
    } else if e.is_connect() {
        format!("could not connect: {e}")
    } else {
        e.to_string()
    }
}
