-- V5: indexes serving the console search (ModelService.search) filters with keyset paging on id,
-- and the decision lookup by (kind, environment, model_id). Plain CREATE INDEX: runs on H2 and PostgreSQL.
CREATE INDEX ix_model_status_id ON model (status, id);
CREATE INDEX ix_model_license_id ON model (license, id);
CREATE INDEX ix_model_scan_verdict_id ON model (scan_verdict, id);
CREATE INDEX ix_model_origin_id ON model (origin, id);
CREATE INDEX ix_decision_kind_env_model ON decision (kind, environment, model_id);
