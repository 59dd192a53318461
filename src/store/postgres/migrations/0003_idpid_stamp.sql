-- Migration 3: the identity providers' use stamps (store::engine::Table::IdpidStamp).

CREATE TABLE idpid_stamp (key bytea PRIMARY KEY, value bytea NOT NULL);
