-- Up Migration
-- Who submitted each job (the token's holder, as JobSubmitted says it), for the job lists
-- of the API and the dashboard. Null for a job submitted without a name (the library).
ALTER TABLE jobs ADD COLUMN submitted_by text;

-- Down Migration
ALTER TABLE jobs DROP COLUMN submitted_by;
