-- Items per profile of each job (from JobSubmitted), so progress can bound a job's ETA by
-- its slowest profile: every profile has its own rate limit.

-- Up Migration
CREATE TABLE job_profiles (
  job_id      text NOT NULL,
  profile_id  text NOT NULL,
  total_items bigint NOT NULL CHECK (total_items > 0),
  done_items  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (job_id, profile_id)
);

-- Down Migration
DROP TABLE job_profiles;
