-- API keys for the dashboard and the admin API. Only a SHA-256 of each key is stored: keys are 32 random bytes,
-- so a fast hash is enough (nothing to brute-force), and the plaintext is shown once, at creation.
CREATE TABLE api_keys (
  name         text        PRIMARY KEY,
  role         text        NOT NULL CHECK (role IN ('admin', 'viewer')),
  key_hash     text        NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  last_used_at timestamptz
);
