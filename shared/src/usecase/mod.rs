//! Use-cases: each decides one thing, given parsed input and the [`App`](crate::App).
//! HTTP handlers, Lambda event handlers, the local server and the tests all call these.

pub mod deliveries;
pub mod galleries;
pub mod jobs;
pub mod process;
pub mod process_job;
pub mod sweep;
pub mod uploads;
