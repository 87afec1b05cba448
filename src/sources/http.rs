//! HTTP(S) fetching with the limits a fetcher holding AWS credentials needs: timeouts, a
//! redirect limit, a byte cap enforced while streaming, retries with backoff on transient
//! failures, `file://` only where allowed, and a refusal of every non-public address (private,
//! loopback, link-local — which covers the instance metadata endpoint — CGNAT, unique-local, …).
//!
//! The address check happens where it cannot be raced: names are resolved by our own resolver,
//! which hands the connector only public addresses (so DNS rebinding gains nothing), and IP-literal
//! hosts, which never reach a resolver, are checked on the request URL and on every redirect.

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use super::content_type_for;
use crate::error::{Error, Result};
use crate::ports::Fetcher;
use crate::ports::fetcher::{FetchRequest, FetchResponse};

type BoxError = Box<dyn StdError + Send + Sync>;

#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Time to establish a connection (DNS excluded).
    pub connect_timeout: Duration,
    /// Longest wait for any single read from the server.
    pub read_timeout: Duration,
    /// Whole-request limit, redirects and body included.
    pub timeout: Duration,
    pub max_redirects: usize,
    pub max_bytes: usize,
    /// `file://` URLs are read from disk only in local runs; never in a Lambda.
    pub allow_file_urls: bool,
    /// Let requests reach private, loopback, link-local and other non-public addresses. Off by
    /// default (the fetch Lambda holds AWS credentials); tests against loopback servers turn it on.
    pub allow_private_addresses: bool,
    /// Extra attempts after a 5xx, a timeout or a connection failure (never after a 4xx, a byte
    /// cap or a refused address).
    pub max_retries: u32,
    /// Wait before the first retry; doubled for each further retry.
    pub retry_backoff: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(20),
            timeout: Duration::from_secs(30),
            max_redirects: 5,
            max_bytes: 15 * 1024 * 1024,
            allow_file_urls: false,
            allow_private_addresses: false,
            max_retries: 2,
            retry_backoff: Duration::from_millis(500),
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
        let max_redirects = limits.max_redirects;
        let allow_private = limits.allow_private_addresses;
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            match check_redirect(
                attempt.url(),
                attempt.previous().len(),
                max_redirects,
                allow_private,
            ) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(limits.connect_timeout)
            .read_timeout(limits.read_timeout)
            .timeout(limits.timeout)
            .redirect(redirect)
            .dns_resolver(Arc::new(PublicResolver { allow_private }))
            // Through a proxy the connection goes to the proxy's address and the target is
            // resolved elsewhere, which would bypass the address check: always connect directly.
            .no_proxy()
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

    /// One request, body included. A failure says whether another attempt could succeed.
    async fn attempt(&self, url: &Url, request: &FetchRequest) -> Result<FetchResponse, Failure> {
        let mut get = self.client.get(url.clone());
        if let Some(etag) = &request.etag {
            get = get.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(date) = &request.last_modified {
            get = get.header(reqwest::header::IF_MODIFIED_SINCE, date);
        }
        let mut response = get.send().await.map_err(|e| Failure::from_reqwest(&e))?;
        let status = response.status();
        let final_url = response.url().clone();
        let conditional = request.etag.is_some() || request.last_modified.is_some();
        if status == reqwest::StatusCode::NOT_MODIFIED && conditional {
            return Ok(FetchResponse {
                status: 304,
                body: Vec::new(),
                content_type: None,
                final_url: final_url.to_string(),
                etag: request.etag.clone(),
                last_modified: request.last_modified.clone(),
            });
        }
        if !status.is_success() {
            return Err(Failure {
                message: format!("HTTP {} from {}", status.as_u16(), shown(&final_url)),
                retryable: status.is_server_error(),
            });
        }
        let max = self.limits.max_bytes;
        let too_big = || Failure {
            message: format!(
                "response from {} exceeds the {max} byte limit",
                shown(&final_url)
            ),
            retryable: false,
        };
        if response
            .content_length()
            .is_some_and(|len| len > max as u64)
        {
            return Err(too_big());
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
        let mut body = Vec::new();
        // reqwest has no body limit: stop reading as soon as the cap is passed, so a huge or
        // endless body costs at most `max_bytes` of memory.
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Failure::from_reqwest(&e))?
        {
            if body.len() + chunk.len() > max {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(FetchResponse {
            status: status.as_u16(),
            body,
            content_type,
            final_url: final_url.to_string(),
            etag,
            last_modified,
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
        // The resolver never sees IP-literal hosts: check them here (and on every redirect).
        check_host(&url, self.limits.allow_private_addresses)
            .map_err(|refused| Error::source(id, refused.to_string()))?;
        let mut retries = 0;
        loop {
            match self.attempt(&url, request).await {
                Ok(response) => return Ok(response),
                Err(failure) if failure.retryable && retries < self.limits.max_retries => {
                    let backoff = self
                        .limits
                        .retry_backoff
                        .saturating_mul(1u32 << retries.min(16));
                    tokio::time::sleep(backoff).await;
                    retries += 1;
                }
                Err(failure) => {
                    let message = if retries > 0 {
                        format!("{} (after {} attempts)", failure.message, retries + 1)
                    } else {
                        failure.message
                    };
                    return Err(Error::source(id, message));
                }
            }
        }
    }

    fn medium(&self) -> &'static str {
        "network"
    }
}

/// A failed attempt: its message and whether a retry could help.
struct Failure {
    message: String,
    retryable: bool,
}

impl Failure {
    fn from_reqwest(e: &reqwest::Error) -> Self {
        // Our own refusals travel inside reqwest's error: report them as they are, never retry.
        let mut source = e.source();
        while let Some(s) = source {
            if let Some(refused) = s.downcast_ref::<Refused>() {
                return Failure {
                    message: refused.to_string(),
                    retryable: false,
                };
            }
            if let Some(too_many) = s.downcast_ref::<TooManyRedirects>() {
                return Failure {
                    message: format!("{too_many} (at {})", url_of(e)),
                    retryable: false,
                };
            }
            source = s.source();
        }
        Failure {
            message: describe(e),
            retryable: e.is_timeout() || e.is_connect(),
        }
    }
}

fn url_of(e: &reqwest::Error) -> String {
    e.url().map_or_else(|| "?".to_string(), shown)
}

/// A URL as error messages show it: without the credentials its query may carry (the NCBI
/// `api_key`), since messages travel into reports and the execution history.
fn shown(url: &Url) -> String {
    crate::urls::redact(url.as_str())
}

/// reqwest's own message names the URL but not the cause: add the cause chain.
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_redirect() {
        "redirect failed"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut message = format!("{what}: {e}");
    if let Some(url) = e.url() {
        message = message.replace(url.as_str(), &shown(url));
    }
    let mut last = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if text != last {
            message.push_str(": ");
            message.push_str(&text);
        }
        last = text;
        source = s.source();
    }
    message
}

/// A request to a non-public address, refused before any connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub host: String,
    pub addr: IpAddr,
    pub reason: &'static str,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        if host.parse::<IpAddr>().is_ok_and(|ip| ip == self.addr) {
            write!(f, "refusing {} ({})", self.addr, self.reason)?;
        } else {
            write!(f, "refusing {host} at {} ({})", self.addr, self.reason)?;
        }
        f.write_str(": sources must be public addresses")
    }
}

