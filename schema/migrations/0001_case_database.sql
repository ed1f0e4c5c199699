-- Migration 1: the first case database. Append-only: never edit this file once it has landed;
-- add 0002_*.sql instead. Column meanings are documented in docs/schema.md.

-- Every input file Quarry looked at, loaded or not.
CREATE TABLE input_files (
  file_id          INTEGER PRIMARY KEY,
  path             TEXT NOT NULL,             -- absolute path as read (later: archive!member)
  sha256           TEXT NOT NULL UNIQUE,      -- lower-case hex of the file's bytes, taken before parsing
  size_bytes       INTEGER NOT NULL,          -- bytes
  format           TEXT,                      -- 'event_xml', or NULL when not recognised
  encoding         TEXT,                      -- 'utf-8' or 'utf-16le' for text formats
  status           TEXT NOT NULL CHECK (status IN ('loaded', 'skipped')),
  reason           TEXT,                      -- why a skipped file was skipped
  events_loaded    INTEGER NOT NULL DEFAULT 0, -- rows added to process_events
  events_skipped   INTEGER NOT NULL DEFAULT 0, -- well-formed events that are not process creation
  records_rejected INTEGER NOT NULL DEFAULT 0, -- records that could not be read (see ingest_warnings)
  warnings         INTEGER NOT NULL DEFAULT 0, -- rows in ingest_warnings for this file
  ingested_at      TEXT NOT NULL,             -- ISO-8601 UTC, when the file's transaction began
  quarry_version   TEXT NOT NULL              -- version of the binary that read the file
);

-- Normalized process-creation events; one row per event, CIM Endpoint.Processes column names.
-- Text columns compare case-insensitively (COLLATE NOCASE) as Splunk's field=value does.
CREATE TABLE process_events (
  event_id                  INTEGER PRIMARY KEY,
  time_us                   INTEGER NOT NULL,  -- process start, microseconds since 1970-01-01 UTC
  dest                      TEXT COLLATE NOCASE,
  user                      TEXT COLLATE NOCASE,
  user_id                   TEXT COLLATE NOCASE,
  process                   TEXT COLLATE NOCASE,
  process_name              TEXT COLLATE NOCASE,
  process_path              TEXT COLLATE NOCASE,
  process_id                INTEGER,
  process_guid              TEXT COLLATE NOCASE,
  process_hash              TEXT COLLATE NOCASE,
  process_integrity_level   TEXT COLLATE NOCASE,
  process_current_directory TEXT COLLATE NOCASE,
  original_file_name        TEXT COLLATE NOCASE,
  parent_process            TEXT COLLATE NOCASE,
  parent_process_name       TEXT COLLATE NOCASE,
  parent_process_path       TEXT COLLATE NOCASE,
  parent_process_id         INTEGER,
  parent_process_guid       TEXT COLLATE NOCASE,
  parent_user               TEXT COLLATE NOCASE,
  vendor_product            TEXT NOT NULL,
  action                    TEXT NOT NULL,
  -- provenance
  data_source               TEXT NOT NULL COLLATE NOCASE, -- ESCU data_source name, e.g. 'Sysmon EventID 1'
  sourcetype                TEXT NOT NULL COLLATE NOCASE, -- Splunk sourcetype, e.g. 'XmlWinEventLog'
  source                    TEXT NOT NULL COLLATE NOCASE, -- Splunk source, e.g. 'XmlWinEventLog:Security'
  event_code                INTEGER,           -- Windows EventID (1, 4688); NULL for CrowdStrike
  record_id                 INTEGER,           -- EventRecordID in the originating log
  log_time_us               INTEGER,           -- System/TimeCreated, microseconds since 1970 UTC
  file_id                   INTEGER NOT NULL REFERENCES input_files(file_id),
  record_offset             INTEGER NOT NULL,  -- byte offset of the record in the input file
  record_line               INTEGER,           -- 1-based line of the record's first byte (text formats)
  raw                       TEXT NOT NULL      -- the record exactly as read (UTF-8)
);

CREATE INDEX process_events_process_name ON process_events(process_name);
CREATE INDEX process_events_original_file_name ON process_events(original_file_name);
CREATE INDEX process_events_dest_time ON process_events(dest, time_us);
CREATE INDEX process_events_time ON process_events(time_us);
CREATE INDEX process_events_file ON process_events(file_id, record_offset);

-- Records that could not be loaded, or loaded with a damaged field.
CREATE TABLE ingest_warnings (
  warning_id  INTEGER PRIMARY KEY,
  file_id     INTEGER NOT NULL REFERENCES input_files(file_id),
  byte_offset INTEGER,          -- where the record starts in the input file
  line        INTEGER,          -- 1-based line of the record's first byte (text formats)
  record_id   INTEGER,          -- EventRecordID when it could be read
  severity    TEXT NOT NULL CHECK (severity IN ('rejected', 'field')),
  reason      TEXT NOT NULL,    -- what is wrong, for people
  excerpt     BLOB              -- the first 200 bytes of the record as read
);
CREATE INDEX ingest_warnings_file ON ingest_warnings(file_id);

-- Microseconds since 1970 UTC -> ISO-8601 UTC text with microseconds, also before 1970.
-- (SQLite has no user functions in plain sqlite3, so views spell it out.)
CREATE VIEW processes AS
SELECT
  strftime('%Y-%m-%dT%H:%M:%S', (time_us - ((time_us % 1000000) + 1000000) % 1000000) / 1000000,
           'unixepoch')
    || printf('.%06dZ', ((time_us % 1000000) + 1000000) % 1000000) AS _time,
  dest, user, user_id, process, process_name, process_path, process_id, process_guid,
  process_hash, process_integrity_level, process_current_directory, original_file_name,
  parent_process, parent_process_name, parent_process_path, parent_process_id,
  parent_process_guid, parent_user, vendor_product, action,
  sourcetype, source, event_id
FROM process_events;

-- Where each process event came from: the file, its hash, the place in it, the raw record.
CREATE VIEW process_evidence AS
SELECT
  e.event_id, e.data_source, e.event_code, e.record_id, f.path AS file_path,
  f.sha256 AS file_sha256, e.record_offset, e.record_line, e.raw
FROM process_events AS e JOIN input_files AS f USING (file_id);
