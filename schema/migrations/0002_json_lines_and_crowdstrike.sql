-- Migration 2: JSON-lines inputs (CrowdStrike Falcon FDR, NXLog renderings of Windows events)
-- and the CrowdStrike lookup data that names hosts and users. See docs/schema.md.

-- Records of a file that went into lookup tables (FDR aidmaster / userinfo), not process_events.
ALTER TABLE input_files ADD COLUMN lookups_loaded INTEGER NOT NULL DEFAULT 0;

-- What a ProcessRollup2 event said before lookups resolved it; one row per CrowdStrike event.
-- dest, user and parent_process_id of process_events are derived from these and the lookup
-- tables after every ingest, so the result does not depend on the order files arrive in.
CREATE TABLE crowdstrike_events (
  event_id       INTEGER PRIMARY KEY REFERENCES process_events(event_id),
  aid            TEXT COLLATE NOCASE,  -- Falcon sensor (agent) id
  computer_name  TEXT,                 -- ComputerName in the event itself (exports), if any
  user_name      TEXT,                 -- UserName in the event itself, if any
  fdr_event_id   TEXT,                 -- the event's own id (FDR "id", a UUID)
  process_guid   TEXT                  -- TargetProcessId, as process_events.process_guid
);
-- Finds a parent's event by its Falcon id within one sensor. Kept here, not on process_events,
-- so that Sysmon and 4688 rows pay nothing for it (a random-key index on the big table halves
-- insert speed: docs/performance.md).
CREATE INDEX crowdstrike_events_aid_guid ON crowdstrike_events(aid, process_guid);

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
