//! Momentarium on one machine: the stand-ins that replace AWS, used by the `momentarium`
//! command and by the tests, and never linked into a Lambda binary.
//!
//! - [`s3`]: an S3-protocol server in the process that verifies SigV4 and behaves as S3
//!   does with a bucket that blocks ACLs (conditional writes, `If-Match`, response
//!   overrides);
//! - [`http`]: the HTTP server loop for the API router;
//! - [`dispatcher`]: the job queue as a signed push (Standard Webhooks POSTs with
//!   retries), in place of SQS;
//! - [`sample`]: sample photos with EXIF, for `momentarium demo` and the tests.

pub mod dispatcher;
pub mod http;
pub mod s3;
pub mod sample;
