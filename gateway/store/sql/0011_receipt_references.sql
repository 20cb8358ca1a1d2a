-- 0011: receipts are rebuilt instead of stored. A receipt is the gateway's signature over the
-- register entry, its index, the tree head of its batch and the inclusion proof to that head:
-- all of it follows from the append-only register, and Ed25519 signatures are deterministic, so
-- a resubmission gets the same bytes back from these few columns (about 150 bytes a row instead
-- of a 2.3 KB receipt alone on its own encrypted page). Rows written before this migration keep
-- their signed receipt in `receipt` and are answered with it; later rows store an empty
-- `receipt` and the references below.
ALTER TABLE receipts ADD COLUMN entry_seq INTEGER CHECK (entry_seq IS NULL OR entry_seq >= 0);
ALTER TABLE receipts ADD COLUMN tree_size INTEGER CHECK (tree_size IS NULL OR tree_size > entry_seq);
ALTER TABLE receipts ADD COLUMN case_ref TEXT CHECK (case_ref IS NULL OR length(case_ref) <= 64);
ALTER TABLE receipts ADD COLUMN reasons TEXT CHECK (reasons IS NULL OR length(reasons) <= 16384);
