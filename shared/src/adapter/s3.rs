//! Object storage over the S3 protocol (aws-sdk-s3): AWS in production, the embedded
//! S3-protocol server locally and in tests. One code path, presigned URLs included.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::presigning::PresigningConfig;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};

use super::s3_urls::{BucketAddress, UrlSigner};
use crate::config::StorageConfig;
use crate::domain::prepare::Size;
use crate::domain::{ContentType, ImageKey};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object not found")]
    NotFound,
    /// The object is no longer the version that was inspected (its ETag changed).
    #[error("the object changed since it was inspected")]
    Changed,
    #[error("object storage request failed: {0}")]
    Other(#[source] anyhow::Error),
}

fn other(e: impl std::error::Error + Send + Sync + 'static) -> StorageError {
    StorageError::Other(anyhow::Error::new(e))
}

/// Uploads carry this tag until on-upload accepts them; the bucket's lifecycle rule
/// expires objects still tagged so (uploads never processed).
pub const PENDING_TAG: &str = "momentarium-state=pending";

/// How long a browser may keep a rendition: a rendition's key never names other bytes.
pub const RENDITION_CACHE_CONTROL: &str = "private, max-age=31536000, immutable";

/// A presigned PUT: the uploader must send exactly these headers.
#[derive(Debug, Clone)]
pub struct PresignedUpload {
    pub url: String,
    pub content_type: String,
    pub content_length: u64,
    /// The signed `x-amz-tagging` value to send.
    pub tagging: String,
    /// The signed `If-None-Match` value to send: `*`, so the URL creates the object once
    /// and can never overwrite it (S3 conditional writes answer 412).
    pub if_none_match: &'static str,
    pub expires_at: DateTime<Utc>,
}

/// What a HEAD on an object tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    pub size: u64,
    pub content_type: Option<String>,
    /// The object's ETag as S3 gives it (quoted); the version that was looked at.
    pub etag: Option<String>,
}

/// How a presigned GET of an original answers a browser: with the type the inspection
/// detected (never what the uploader claimed), and as a download unless it is a photo
/// type a browser shows, so stored bytes can never run as a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeAs {
    pub content_type: Option<ContentType>,
}

