//! Use-cases: each decides one thing, given parsed input and the [`App`](crate::App), and
//! is named for it. HTTP handlers, Lambda event handlers, the local server and the tests
//! all call these.

pub mod ai_costs;
pub mod backfill_renditions;
pub mod cancel_job;
pub mod check_health;
pub mod delete_photos;
pub mod identify_caller;
pub mod issue_upload_urls;
pub mod limits;
pub mod make_renditions;
pub mod paging;
pub mod profile;
pub mod read_galleries;
pub mod read_generations;
pub mod read_image;
pub mod read_job_status;
pub mod record_upload;
pub mod request_generation;
pub mod request_processing;
pub mod run_delivery;
pub mod run_generation;
pub mod run_job;
pub mod search;
pub mod share_albums;
pub mod share_links;
pub mod sweep_jobs;
pub mod view_share;
