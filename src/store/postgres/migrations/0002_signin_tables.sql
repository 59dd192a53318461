-- Migration 2: the sign-in tables (store::signin): sessions and their token index, login
-- history, TOTP state, one-time email tokens.

CREATE TABLE sessionid_session (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tokenhash_sessionid (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE userid_loginhistory (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE userid_totp (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tokenhash_authtoken (key bytea PRIMARY KEY, value bytea NOT NULL);
