-- Every row that a ledger entry created records the entry's sequence number AND its SHA-256, so
-- start-up and the audit can tell a ledger that was truncated, rolled back or forked under the
-- database (the entry is missing, or its bytes are not the ones the row was written with).
-- Portable SQL: runs unchanged on H2 2.x and PostgreSQL 15+.
ALTER TABLE model ADD COLUMN ledger_hash VARCHAR(64);
ALTER TABLE merge_job ADD COLUMN ledger_hash VARCHAR(64);
ALTER TABLE decision ADD COLUMN ledger_hash VARCHAR(64);
-- Principals are ledger facts too (names and roles, never tokens).
ALTER TABLE api_principal ADD COLUMN ledger_seq BIGINT;
ALTER TABLE api_principal ADD COLUMN ledger_hash VARCHAR(64);