impl ServeAs {
    fn headers(self) -> (&'static str, &'static str) {
        match self.content_type {
            Some(t @ (ContentType::Jpeg | ContentType::Png | ContentType::Webp)) => {
                (t.as_str(), "inline")
            }
            Some(t @ (ContentType::Heic | ContentType::Heif)) => (t.as_str(), "attachment"),
            None => ("application/octet-stream", "attachment"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct S3Store {
    client: Client,
    bucket: String,
    /// Cleared the first time the store answers that it has no object tagging (the
    /// embedded one), so later uploads do not ask again.
    tagging: Arc<AtomicBool>,
    upload_ttl: Duration,
    download_ttl: Duration,
    address: BucketAddress,
    provider: Option<SharedCredentialsProvider>,
    credentials: Arc<Mutex<Option<Credentials>>>,
}

/// GET URLs for one page: originals and renditions.
pub struct PageUrls<'a> {
    signer: UrlSigner<'a>,
}

impl PageUrls<'_> {
    /// An original, answering with the type and disposition of `serve_as`.
    pub fn original(&self, key: &ImageKey, serve_as: ServeAs) -> Result<String, StorageError> {
        let (content_type, disposition) = serve_as.headers();
        self.signer.get(
            &key.to_string(),
            &[
                ("response-content-disposition", disposition),
                ("response-content-type", content_type),
            ],
        )
    }

    /// A rendition (a JPEG stored with its own type and caching headers).
    pub fn rendition(&self, key: &ImageKey, size: Size) -> Result<String, StorageError> {
        self.signer.get(&key.rendition(size), &[])
    }

    /// The thumbnail's and the preview's URLs, when the photo has renditions.
    pub fn grid_and_preview(
        &self,
        key: &ImageKey,
        has_renditions: bool,
    ) -> Result<(Option<String>, Option<String>), StorageError> {
        if !has_renditions {
            return Ok((None, None));
        }
        Ok((
            Some(self.rendition(key, Size::Thumb)?),
            Some(self.rendition(key, Size::Preview)?),
        ))
    }
}

impl S3Store {
    /// Credentials and region from the standard AWS chain (the Lambda role on AWS).
    pub async fn connect(config: &StorageConfig) -> Self {
        let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::with_sdk_config(&shared, config)
    }

    /// Builds on an explicit SDK config (tests and the local server use static keys).
    pub fn with_sdk_config(shared: &aws_config::SdkConfig, config: &StorageConfig) -> Self {
        let mut builder = aws_sdk_s3::config::Builder::from(shared)
            .force_path_style(config.force_path_style)
            // A presigned PUT must not carry a checksum of an empty body; checksums are
            // added only where S3 requires them.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(endpoint) = &config.endpoint_url {
            builder = builder.endpoint_url(endpoint);
        }
        let client = Client::from_conf(builder.build());
        let region = client
            .config()
            .region()
            .map_or_else(|| "us-east-1".to_string(), |r| r.to_string());
        Self {
            address: BucketAddress::new(
                &config.bucket,
                &region,
                config.endpoint_url.as_deref(),
                config.force_path_style,
            ),
            provider: shared.credentials_provider(),
            credentials: Arc::default(),
            client,
            bucket: config.bucket.clone(),
            tagging: Arc::new(AtomicBool::new(true)),
            upload_ttl: config.upload_url_ttl,
            download_ttl: config.download_url_ttl,
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A PUT URL bound to the content type and length (both are signed headers).
    pub async fn presign_upload(
        &self,
        key: &ImageKey,
        content_type: ContentType,
        content_length: u64,
    ) -> Result<PresignedUpload, StorageError> {
        self.presign_upload_signed_at(key, content_type, content_length, SystemTime::now())
            .await
    }

    /// [`presign_upload`](Self::presign_upload) as if signed at `signed_at`: valid from
    /// then for the upload TTL. Tests use it to hold a URL that has already expired.
    pub async fn presign_upload_signed_at(
        &self,
        key: &ImageKey,
        content_type: ContentType,
        content_length: u64,
        signed_at: SystemTime,
    ) -> Result<PresignedUpload, StorageError> {
        let presigning = PresigningConfig::builder()
            .start_time(signed_at)
            .expires_in(self.upload_ttl)
            .build()
            .map_err(other)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.to_string())
            .content_type(content_type.as_str())
            .content_length(i64::try_from(content_length).map_err(other)?)
            .tagging(PENDING_TAG)
            .if_none_match("*")
            .presigned(presigning)
            .await
            .map_err(other)?;
        Ok(PresignedUpload {
            url: request.uri().to_string(),
            content_type: content_type.as_str().to_string(),
            content_length,
            tagging: PENDING_TAG.to_string(),
            if_none_match: "*",
            expires_at: DateTime::<Utc>::from(signed_at)
                + chrono::Duration::from_std(self.upload_ttl).unwrap_or(chrono::Duration::MAX),
        })
    }

    /// A GET URL of an original valid for the download TTL (an hour by default),
    /// answering with the `Content-Type` and `Content-Disposition` of `serve_as`.
    pub async fn presign_download(
        &self,
        key: &ImageKey,
        serve_as: ServeAs,
    ) -> Result<String, StorageError> {
        self.url_signer().await?.original(key, serve_as)
    }

    /// A signer for a page of GET URLs: credentials looked up once, one signing time per
    /// [`super::s3_urls::WINDOW`] (the same object gets the same URL within it).
    pub async fn url_signer(&self) -> Result<PageUrls<'_>, StorageError> {
        let credentials = self.credentials().await?;
        Ok(PageUrls {
            signer: UrlSigner::new(
                &self.address,
                credentials,
                SystemTime::now(),
                self.download_ttl,
            ),
        })
    }

    /// The client's credentials, kept while they outlive every URL signed with them (a
    /// presigned URL stops working when its temporary credentials expire).
    async fn credentials(&self) -> Result<Credentials, StorageError> {
        let needed = self.download_ttl + super::s3_urls::WINDOW + Duration::from_secs(60);
        let fresh = |c: &Credentials| c.expiry().is_none_or(|at| at > SystemTime::now() + needed);
        if let Some(c) = self.credentials.lock().ok().and_then(|c| c.clone())
            && fresh(&c)
        {
            return Ok(c);
        }
        let provider = self.provider.as_ref().ok_or_else(|| {
            StorageError::Other(anyhow::anyhow!("no AWS credentials are configured"))
        })?;
        let credentials = provider.provide_credentials().await.map_err(other)?;
        if let Ok(mut slot) = self.credentials.lock() {
            *slot = Some(credentials.clone());
        }
        Ok(credentials)
    }

    pub async fn head(&self, key: &ImageKey) -> Result<ObjectHead, StorageError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.to_string())
            .send()
            .await
        {
            Ok(out) => Ok(ObjectHead {
                size: out.content_length().unwrap_or(0).max(0) as u64,
                content_type: out.content_type().map(str::to_string),
                etag: out.e_tag().map(str::to_string),
            }),
            Err(e) => {
                let service = e.into_service_error();
                if service.is_not_found() {
                    Err(StorageError::NotFound)
                } else {
                    Err(other(service))
                }
            }
        }
    }

    /// Reads `range` (an HTTP range such as `bytes=0-262143` or `bytes=-16`) of the
    /// version `etag` names, when given; another version is [`StorageError::Changed`].
    pub async fn get_range(
        &self,
        key: &ImageKey,
        range: &str,
        etag: Option<&str>,
    ) -> Result<Bytes, StorageError> {
        self.read(&key.to_string(), Some(range), etag).await
    }

    /// Reads a whole object, of the version `etag` names when given (what was inspected):
    /// another version is [`StorageError::Changed`], never silently used.
    pub async fn get(&self, key: &ImageKey, etag: Option<&str>) -> Result<Bytes, StorageError> {
        self.read(&key.to_string(), None, etag).await
    }

    /// Reads a whole object that is not an upload (a rendition).
    pub async fn get_key(&self, key: &str) -> Result<Bytes, StorageError> {
        self.read(key, None, None).await
    }

    /// Stores a rendition: a JPEG that never changes under its key, so browsers may keep
    /// it (privately: it is someone's photo) as long as they like.
    pub async fn put_rendition(&self, key: &str, jpeg: Vec<u8>) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("image/jpeg")
            .cache_control(RENDITION_CACHE_CONTROL)
            .body(jpeg.into())
            .send()
            .await
            .map_err(|e| other(e.into_service_error()))?;
        Ok(())
    }

    async fn read(
        &self,
        key: &str,
        range: Option<&str>,
        etag: Option<&str>,
    ) -> Result<Bytes, StorageError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_range(range.map(str::to_string))
            .set_if_match(etag.map(str::to_string))
            .send()
            .await
            .map_err(|e| {
                let precondition_failed =
                    e.raw_response().is_some_and(|r| r.status().as_u16() == 412);
                let service = e.into_service_error();
                if precondition_failed {
                    StorageError::Changed
                } else if service.is_no_such_key() {
                    StorageError::NotFound
                } else {
                    other(service)
                }
            })?;
        Ok(out.body.collect().await.map_err(other)?.into_bytes())
    }

    /// Removes the pending tag from an accepted upload, so the lifecycle rule keeps it.
    /// Best-effort: a store without tagging (the embedded one) just logs.
    pub async fn clear_pending_tag(&self, key: &ImageKey) {
        if !self.tagging.load(Ordering::Relaxed) {
            return;
        }
        if let Err(e) = self
            .client
            .delete_object_tagging()
            .bucket(&self.bucket)
            .key(key.to_string())
            .send()
            .await
        {
            let e = e.into_service_error();
            if e.meta().code() == Some("NotImplemented") {
                tracing::debug!("this object store has no tagging; not asking again");
                self.tagging.store(false, Ordering::Relaxed);
            } else {
                tracing::warn!(%key, error = %e, "could not clear the pending tag; the lifecycle rule may expire this photo");
            }
        }
    }

    /// Stores a picture Momentarium made (a generation's result) under its image key, and
    /// returns its ETag (the version its row records).
    pub async fn put_original(
        &self,
        key: &ImageKey,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<Option<String>, StorageError> {
        let out = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.to_string())
            .content_type(content_type)
            .body(bytes.into())
            .send()
            .await
            .map_err(|e| other(e.into_service_error()))?;
        Ok(out.e_tag)
    }

    /// Removes one object by its key (an object already gone is no error, as on S3).
    pub async fn delete_key(&self, key: &str) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| other(e.into_service_error()))?;
        Ok(())
    }

    pub async fn delete(&self, key: &ImageKey) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.to_string())
            .send()
            .await
            .map_err(|e| other(e.into_service_error()))?;
        Ok(())
    }
}
