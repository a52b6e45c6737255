-- Renditions: a grid thumbnail, a full-screen preview and the model's copy, made once
-- from the inspected version of each upload and stored under renditions/{user}/{image}/.
-- True once all three exist for the version the row's etag names; a re-inspected new
-- version sets it again (or clears it). Rows inspected before this column existed are
-- false: the processor makes their renditions when it first needs them.
ALTER TABLE images ADD COLUMN renditions boolean NOT NULL DEFAULT false;