impl StdError for Refused {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TooManyRedirects {
    pub max: usize,
}

impl fmt::Display for TooManyRedirects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "too many redirects: more than {}", self.max)
    }
}

impl StdError for TooManyRedirects {}

/// Refuse an IP-literal host that is not a public address. Names pass: the resolver checks them.
pub(crate) fn check_host(url: &Url, allow_private: bool) -> Result<(), Refused> {
    if allow_private {
        return Ok(());
    }
    let addr = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return Ok(()),
    };
    match disallowed_reason(addr) {
        Some(reason) => Err(Refused {
            host: url.host_str().unwrap_or_default().to_string(),
            addr,
            reason,
        }),
        None => Ok(()),
    }
}

/// The redirect policy: at most `max` redirects (`previous` holds the first URL and every URL
/// redirected to so far), and no redirect to a non-public IP-literal host.
pub(crate) fn check_redirect(
    next: &Url,
    previous: usize,
    max: usize,
    allow_private: bool,
) -> Result<(), BoxError> {
    if previous > max {
        return Err(Box::new(TooManyRedirects { max }));
    }
    check_host(next, allow_private)?;
    Ok(())
}

/// Resolves names with the system resolver and keeps only public addresses.
struct PublicResolver {
    allow_private: bool,
}

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public = public_addresses(&host, addrs, allow_private)?;
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// The addresses a connection may use; an error naming the first refused one when none remain.
fn public_addresses(
    host: &str,
    addrs: Vec<SocketAddr>,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, BoxError> {
    if addrs.is_empty() {
        return Err(format!("no address found for {host}").into());
    }
    if allow_private {
        return Ok(addrs);
    }
    let mut refused = None;
    let public: Vec<SocketAddr> = addrs
        .into_iter()
        .filter(|a| match disallowed_reason(a.ip()) {
            None => true,
            Some(reason) => {
                refused.get_or_insert_with(|| Refused {
                    host: host.to_string(),
                    addr: a.ip(),
                    reason,
                });
                false
            }
        })
        .collect();
    match refused {
        Some(refused) if public.is_empty() => Err(Box::new(refused)),
        _ => Ok(public),
    }
}

/// Why a source may not be fetched from this address, or `None` for a public address.
pub(crate) fn disallowed_reason(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(ip) => v4_reason(ip),
        IpAddr::V6(ip) => v6_reason(ip),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => "link-local, instance metadata",
        _ if ip == Ipv4Addr::BROADCAST => "broadcast",
        (0, _, _) => "unspecified",
        (127, _, _) => "loopback",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "private",
        (169, 254, _) => "link-local",
        (100, 64..=127, _) => "shared address space, CGNAT",
        (192, 0, 0) => "IETF protocol assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved",
        _ => return None,
    })
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    // IPv4-mapped (::ffff:a.b.c.d) reaches the IPv4 address itself.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reason(v4);
    }
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    Some(match s {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        // IPv4-compatible (deprecated), ::/96.
        [0, 0, 0, 0, 0, 0, _, _] => "reserved, IPv4-compatible",
        // NAT64 well-known prefix: the gateway connects to the embedded IPv4 address.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => return v4_reason(embedded(hi, lo)),
        [0x64, 0xff9b, 1, ..] => "NAT64 local use",
        // 6to4: the relay connects to the embedded IPv4 address.
        [0x2002, hi, lo, ..] => return v4_reason(embedded(hi, lo)),
        [0x0100, 0, 0, 0, ..] => "discard-only",
        [0x2001, 0x0db8, ..] => "documentation",
        _ if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254) => {
            "unique-local, instance metadata"
        }
        [first, ..] if first & 0xfe00 == 0xfc00 => "unique-local",
        [first, ..] if first & 0xffc0 == 0xfe80 => "link-local",
        [first, ..] if first & 0xffc0 == 0xfec0 => "site-local",
        [first, ..] if first & 0xff00 == 0xff00 => "multicast",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> Option<&'static str> {
        disallowed_reason(s.parse().unwrap())
    }

    #[test]
    fn classifier_refuses_every_non_public_range() {
        for (addr, expected) in [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("0.0.0.0", "unspecified"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.0.1", "link-local"),
            ("169.254.169.254", "link-local, instance metadata"),
            ("169.254.170.2", "link-local"),
            ("100.64.0.1", "shared address space, CGNAT"),
            ("100.127.255.255", "shared address space, CGNAT"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("255.255.255.255", "broadcast"),
            ("240.0.0.1", "reserved"),
            ("192.0.2.1", "documentation"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("fe80::1", "link-local"),
            ("fc00::1", "unique-local"),
            ("fd12:3456::1", "unique-local"),
            ("fd00:ec2::254", "unique-local, instance metadata"),
            ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local, instance metadata"),
            ("::ffff:10.0.0.1", "private"),
            ("::127.0.0.1", "reserved, IPv4-compatible"),
            ("64:ff9b::7f00:1", "loopback"),
            ("2002:a9fe:a9fe::1", "link-local, instance metadata"),
        ] {
            assert_eq!(reason(addr), Some(expected), "{addr}");
        }
    }

    #[test]
    fn classifier_lets_public_addresses_through() {
        for addr in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.216.34",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.1.1",
            "2606:4700:4700::1111",
            "2a00:1450:4007:80e::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(reason(addr), None, "{addr}");
        }
    }

    #[test]
    fn ip_literal_hosts_are_checked() {
        let url = Url::parse("http://169.254.169.254/latest/meta-data").unwrap();
        let refused = check_host(&url, false).unwrap_err();
        assert_eq!(refused.reason, "link-local, instance metadata");
        assert_eq!(
            refused.to_string(),
            "refusing 169.254.169.254 (link-local, instance metadata): \
             sources must be public addresses"
        );
        assert!(check_host(&url, true).is_ok());

        let url = Url::parse("http://127.0.0.1:8080/feed").unwrap();
        assert_eq!(
            check_host(&url, false).unwrap_err().to_string(),
            "refusing 127.0.0.1 (loopback): sources must be public addresses"
        );
        // The URL parser normalises odd IPv4 spellings, so they cannot slip through.
        for odd in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::ffff:7f00:1]/",
        ] {
            let url = Url::parse(odd).unwrap();
            assert_eq!(
                check_host(&url, false).unwrap_err().reason,
                "loopback",
                "{odd}"
            );
        }
        // Names are left to the resolver.
        let url = Url::parse("http://localhost/").unwrap();
        assert!(check_host(&url, false).is_ok());
        let url = Url::parse("https://8.8.8.8/").unwrap();
        assert!(check_host(&url, false).is_ok());
    }

    #[test]
    fn redirect_policy_refuses_metadata_and_counts_redirects() {
        let metadata = Url::parse("http://169.254.169.254/latest/meta-data").unwrap();
        let err = check_redirect(&metadata, 1, 5, false).unwrap_err();
        let refused = err.downcast_ref::<Refused>().expect("a refusal");
        assert!(refused.to_string().contains("169.254.169.254"));
        assert!(refused.to_string().contains("link-local"));

        let v6 = Url::parse("http://[fd00:ec2::254]/latest/meta-data").unwrap();
        assert!(check_redirect(&v6, 1, 5, false).is_err());

        let public = Url::parse("https://example.com/next").unwrap();
        // `previous` holds the first URL too: 5 redirects may be followed, not a 6th.
        for previous in 1..=5 {
            assert!(check_redirect(&public, previous, 5, false).is_ok());
        }
        let err = check_redirect(&public, 6, 5, false).unwrap_err();
        assert!(err.to_string().starts_with("too many redirects"));
        assert!(check_redirect(&public, 1, 0, false).is_err());
    }

    #[test]
    fn resolver_drops_non_public_addresses() {
        let sa = |s: &str| SocketAddr::new(s.parse().unwrap(), 0);
        let mixed = vec![sa("10.0.0.1"), sa("93.184.216.34"), sa("::1")];
        assert_eq!(
            public_addresses("example.com", mixed.clone(), false).unwrap(),
            vec![sa("93.184.216.34")]
        );
        assert_eq!(
            public_addresses("example.com", mixed.clone(), true).unwrap(),
            mixed
        );
        let err = public_addresses("evil.test", vec![sa("169.254.169.254")], false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "refusing evil.test at 169.254.169.254 (link-local, instance metadata): \
             sources must be public addresses"
        );
        assert!(public_addresses("nothing.test", vec![], true).is_err());
    }

    #[tokio::test]
    async fn resolver_refuses_localhost() {
        let resolver = PublicResolver {
            allow_private: false,
        };
        let name: Name = "localhost".parse().unwrap();
        let err = match resolver.resolve(name).await {
            Ok(_) => panic!("localhost resolved to a public address"),
            Err(e) => e,
        };
        assert!(err.to_string().contains("loopback"), "{err}");

        let resolver = PublicResolver {
            allow_private: true,
        };
        let addrs: Vec<_> = match resolver.resolve("localhost".parse().unwrap()).await {
            Ok(addrs) => addrs.collect(),
            Err(e) => panic!("{e}"),
        };
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
