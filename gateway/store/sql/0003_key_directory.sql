-- 0003: the key directory: partners and their public keys. Rotation keeps old keys (status
-- rotated) to verify old messages; revocation takes effect at once. No private key, ever.
CREATE TABLE partners (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) <= 63),
    name        TEXT NOT NULL CHECK (length(name) <= 300),
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL CHECK (length(created_by) <= 200)
) STRICT;

CREATE TABLE partner_keys (
    key_id             TEXT PRIMARY KEY NOT NULL CHECK (length(key_id) = 24),
    partner_id         TEXT NOT NULL REFERENCES partners (id),
    ed25519            BLOB NOT NULL CHECK (length(ed25519) = 32),
    x25519             BLOB NOT NULL CHECK (length(x25519) = 32),
    encryption_key_id  TEXT NOT NULL CHECK (length(encryption_key_id) = 24),
    not_before         TEXT NOT NULL,
    not_after          TEXT,
    status             TEXT NOT NULL CHECK (status IN ('active', 'rotated', 'revoked')),
    registered_by      TEXT NOT NULL CHECK (length(registered_by) <= 200),
    registered_at      TEXT NOT NULL,
    status_changed_at  TEXT,
    status_reason      TEXT CHECK (length(status_reason) <= 500)
) STRICT;

CREATE INDEX partner_keys_by_partner ON partner_keys (partner_id, status);
