-- Migration 2: JSON-lines inputs (CrowdStrike Falcon FDR, NXLog renderings of Windows events)
-- and the CrowdStrike lookup data that names hosts and users. See docs/schema.md.

-- Records of a file that went into lookup tables (FDR aidmaster / userinfo), not process_events.
ALTER TABLE input_files ADD COLUMN lookups_loaded INTEGER NOT NULL DEFAULT 0;

-- What a ProcessRollup2 event said before lookups resolved it, and what it resolved to; one row
-- per CrowdStrike event. dest, user and parent_process_id of process_events are derived from
-- these and the lookup tables (view crowdstrike_resolution), so the result does not depend on
-- the order files arrive in; the resolved_* columns mirror process_events so that a pass can
-- find the rows a new file changes without reading the big table.
CREATE TABLE crowdstrike_events (
  event_id       INTEGER PRIMARY KEY REFERENCES process_events(event_id),
  aid            TEXT COLLATE NOCASE,  -- Falcon sensor (agent) id
  computer_name  TEXT,                 -- ComputerName in the event itself (exports), if any
  user_name      TEXT,                 -- UserName in the event itself, if any
  user_sid       TEXT COLLATE NOCASE,  -- UserSid (or the UID on macOS/Linux), as process_events.user_id
  fdr_event_id   TEXT,                 -- the event's own id (FDR "id", a UUID)
  process_guid   TEXT,                 -- TargetProcessId, as process_events.process_guid
  process_id     INTEGER,              -- RawProcessId, as process_events.process_id
  parent_guid    TEXT,                 -- ParentProcessId, as process_events.parent_process_guid
  resolved_dest  TEXT,                 -- = process_events.dest
  resolved_user  TEXT,                 -- = process_events.user
  resolved_parent_process_id INTEGER   -- = process_events.parent_process_id
);
-- Finds a parent's event by its Falcon id within one sensor. Kept here, not on process_events,
-- so that Sysmon and 4688 rows pay nothing for it (a random-key index on the big table halves
-- insert speed: docs/performance.md).
CREATE INDEX crowdstrike_events_aid_guid ON crowdstrike_events(aid, process_guid, process_id);

-- FDR aidmaster: one row per record read (a sensor can be described more than once).
CREATE TABLE crowdstrike_hosts (
  host_record_id INTEGER PRIMARY KEY,
  aid            TEXT NOT NULL COLLATE NOCASE,
  computer_name  TEXT,
  machine_domain TEXT,
  ou             TEXT,
  site_name      TEXT,
  platform       TEXT,                 -- event_platform: Win, Mac, Lin
  os_version     TEXT,                 -- Version, e.g. 'Windows 10'
  seen_time_us   INTEGER,              -- Time of the record, microseconds since 1970 UTC
  file_id        INTEGER NOT NULL REFERENCES input_files(file_id),
  record_offset  INTEGER NOT NULL,
  raw            TEXT NOT NULL
);
CREATE INDEX crowdstrike_hosts_aid ON crowdstrike_hosts(aid, seen_time_us);

-- FDR userinfo: one row per record read.
CREATE TABLE crowdstrike_users (
  user_record_id INTEGER PRIMARY KEY,
  user_sid       TEXT NOT NULL COLLATE NOCASE,  -- UserSid_readable
  user           TEXT,                 -- User: DOMAIN\NAME
  user_name      TEXT,                 -- UserName
  account_type   TEXT,
  last_logged_on_host TEXT,
  seen_time_us   INTEGER,              -- _time of the record, microseconds since 1970 UTC
  file_id        INTEGER NOT NULL REFERENCES input_files(file_id),
  record_offset  INTEGER NOT NULL,
  raw            TEXT NOT NULL
);
CREATE INDEX crowdstrike_users_sid ON crowdstrike_users(user_sid, seen_time_us);

-- Facts about the case as a whole, by name. 'crowdstrike_pending' is present while CrowdStrike
-- events or lookups were added since the last resolution (ingest/sql/resolve_crowdstrike.sql).
CREATE TABLE case_state (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- The rules that name CrowdStrike hosts and users and find parents (docs/normalization.md), in
-- one place: ingest applies them to each event as it is written and, after a run, to every
-- event whose answer a later file changed (ingest/sql/resolve_crowdstrike.sql).
CREATE VIEW crowdstrike_resolution AS
SELECT
  c.event_id,
  -- aidmaster ComputerName (newest record for the aid), else the event's ComputerName, else the aid
  COALESCE(
    (SELECT h.computer_name FROM crowdstrike_hosts AS h
     WHERE h.aid = c.aid AND h.computer_name IS NOT NULL
     ORDER BY h.seen_time_us DESC, h.host_record_id DESC LIMIT 1),
    c.computer_name, c.aid) AS dest,
  -- userinfo User (else its UserName; newest record for the SID), else the event's UserName,
  -- else a well-known account's Windows name (as ingest/normalize_util.cpp WellKnownAccountName),
  -- else the SID (a UID on macOS and Linux is not shown as a user)
  COALESCE(
    (SELECT COALESCE(u.user, u.user_name) FROM crowdstrike_users AS u
     WHERE u.user_sid = c.user_sid AND COALESCE(u.user, u.user_name) IS NOT NULL
     ORDER BY u.seen_time_us DESC, u.user_record_id DESC LIMIT 1),
    c.user_name,
    CASE c.user_sid
      WHEN 'S-1-5-18' THEN 'NT AUTHORITY\SYSTEM'
      WHEN 'S-1-5-19' THEN 'NT AUTHORITY\LOCAL SERVICE'
      WHEN 'S-1-5-20' THEN 'NT AUTHORITY\NETWORK SERVICE'
    END,
    CASE WHEN c.user_sid LIKE 'S-1-%' THEN c.user_sid END) AS user,
  -- the OS pid of the parent's own ProcessRollup2 on the same sensor; NULL when not in the data
  (SELECT p.process_id FROM crowdstrike_events AS p
   WHERE p.aid = c.aid AND p.process_guid = c.parent_guid AND p.process_id IS NOT NULL
   ORDER BY p.event_id LIMIT 1) AS parent_process_id
FROM crowdstrike_events AS c;
