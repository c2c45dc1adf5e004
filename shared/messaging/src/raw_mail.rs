//! Raw mail in S3: SES's receipt rule (or the IMAP poller) writes each received
//! message there; the desk reads it back to ingest it and to serve downloads, and
//! deletes it (every version: the bucket is versioned) only when it purges the
//! ticket (erasure, retention). The API keeps the MIME of the replies it writes
//! there too, and signs agents' uploads of files for replies (under `uploads/`).

use std::time::Duration;

use async_trait::async_trait;
use desk_domain::message::{
    content_disposition, split_location, RawMailStore, SignedPut, StoredObject,
};
use desk_domain::{DeskError, DeskResult};

use crate::failed;

/// How long a download link works.
const LINK_TTL: Duration = Duration::from_secs(300);

#[derive(Clone)]
pub struct S3RawMail {
    client: crate::Lazy<aws_sdk_s3::Client>,
}

impl S3RawMail {
    pub fn new(client: impl Into<crate::Lazy<aws_sdk_s3::Client>>) -> Self {
        Self {
            client: client.into(),
        }
    }
}

fn location(l: &str) -> DeskResult<(&str, &str)> {
    split_location(l).ok_or_else(|| DeskError::Storage(format!("not an S3 location: {l}")))
}

#[async_trait]
impl RawMailStore for S3RawMail {
    async fn raw(&self, l: &str) -> DeskResult<Vec<u8>> {
        match self.find(l).await? {
            Some(object) => Ok(object.bytes),
            None => Err(DeskError::Storage(format!(
                "S3 GetObject: no object at {l}"
            ))),
        }
    }

    async fn put(&self, l: &str, bytes: Vec<u8>, content_type: &str) -> DeskResult<()> {
        let (bucket, key) = location(l)?;
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(bytes.into())
            .send()
            .await
            .map_err(failed("S3 PutObject"))?;
        Ok(())
    }

    async fn link(&self, l: &str, filename: &str, content_type: &str) -> DeskResult<String> {
        let (bucket, key) = location(l)?;
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(LINK_TTL)
            .map_err(|e| DeskError::Storage(format!("presigning: {e}")))?;
        let request = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .response_content_disposition(content_disposition(filename))
            .response_content_type(content_type)
            .presigned(config)
            .await
            .map_err(failed("S3 presign GetObject"))?;
        Ok(request.uri().to_string())
    }

    async fn upload_link(
        &self,
        l: &str,
        content_type: &str,
        size: u64,
        valid_for: Duration,
    ) -> DeskResult<SignedPut> {
        let (bucket, key) = location(l)?;
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(valid_for)
            .map_err(|e| DeskError::Storage(format!("presigning: {e}")))?;
        let size = i64::try_from(size).map_err(|_| DeskError::Storage("size".into()))?;
        let request = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .content_length(size)
            .presigned(config)
            .await
            .map_err(failed("S3 presign PutObject"))?;
        let headers = request
            .headers()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("host"))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
            .collect();
        Ok(SignedPut {
            url: request.uri().to_string(),
            headers,
        })
    }

    async fn find(&self, l: &str) -> DeskResult<Option<StoredObject>> {
        let (bucket, key) = location(l)?;
        let out = match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(failed("S3 GetObject")(e)),
        };
        let content_type = out.content_type().map(str::to_string);
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| DeskError::Storage(format!("S3 body: {e}")))?;
        Ok(Some(StoredObject {
            bytes: bytes.into_bytes().to_vec(),
            content_type,
        }))
    }

    async fn purge(&self, l: &str, prefix: bool) -> DeskResult<u64> {
        let (bucket, key) = location(l)?;
        let mut deleted = 0u64;
        let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
        loop {
            let out = self
                .client
                .list_object_versions()
                .bucket(bucket)
                .prefix(key)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(failed("S3 ListObjectVersions"))?;
            // Versions and delete markers alike: nothing of the object may stay.
            let found: Vec<(String, Option<String>)> = out
                .versions()
                .iter()
                .map(|v| {
                    (
                        v.key().unwrap_or_default().to_string(),
                        v.version_id().map(str::to_string),
                    )
                })
                .chain(out.delete_markers().iter().map(|m| {
                    (
                        m.key().unwrap_or_default().to_string(),
                        m.version_id().map(str::to_string),
                    )
                }))
                .filter(|(k, _)| prefix || k == key)
                .collect();
            for (k, version) in found {
                self.client
                    .delete_object()
                    .bucket(bucket)
                    .key(&k)
                    .set_version_id(version)
                    .send()
                    .await
                    .map_err(failed("S3 DeleteObject version"))?;
                deleted += 1;
            }
            if out.is_truncated() != Some(true) {
                return Ok(deleted);
            }
            key_marker = out.next_key_marker().map(str::to_string);
            version_marker = out.next_version_id_marker().map(str::to_string);
        }
    }
}
