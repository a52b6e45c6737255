-- The job-status handler's queries: the caller's user row, then the job.
SELECT id FROM users WHERE subject = 'loadtest';
SELECT id, user_id, gallery_id, status, image_ids, attempts, error, request_hash, created_at, started_at,
       completed_at, organizer, fallback_reason
FROM processing_jobs WHERE id = :job AND user_id = (SELECT id FROM users WHERE subject = 'loadtest');
