-- The job-status handler's SQL as it runs it, for pgbench (bench/load.sh): the Caller
-- extractor's look-up of a known user (shared/src/repo/users.rs `ensure`: one read; the
-- insert runs only on a user's first request), then the job by id and the user id that
-- returned (shared/src/repo/jobs.rs `find`). pgbench substitutes `:user_id` textually,
-- inside the quotes too.
SELECT id AS user_id FROM users WHERE subject = 'loadtest'
\gset
SELECT id, user_id, gallery_id, status, image_ids, attempts, error, request_hash, created_at, started_at, completed_at, organizer, fallback_reason FROM processing_jobs WHERE id = :job AND user_id = ':user_id';
