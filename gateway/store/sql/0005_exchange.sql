-- 0005: the exchange. Sealed envelopes (ciphertext only: the gateway cannot open them), one
-- delivery row per recipient (the inbox), cases with their pseudonymous subject reference and
-- minimal state, receipts for idempotent resubmission, mismatch reports, and the request
-- nonces that make every signed request usable once.
CREATE TABLE request_nonces (
    key_id  TEXT NOT NULL CHECK (length(key_id) <= 64),
    nonce   TEXT NOT NULL CHECK (length(nonce) <= 64),
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (key_id, nonce)
) STRICT, WITHOUT ROWID;

CREATE INDEX request_nonces_by_time ON request_nonces (seen_at);

CREATE TABLE cases (
    case_ref     TEXT PRIMARY KEY NOT NULL CHECK (length(case_ref) <= 64),
    subject_ref  TEXT NOT NULL CHECK (length(subject_ref) <= 128),
    state        TEXT NOT NULL CHECK (length(state) <= 64),
    priority     INTEGER NOT NULL DEFAULT 0 CHECK (priority IN (0, 1)),
    opened_by    TEXT NOT NULL,
    opened_at    TEXT NOT NULL,
    state_since  TEXT NOT NULL,
    deadline     TEXT,
    closed_at    TEXT
) STRICT;

CREATE INDEX cases_open_by_subject ON cases (subject_ref) WHERE closed_at IS NULL;

CREATE TABLE case_parties (
    case_ref TEXT NOT NULL REFERENCES cases (case_ref),
    party    TEXT NOT NULL,
    PRIMARY KEY (case_ref, party)
) STRICT, WITHOUT ROWID;

CREATE TABLE receipts (
    message_id    TEXT PRIMARY KEY NOT NULL CHECK (length(message_id) <= 64),
    sender        TEXT NOT NULL,
    envelope_hash BLOB NOT NULL CHECK (length(envelope_hash) = 32),
    outcome       TEXT NOT NULL CHECK (outcome IN ('accepted', 'refused')),
    receipt       BLOB NOT NULL CHECK (length(receipt) <= 65536)
) STRICT;

CREATE TABLE envelopes (
    message_id    TEXT PRIMARY KEY NOT NULL REFERENCES receipts (message_id),
    sender        TEXT NOT NULL,
    flow          TEXT NOT NULL,
    case_ref      TEXT NOT NULL REFERENCES cases (case_ref),
    received_at   TEXT NOT NULL,
    envelope      BLOB CHECK (envelope IS NULL OR length(envelope) <= 1048576),
    purged_at     TEXT
) STRICT;

CREATE TABLE deliveries (
    recipient       TEXT NOT NULL,
    message_id      TEXT NOT NULL REFERENCES envelopes (message_id),
    flow            TEXT NOT NULL,
    sender          TEXT NOT NULL,
    case_ref        TEXT NOT NULL,
    priority        INTEGER NOT NULL CHECK (priority IN (0, 1)),
    received_seq    INTEGER NOT NULL,
    received_at     TEXT NOT NULL,
    size            INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'acknowledged',
                                                   'expired', 'purged')),
    delivered_at    TEXT,
    acknowledged_at TEXT,
    PRIMARY KEY (recipient, message_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX deliveries_inbox ON deliveries (recipient, priority DESC, received_seq);

CREATE TABLE mismatch_reports (
    message_id  TEXT NOT NULL REFERENCES envelopes (message_id),
    recipient   TEXT NOT NULL,
    reason      TEXT NOT NULL CHECK (length(reason) <= 64),
    reported_at TEXT NOT NULL,
    PRIMARY KEY (message_id, recipient)
) STRICT, WITHOUT ROWID;
