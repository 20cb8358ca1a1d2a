-- 0002: published policy versions. The canonical bundle is kept so any version can be
-- re-verified and restored; the signature is the gateway's over those exact bytes.
CREATE TABLE policy_versions (
    version_id      TEXT PRIMARY KEY NOT NULL CHECK (length(version_id) = 64),
    bundle          BLOB NOT NULL CHECK (length(bundle) <= 4194304),
    signature       BLOB NOT NULL CHECK (length(signature) = 64),
    key_fingerprint TEXT NOT NULL,
    published_at    TEXT NOT NULL,
    effective_from  TEXT NOT NULL,
    published_by    TEXT NOT NULL CHECK (length(published_by) <= 200),
    label           TEXT NOT NULL DEFAULT '' CHECK (length(label) <= 200)
) STRICT;

CREATE INDEX policy_versions_by_effective ON policy_versions (effective_from, published_at);
