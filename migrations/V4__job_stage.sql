-- Where a running job is, for live progress (the web app's and the CLI's): reading and
-- preparing its photos, waiting on the model, writing the albums. Only a job being
-- processed has a stage; every step out of 'processing' clears it.
ALTER TABLE processing_jobs ADD COLUMN stage text
    CONSTRAINT processing_jobs_stage_check CHECK (stage IN ('preparing', 'asking_model', 'writing')),
    ADD CONSTRAINT processing_jobs_stage_only_while_processing
        CHECK (status = 'processing' OR stage IS NULL);
