//! An S3-protocol server inside this process, on loopback, storing under a directory and
//! verifying SigV4 on every request, presigned ones included (s3s + s3s-fs). The local
//! server and the tests point aws-sdk-s3 at it, so the production code path is the one
//! exercised: a presigned PUT with another content type or length, a tampered signature,
//! or an expired URL gets a 403 here as on AWS.
//!
//! s3s-fs alone is laxer than S3 in ways an attacker could use, so [`StrictStore`] wraps
//! it and behaves as S3 does with a bucket that blocks ACLs: a conditional create
//! (`If-None-Match: *`) is atomic, `If-Match` is honoured on GET and HEAD,
//! `response-content-type` / `response-content-disposition` override what a GET answers,
//! ACL headers are refused, and a presigned request carrying an `x-amz-*` header it did
//! not sign is refused.
//!
//! Like a bucket with event notifications, the server can tell the process about each
//! object created ([`LocalS3::start_with_events`]): `serve` hands them to the same use-case
//! the `on-upload` function runs for S3's `ObjectCreated` events.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use http::Method;
use http::header::{self, HeaderName};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use hyper_util::service::TowerToHyperService;
use s3s::auth::SimpleAuth;
use s3s::dto::{
    CreateBucketInput, CreateBucketOutput, DeleteObjectInput, DeleteObjectOutput,
    DeleteObjectsInput, DeleteObjectsOutput, ETag, ETagCondition, GetObjectInput, GetObjectOutput,
    HeadBucketInput, HeadBucketOutput, HeadObjectInput, HeadObjectOutput, ListBucketsInput,
    ListBucketsOutput, ListObjectsV2Input, ListObjectsV2Output, PutObjectInput, PutObjectOutput,
};
use s3s::service::S3ServiceBuilder;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use s3s_fs::FileSystem;
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tower_http::cors::{Any, CorsLayer};

use momentarium_shared::config::StorageConfig;

/// An object the server stored: what an S3 `ObjectCreated` event carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCreated {
    pub bucket: String,
    pub key: String,
    pub etag: Option<String>,
}

/// A running embedded S3 server.
pub struct LocalS3 {
    pub addr: SocketAddr,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    task: JoinHandle<()>,
}

impl Drop for LocalS3 {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LocalS3 {
    /// Serves `root` (one sub-directory per bucket; `bucket` is created) on `bind`
    /// (`127.0.0.1:0` for any free port).
    pub async fn start(
        root: &Path,
        bucket: &str,
        bind: SocketAddr,
        access_key: &str,
        secret_key: &str,
    ) -> anyhow::Result<Self> {
        Self::start_with_events(root, bucket, bind, access_key, secret_key, None).await
    }

    /// [`Self::start`], sending an [`ObjectCreated`] for every object a PUT stores, after
    /// it is stored (as S3 sends its notifications).
    pub async fn start_with_events(
        root: &Path,
        bucket: &str,
        bind: SocketAddr,
        access_key: &str,
        secret_key: &str,
        events: Option<UnboundedSender<ObjectCreated>>,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root.join(bucket))?;
        let fs = FileSystem::new(root)
            .map_err(|e| anyhow::anyhow!("opening the local object store: {e:?}"))?;
        let mut builder = S3ServiceBuilder::new(StrictStore::new(fs, events));
        builder.set_auth(SimpleAuth::from_single(access_key, secret_key));
        // The bucket's CORS rule, as template.yaml gives the real one: a page on another
        // origin (the web app under `serve`) PUTs and GETs with presigned URLs.
        let cors = CorsLayer::new()
            .allow_origin(Any)
            .allow_methods([Method::GET, Method::PUT, Method::HEAD])
            .allow_headers([
                header::CONTENT_TYPE,
                header::CONTENT_LENGTH,
                header::IF_NONE_MATCH,
                HeaderName::from_static("x-amz-tagging"),
            ])
            .expose_headers([header::ETAG])
            .max_age(std::time::Duration::from_secs(3000));
        let service = TowerToHyperService::new(
            tower::ServiceBuilder::new()
                .layer(cors)
                .service(builder.build()),
        );
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let service = service.clone();
                tokio::spawn(async move {
                    let _ = ConnBuilder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        tracing::info!(%addr, "embedded S3 server listening");
        Ok(Self {
            addr,
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
            region: "us-east-1".to_string(),
            task,
        })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An AWS SDK configuration with this server's static keys.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        let credentials = aws_sdk_s3::config::Credentials::new(
            &self.access_key,
            &self.secret_key,
            None,
            None,
            "momentarium-local",
        );
        aws_config::SdkConfig::builder()
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
                credentials,
            ))
            .region(aws_sdk_s3::config::Region::new(self.region.clone()))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }

    /// The storage configuration pointing at this server.
    pub fn storage_config(&self, bucket: &str) -> StorageConfig {
        StorageConfig {
            bucket: bucket.to_string(),
            endpoint_url: Some(self.endpoint()),
            force_path_style: true,
            upload_url_ttl: std::time::Duration::from_secs(300),
            download_url_ttl: std::time::Duration::from_secs(3600),
        }
    }
}

