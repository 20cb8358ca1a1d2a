-- 0012: delivery rows in arrival order. Keyed (recipient, message_id) WITHOUT ROWID, every new
-- row went to a random place among all deliveries (message ids are random), so each batch
-- rewrote about one encrypted page per delivery. As a rowid table new rows are appended at the
-- end; uniqueness and lookups by message move to one index (message_id, recipient), which also
-- answers what deliveries_by_message answered. The inbox index now names message_id itself
-- (the old table's key was in every index implicitly), so a listing still reads the index only;
-- the retention index is recreated as it was (a test checks that no migration loses an index it
-- does not drop by name).
CREATE TABLE deliveries_by_arrival (
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
    UNIQUE (message_id, recipient)
) STRICT;

INSERT INTO deliveries_by_arrival (
    recipient, message_id, flow, sender, case_ref, priority, received_seq, received_at, size,
    state, delivered_at, acknowledged_at
)
SELECT
    recipient, message_id, flow, sender, case_ref, priority, received_seq, received_at, size,
    state, delivered_at, acknowledged_at
FROM deliveries ORDER BY received_seq, recipient;

DROP INDEX deliveries_by_message;
DROP INDEX deliveries_inbox;
DROP INDEX deliveries_open;
DROP TABLE deliveries;
ALTER TABLE deliveries_by_arrival RENAME TO deliveries;

CREATE INDEX deliveries_inbox ON deliveries (
    recipient, priority DESC, received_seq, state, flow, sender, case_ref, received_at, size,
    message_id
);
CREATE INDEX deliveries_open ON deliveries (received_at) WHERE state IN ('pending', 'delivered');
