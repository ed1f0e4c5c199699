-- Migration 5: files read out of archives, one row per event however many copies were read,
-- and links between the rows two sources wrote for one process. See docs/schema.md.

-- A file read from inside an archive names the archive on disk it came from and its path in
-- there ('C/Windows/System32/winevt/Logs/Security.evtx'; nested archives as 'inner.zip!x.evtx').
-- An archive itself has a row too (format 'zip', '7z', 'tar', 'gzip', ...) once all its members
-- are read; it carries no events, its members do.
ALTER TABLE input_files ADD COLUMN container_sha256 TEXT;  -- sha256 of the archive on disk it was read from
ALTER TABLE input_files ADD COLUMN member_path TEXT;  -- its path inside that archive (nested: a.zip!b.evtx)
-- Events of the file already in the case from another file (a backup copy of a log, overlapping
-- exports): not loaded again; each such copy is in event_copies.
ALTER TABLE input_files ADD COLUMN events_duplicate INTEGER NOT NULL DEFAULT 0;  -- events already in the case
CREATE INDEX input_files_member ON input_files(container_sha256, member_path)
  WHERE container_sha256 IS NOT NULL;

-- Event identity: a Windows event is its host, channel (source), EventRecordID and
-- TimeCreated; a CrowdStrike event is its sensor and FDR event id.
CREATE INDEX process_events_identity ON process_events(record_id, log_time_us)
  WHERE record_id IS NOT NULL;
CREATE INDEX crowdstrike_events_fdr_id ON crowdstrike_events(fdr_event_id)
  WHERE fdr_event_id IS NOT NULL;

-- Other copies of an event that is in process_events once: where else it was read.
CREATE TABLE event_copies (
  copy_id       INTEGER PRIMARY KEY,
  event_id      INTEGER NOT NULL REFERENCES process_events(event_id),  -- the row kept (read first)
  file_id       INTEGER NOT NULL REFERENCES input_files(file_id),      -- the file with the copy
  record_offset INTEGER NOT NULL,  -- byte offset of the copy in that file
  record_line   INTEGER            -- its 1-based line (text formats)
);
CREATE INDEX event_copies_event ON event_copies(event_id);

-- Rows of different sources that are one process: same host, same process id and image, start
-- times within one second (Sysmon 1 and Security 4688 both log every process). Only rows with a
-- partner are here; process_key is the smallest event_id of the group.
CREATE TABLE process_links (
  event_id    INTEGER PRIMARY KEY REFERENCES process_events(event_id),
  process_key INTEGER NOT NULL
);
CREATE INDEX process_links_key ON process_links(process_key);

-- Which Windows sources each host has events from, so that links are looked for only on hosts
-- logged by two sources. Kept by ingest.
CREATE TABLE host_sources (
  dest        TEXT NOT NULL COLLATE NOCASE,
  data_source TEXT NOT NULL COLLATE NOCASE,
  PRIMARY KEY (dest, data_source)
) WITHOUT ROWID;
INSERT OR IGNORE INTO host_sources
SELECT DISTINCT dest, data_source FROM process_events
WHERE event_code IS NOT NULL AND dest IS NOT NULL;

-- Every process event with the process it belongs to and the sources that saw that process.
CREATE VIEW process_sightings AS
SELECT
  e.event_id,
  COALESCE(l.process_key, e.event_id) AS process_key,
  e.data_source,
  COALESCE(
    (SELECT group_concat(data_source, ', ') FROM (
       SELECT DISTINCT p.data_source FROM process_links AS k JOIN process_events AS p USING (event_id)
       WHERE k.process_key = l.process_key ORDER BY p.data_source)),
    e.data_source) AS seen_by
FROM process_events AS e LEFT JOIN process_links AS l USING (event_id);
