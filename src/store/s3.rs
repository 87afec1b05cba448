//! An S3 bucket (or a prefix of one) as an object store: the adapter the Lambdas use for the
//! config, data and newsletter buckets, and the CLI for `--store s3://bucket/prefix`.
//!
//! S3 `PutObject` replaces an object atomically, so readers never see a partial write: the
//! same promise the directory store keeps with its rename.

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;

use super::check_key;
use crate::aws::Failure;
use crate::error::{Error, ErrorKind, Result};
use crate::ports::ObjectStore;

/// `s3://bucket[/prefix]`, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Empty, or ends with `/`.
    pub prefix: String,
}

impl S3Location {
    /// Parses `s3://bucket[/prefix]`; the message says what is wrong with it.
    pub fn parse(spec: &str) -> std::result::Result<S3Location, String> {
        let rest = spec
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{spec:?} is not an s3://bucket[/prefix] address"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        // The rules S3 enforces on bucket names, so a typo fails here and not as a signature
        // or DNS error later.
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && bucket.as_bytes()[0].is_ascii_alphanumeric()
            && bucket.as_bytes()[bucket.len() - 1].is_ascii_alphanumeric();
        if !valid {
            return Err(format!(
                "{spec:?}: {bucket:?} is not a valid bucket name (3 to 63 characters: lowercase letters, digits, '-' and '.')"
            ));
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|part| part == ".." || part == ".") {
            return Err(format!(
                "{spec:?}: the prefix may not contain '.' or '..' parts"
            ));
        }
        Ok(S3Location {
            bucket: bucket.to_string(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        })
    }

    /// The same bucket, one folder down.
    pub fn child(&self, folder: &str) -> S3Location {
        S3Location {
            bucket: self.bucket.clone(),
            prefix: format!("{}{folder}/", self.prefix),
        }
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// An S3 client configured from the environment. Against a local S3-protocol server
/// (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` set) requests use path-style addressing,
/// which such servers need; against AWS, virtual-hosted style as AWS recommends.
pub async fn client_from_env() -> Client {
    let shared = crate::aws::load_config().await;
    let local_endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
        .iter()
        .any(|var| std::env::var(var).is_ok_and(|v| !v.trim().is_empty()));
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(local_endpoint)
        .build();
    Client::from_conf(config)
}

#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    location: S3Location,
}

impl S3Store {
    pub fn new(client: Client, location: S3Location) -> Self {
        S3Store { client, location }
    }

    pub fn location(&self) -> &S3Location {
        &self.location
    }

    fn key(&self, key: &str) -> Result<String> {
        check_key(key)?;
        Ok(format!("{}{key}", self.location.prefix))
    }

    /// Fails with a clear message when the bucket is missing or not reachable with these
    /// credentials: the CLI checks this before a run starts, not after the fetches.
    pub async fn check(&self) -> Result<()> {
        let bucket = &self.location.bucket;
        match self.client.head_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => {
                Err(missing_bucket(&self.location))
            }
            Err(e) => Err(Failure::of(&e).into_error(&format!("S3 HeadBucket s3://{bucket}"), "")),
        }
    }

    fn failure<E>(
        &self,
        op: &str,
        key: &str,
        err: aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> Error
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let failure = Failure::of(&err);
        if failure.code.as_deref() == Some("NoSuchBucket") {
            return missing_bucket(&self.location);
        }
        let hint = match failure.kind {
            ErrorKind::InvalidInput => format!(
                "check the AWS credentials and that the role allows s3:{op} on s3://{}/{key}",
                self.location.bucket
            ),
            _ => String::new(),
        };
        failure.into_error(
            &format!("S3 {op} s3://{}/{key}", self.location.bucket),
            &hint,
        )
    }
}

fn missing_bucket(location: &S3Location) -> Error {
    Error::Aws {
        kind: ErrorKind::InvalidInput,
        message: format!(
            "{location}: bucket {:?} does not exist in this account and region: create it (sam deploy creates the three buckets) or fix the store address",
            location.bucket
        ),
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let full = self.key(key)?;
        let output = match self
            .client
            .get_object()
            .bucket(&self.location.bucket)
            .key(&full)
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(self.failure("GetObject", &full, e)),
        };
        let body = output.body.collect().await.map_err(|e| Error::Store {
            op: "get",
            key: format!("s3://{}/{full}", self.location.bucket),
            message: format!("the body was cut short: {e}"),
        })?;
        Ok(Some(body.into_bytes().to_vec()))
    }

    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<()> {
        let full = self.key(key)?;
        self.client
            .put_object()
            .bucket(&self.location.bucket)
            .key(&full)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| self.failure("PutObject", &full, e))?;
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<bool> {
        let full = self.key(key)?;
        let sent = self
            .client
            .put_object()
            .bucket(&self.location.bucket)
            .key(&full)
            .content_type(content_type)
            .if_none_match("*")
            .body(ByteStream::from(body))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(e) => {
                // 412: the object exists. 409: another conditional write of the key is in
                // flight (S3 documents it for concurrent If-None-Match writes): either way
                // another writer publishes, and its object stands.
                let status = e.raw_response().map(|r| r.status().as_u16());
                let code = e.as_service_error().and_then(|s| {
                    aws_sdk_s3::error::ProvideErrorMetadata::code(s).map(str::to_string)
                });
                if matches!(status, Some(412 | 409))
                    || matches!(
                        code.as_deref(),
                        Some("PreconditionFailed" | "ConditionalRequestConflict")
                    )
                {
                    Ok(false)
                } else {
                    Err(self.failure("PutObject", &full, e))
                }
            }
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let full = format!("{}{prefix}", self.location.prefix);
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(&full)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.failure("ListBucket", &full, e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .filter_map(|k| k.strip_prefix(&self.location.prefix))
                    .map(str::to_string),
            );
        }
        // S3 lists in UTF-8 byte order already; sorting keeps the port's promise whatever
        // the server.
        keys.sort();
        Ok(keys)
    }

    fn locate(&self, key: &str) -> String {
        format!(
            "s3://{}/{}{key}",
            self.location.bucket, self.location.prefix
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_refuse_bad_names() {
        let l = S3Location::parse("s3://vectora-inbox-data-dev/runs/").unwrap();
        assert_eq!(l.bucket, "vectora-inbox-data-dev");
        assert_eq!(l.prefix, "runs/");
        assert_eq!(S3Location::parse("s3://b12").unwrap().prefix, "");
        assert_eq!(
            S3Location::parse("s3://b12/a/b")
                .unwrap()
                .child("newsletters")
                .prefix,
            "a/b/newsletters/"
        );
        for bad in [
            "s3://",
            "s3://UPPER",
            "s3://ab",
            "s3://-x-y",
            "s3://b12/../x",
            "/tmp/x",
        ] {
            assert!(S3Location::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