/// s3s-fs with S3's stricter rules (see the module documentation).
struct StrictStore {
    inner: FileSystem,
    /// One lock per key being created conditionally, so two racing `If-None-Match: *`
    /// PUTs to one key cannot both succeed (S3 answers one of them 412), while uploads
    /// to other keys go on in parallel.
    creates: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Where `ObjectCreated` notifications go, when someone listens.
    events: Option<UnboundedSender<ObjectCreated>>,
}

impl StrictStore {
    fn new(inner: FileSystem, events: Option<UnboundedSender<ObjectCreated>>) -> Self {
        Self {
            inner,
            creates: std::sync::Mutex::new(std::collections::HashMap::new()),
            events,
        }
    }

    /// Tells the listener about a stored object.
    fn notify(&self, bucket: String, key: String, result: &S3Result<S3Response<PutObjectOutput>>) {
        if let (Some(events), Ok(stored)) = (&self.events, result) {
            let etag = stored.output.e_tag.as_ref().map(|e| e.value().to_string());
            let _ = events.send(ObjectCreated { bucket, key, etag });
        }
    }
}

/// The headers a request signed: from a presigned URL's `X-Amz-SignedHeaders`, or from
/// the `Authorization` header's `SignedHeaders=`.
fn signed_header_names(uri: &http::Uri, headers: &http::HeaderMap) -> Vec<String> {
    let from_query = uri.query().and_then(|q| {
        q.split('&').find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            name.eq_ignore_ascii_case("X-Amz-SignedHeaders").then(|| {
                percent_encoding::percent_decode_str(value)
                    .decode_utf8_lossy()
                    .into_owned()
            })
        })
    });
    let from_header = || {
        let auth = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
        let start = auth.find("SignedHeaders=")? + "SignedHeaders=".len();
        let rest = &auth[start..];
        Some(rest.split(',').next().unwrap_or(rest).trim().to_string())
    };
    from_query
        .or_else(from_header)
        .map(|list| {
            list.split(';')
                .map(|h| h.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default()
}

/// S3 refuses a signed request carrying `x-amz-*` headers outside its signature: with
/// presigned URLs that is what stops an uploader adding `x-amz-acl: public-read` or
/// other metadata the URL was not issued for.
fn refuse_unsigned_amz_headers(uri: &http::Uri, headers: &http::HeaderMap) -> S3Result<()> {
    let signed = signed_header_names(uri, headers);
    let unsigned: Vec<&str> = headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|name| name.starts_with("x-amz-"))
        .filter(|name| !matches!(*name, "x-amz-content-sha256" | "x-amz-date"))
        .filter(|name| !signed.iter().any(|s| s == name))
        .collect();
    if unsigned.is_empty() {
        Ok(())
    } else {
        Err(s3_error!(
            AccessDenied,
            "There were headers present in the request which were not signed: {}",
            unsigned.join(", ")
        ))
    }
}

fn check_if_match(condition: Option<&ETagCondition>, current: Option<&ETag>) -> S3Result<()> {
    match (condition, current) {
        (None, _) | (Some(ETagCondition::Any), Some(_)) => Ok(()),
        (Some(ETagCondition::ETag(want)), Some(have)) if want.strong_cmp(have) => Ok(()),
        _ => Err(s3_error!(
            PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold"
        )),
    }
}

#[async_trait::async_trait]
impl S3 for StrictStore {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        self.inner.create_bucket(req).await
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.inner.head_bucket(req).await
    }

    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        self.inner.list_buckets(req).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.inner.list_objects_v2(req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.inner.delete_object(req).await
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        self.inner.delete_objects(req).await
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let if_match = req.input.if_match.clone();
        let out = self.inner.head_object(req).await?;
        check_if_match(if_match.as_ref(), out.output.e_tag.as_ref())?;
        Ok(out)
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let if_match = req.input.if_match.clone();
        let content_type = req.input.response_content_type.clone();
        let disposition = req.input.response_content_disposition.clone();
        let mut out = self.inner.get_object(req).await?;
        check_if_match(if_match.as_ref(), out.output.e_tag.as_ref())?;
        if let Some(content_type) = content_type {
            out.output.content_type = Some(content_type);
        }
        if let Some(disposition) = disposition {
            out.output.content_disposition = Some(disposition);
        }
        Ok(out)
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        refuse_unsigned_amz_headers(&req.uri, &req.headers)?;
        if req.input.acl.is_some()
            || req.input.grant_full_control.is_some()
            || req.input.grant_read.is_some()
            || req.input.grant_read_acp.is_some()
            || req.input.grant_write_acp.is_some()
        {
            return Err(s3_error!(
                AccessControlListNotSupported,
                "The bucket does not allow ACLs"
            ));
        }
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        if req.input.if_none_match.is_some() {
            let name = format!("{}/{}", req.input.bucket, req.input.key);
            let lock = {
                let mut creates = self.creates.lock().unwrap_or_else(|e| e.into_inner());
                creates.entry(name.clone()).or_default().clone()
            };
            let result = {
                let _only_one = lock.lock().await;
                self.inner.put_object(req).await
            };
            let mut creates = self.creates.lock().unwrap_or_else(|e| e.into_inner());
            if Arc::strong_count(&lock) <= 2 {
                creates.remove(&name);
            }
            drop(creates);
            self.notify(bucket, key, &result);
            return result;
        }
        let result = self.inner.put_object(req).await;
        self.notify(bucket, key, &result);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_headers_are_read_from_a_presigned_url_or_the_authorization_header() {
        let presigned: http::Uri = "http://s3/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bif-none-match%3Bx-amz-tagging&X-Amz-Signature=ab"
            .parse()
            .unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=ab"
                .parse()
                .unwrap(),
        );

        let from_url = signed_header_names(&presigned, &http::HeaderMap::new());
        let from_header = signed_header_names(&"http://s3/b/k".parse().unwrap(), &headers);

        assert_eq!(
            from_url,
            vec![
                "content-length",
                "content-type",
                "host",
                "if-none-match",
                "x-amz-tagging"
            ]
        );
        assert_eq!(
            from_header,
            vec!["host", "x-amz-content-sha256", "x-amz-date"]
        );
    }

    #[test]
    fn an_unsigned_amz_header_is_refused_and_signed_ones_pass() {
        let uri: http::Uri = "http://s3/b/k?X-Amz-SignedHeaders=host%3Bx-amz-tagging"
            .parse()
            .unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("x-amz-tagging", "a=b".parse().unwrap());
        assert!(refuse_unsigned_amz_headers(&uri, &headers).is_ok());

        headers.insert("x-amz-acl", "public-read".parse().unwrap());
        let refused = refuse_unsigned_amz_headers(&uri, &headers).unwrap_err();
        assert_eq!(refused.code(), &s3s::S3ErrorCode::AccessDenied);
        assert!(refused.message().unwrap_or("").contains("x-amz-acl"));
    }
}
