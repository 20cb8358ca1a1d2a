-- 0009: a subject index whose new rows land near the end of the table. register_subjects,
-- keyed (pseudonym, seq), put every new row at a random place in an ever larger index, so once
-- the index outgrew a batch each commit rewrote about one encrypted page per subject. New rows
-- go here instead, keyed (block, tag, seq): block = seq >> 12 (4,096 entries), tag = the first
-- 60 bits of the pseudonym. A batch touches the few pages of one or two blocks; a lookup seeks
-- each block for the tags (a tag shared by another pseudonym is filtered out against the
-- entry's own subjects). register_subjects keeps, and still answers for, the rows written
-- before this migration.
CREATE TABLE register_subject_blocks (
    block INTEGER NOT NULL CHECK (block = seq >> 12),
    tag   INTEGER NOT NULL CHECK (tag BETWEEN 0 AND 1152921504606846975),
    seq   INTEGER NOT NULL CHECK (seq >= 0),
    PRIMARY KEY (block, tag, seq)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER register_subject_blocks_no_update BEFORE UPDATE ON register_subject_blocks
BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
CREATE TRIGGER register_subject_blocks_no_delete BEFORE DELETE ON register_subject_blocks
BEGIN SELECT RAISE(ABORT, 'the register is append-only'); END;
