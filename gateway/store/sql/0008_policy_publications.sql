-- 0008: every publication of a policy version, in order. A version is stored once
-- (policy_versions); restoring an old version publishes it again: a new row here, with its own
-- effective date. The latest row is the version the gateway runs (workers compare it with the
-- policy they loaded).
CREATE TABLE policy_publications (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id     TEXT NOT NULL REFERENCES policy_versions (version_id) ON DELETE CASCADE,
    published_at   TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    published_by   TEXT NOT NULL CHECK (length(published_by) <= 200),
    label          TEXT NOT NULL DEFAULT '' CHECK (length(label) <= 200)
) STRICT;

INSERT INTO policy_publications (version_id, published_at, effective_from, published_by, label)
    SELECT version_id, published_at, effective_from, published_by, label
    FROM policy_versions ORDER BY published_at, version_id;
