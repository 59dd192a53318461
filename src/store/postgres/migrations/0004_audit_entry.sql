-- Migration 4: the audit trail (store::engine::Table::AuditEntry).

CREATE TABLE audit_entry (key bytea PRIMARY KEY, value bytea NOT NULL);
