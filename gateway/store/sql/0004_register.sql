-- 0004: the processing register. Append-only in fact: triggers refuse UPDATE and DELETE on
-- every register table. seq is the 0-based Merkle leaf index; leaf_hash is RFC 9162's
-- SHA-256(0x00 || entry); seal is the gateway's keyed MAC over it (an insider holding only the
-- database key cannot forge one). register_nodes keeps perfect subtree hashes of level >= 4
-- (16 entries and up) so proofs read O(log n) rows.
CREATE TABLE register_entries (
    seq        INTEGER PRIMARY KEY CHECK (seq >= 0),
    stream     TEXT NOT NULL CHECK (stream IN ('processing', 'administration')),
    event_type TEXT NOT NULL CHECK (length(event_type) <= 64),
    leaf_hash  BLOB NOT NULL CHECK (length(leaf_hash) = 32),
    seal       BLOB NOT NULL CHECK (length(seal) = 32),
    entry      BLOB NOT NULL CHECK (length(entry) <= 262144)
) STRICT;

CREATE TABLE register_nodes (
    level INTEGER NOT NULL CHECK (level BETWEEN 4 AND 62),
    idx   INTEGER NOT NULL CHECK (idx >= 0),
    hash  BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE register_subjects (
    pseudonym TEXT NOT NULL CHECK (length(pseudonym) = 32),
    seq       INTEGER NOT NULL,
    PRIMARY KEY (pseudonym, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE register_checkpoints (
    size      INTEGER PRIMARY KEY CHECK (size >= 0),
    root      BLOB NOT NULL CHECK (length(root) = 32),
    note      TEXT NOT NULL CHECK (length(note) <= 4096),
    signed_at TEXT NOT NULL
) STRICT;

CREATE TRIGGER register_entries_no_update BEFORE UPDATE ON register_entries
BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER register_entries_no_delete BEFORE DELETE ON register_entries
BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER register_nodes_no_update BEFORE UPDATE ON register_nodes
BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER register_nodes_no_delete BEFORE DELETE ON register_nodes
BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER register_subjects_no_update BEFORE UPDATE ON register_subjects
BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER register_subjects_no_delete BEFORE DELETE ON register_subjects
BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER register_checkpoints_no_update BEFORE UPDATE ON register_checkpoints
BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER register_checkpoints_no_delete BEFORE DELETE ON register_checkpoints
BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
