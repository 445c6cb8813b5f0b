-- A revoked key's name can be given to a new key: each key gets an id, and names and hashes are unique only among
-- active keys. Revoked rows stay, so `ferry keys list` still shows when a name's earlier keys were revoked.
-- Sessions remember the id they signed in with, so a key recreated under the same name does not revive them.
ALTER TABLE api_keys ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_pkey;
ALTER TABLE api_keys ADD PRIMARY KEY (id);
ALTER TABLE api_keys DROP CONSTRAINT api_keys_key_hash_key;
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
CREATE UNIQUE INDEX api_keys_active_key_hash ON api_keys (key_hash) WHERE revoked_at IS NULL;
