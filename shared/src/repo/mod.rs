//! Repositories: all SQL lives here. Explicit column lists, `prepare_cached`, rows mapped
//! into typed structs. Every query about a user's things takes the user's id.

pub mod galleries;
pub mod images;
pub mod jobs;
pub mod users;
