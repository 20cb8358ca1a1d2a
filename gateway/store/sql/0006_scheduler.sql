-- 0006: the scheduler. One lock row per database (only one `gateway scheduler` may run: a
-- second one finds a fresh heartbeat and exits; a lock without a heartbeat for
-- SLUIS_SCHEDULER_STALE_MINUTES may be taken over), and the notices the jobs raise for partners
-- and the console. A notice holds no personal data: a kind, a pseudonymous case reference, a
-- state, dates and counts, and a reference (message id, key id or delivery month).
CREATE TABLE scheduler_lock (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    holder       TEXT NOT NULL CHECK (length(holder) <= 64),
    host         TEXT NOT NULL CHECK (length(host) <= 255),
    pid          INTEGER NOT NULL,
    started_at   TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL
) STRICT;

CREATE TABLE notices (
    id           INTEGER PRIMARY KEY,
    created_at   TEXT NOT NULL,
    partner      TEXT CHECK (partner IS NULL OR length(partner) <= 64),
    kind         TEXT NOT NULL CHECK (length(kind) <= 64),
    case_ref     TEXT CHECK (case_ref IS NULL OR length(case_ref) <= 64),
    state        TEXT CHECK (state IS NULL OR length(state) <= 64),
    days_overdue INTEGER,
    due_date     TEXT,
    reference    TEXT CHECK (reference IS NULL OR length(reference) <= 64),
    fact         TEXT NOT NULL CHECK (length(fact) <= 256)
) STRICT;

-- The same fact (kind + partner + fact key) is noticed once.
CREATE UNIQUE INDEX notices_once ON notices (kind, ifnull(partner, ''), fact);
CREATE INDEX notices_by_partner ON notices (partner, id);
CREATE INDEX notices_by_case ON notices (case_ref);

-- Retention and delivery checks look envelopes up by time and by case.
CREATE INDEX envelopes_by_case ON envelopes (case_ref);
CREATE INDEX envelopes_by_sender ON envelopes (sender, flow, received_at);
CREATE INDEX deliveries_by_message ON deliveries (message_id);
CREATE INDEX deliveries_open ON deliveries (received_at) WHERE state IN ('pending', 'delivered');
CREATE INDEX cases_closed ON cases (closed_at) WHERE closed_at IS NOT NULL;
