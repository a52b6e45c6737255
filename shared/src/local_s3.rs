//! An S3-protocol server inside this process, on loopback, storing under a directory and
//! verifying SigV4 on every request, presigned ones included (s3s + s3s-fs). The local
//! server and the tests point aws-sdk-s3 at it, so the production code path is the one
//! exercised: a presigned PUT with another content type or length, a tampered signature,
//! or an expired URL gets a 403 here as on AWS.

use std::net::SocketAddr;
use std::path::Path;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::StorageConfig;

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
        std::fs::create_dir_all(root.join(bucket))?;
        let fs = s3s_fs::FileSystem::new(root)
            .map_err(|e| anyhow::anyhow!("opening the local object store: {e:?}"))?;
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(access_key, secret_key));
        let service = builder.build();
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
