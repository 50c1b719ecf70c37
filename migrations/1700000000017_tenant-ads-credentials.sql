-- Up Migration
-- Each tenant's own Login-with-Amazon client and refresh token (sealed: AES-256-GCM under
-- SLUICE_SECRETS_KEY, see src/lib/sealed-secrets.ts), and the advertiser profiles those
-- credentials reach, bound to the tenant when they were registered: a tenant may submit
-- items only for its own profiles, and the executor calls Amazon with its credentials.
CREATE TABLE tenant_ads_credentials (
  tenant_id text PRIMARY KEY,
  client_id text NOT NULL,
  client_secret_sealed text NOT NULL,
  refresh_token_sealed text NOT NULL,
  -- 'rejected': Login with Amazon refused the refresh token (invalid_grant) since it was set.
  state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'rejected')),
  rejected_reason text,
  rejected_at timestamptz,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenant_profiles (
  tenant_id text NOT NULL REFERENCES tenant_ads_credentials (tenant_id) ON DELETE CASCADE,
  profile_id text NOT NULL,
  region text NOT NULL,
  country_code text NOT NULL,
  bound_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, profile_id)
);
CREATE INDEX tenant_profiles_by_profile ON tenant_profiles (profile_id);

-- Down Migration
DROP TABLE tenant_profiles;
DROP TABLE tenant_ads_credentials;
