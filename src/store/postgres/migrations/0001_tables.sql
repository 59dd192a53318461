-- Migration 1: one table per engine table (store::engine::Table), each an ordered map
-- from byte keys to byte values. bytea compares bytewise, as every engine orders keys.
-- Later migrations add tables or indexes; a migration once released is never edited.

CREATE TABLE meta (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE accountid_account (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE parentid_accountid (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE alias_accountid (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE userid_user (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE email_userid (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE username_userid (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE apikeyid_apikey (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE keyhash_apikeyid (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE ownerid_apikeyid (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE groupid_group (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE groupname_groupid (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE groupid_memberid (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE memberid_groupid (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE subjectid_lastlogin (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE account_counts (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE invitationid_invitation (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tokenhash_invitationid (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE idpid_idp (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE notificationid_notification (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE caname_serverca (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE certid_cert (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE certname_certid (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE certsubject_certid (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE certid_devkey (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE brandingcolor_color (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE brandingimage_image (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE imagename_blob (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE imagename_refcount (key bytea PRIMARY KEY, value bytea NOT NULL);
