-- 0001: the gateway's own facts (instance id, creation time). Later migrations add the
-- key directory, the policy versions, the register, cases and envelopes.
CREATE TABLE gateway_meta (
    name  TEXT PRIMARY KEY NOT NULL CHECK (length(name) <= 64),
    value TEXT NOT NULL CHECK (length(value) <= 1024)
) STRICT;
