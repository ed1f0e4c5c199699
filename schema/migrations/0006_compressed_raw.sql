-- Migration 6: raw records kept compressed. See docs/schema.md, "Raw records".
--
-- process_events.raw holds either the record's text (as before) or, from this version on, a zstd
-- frame of that text: typeof(raw) says which. Most frames use a dictionary trained on the case's
-- first records of the same data source; the frame names the dictionary by its id. Quarry's
-- connections expand either form with quarry_raw(raw); the views below do it for you.

-- zstd dictionaries the case's raw records are compressed with.
CREATE TABLE raw_dictionaries (
  dict_id     INTEGER PRIMARY KEY,  -- the dictionary id written in each frame that uses it
  data_source TEXT NOT NULL,        -- the data source whose records trained it ('Sysmon EventID 1')
  samples     INTEGER NOT NULL,     -- how many records it was trained on
  file_id     INTEGER NOT NULL REFERENCES input_files(file_id),  -- the file being read then
  dictionary  BLOB NOT NULL         -- the zstd dictionary
);

DROP VIEW process_evidence;
-- Where each process event came from: the file, its hash, the place in it, the raw record as text.
CREATE VIEW process_evidence AS
SELECT
  e.event_id, e.data_source, e.event_code, e.record_id, f.path AS file_path,
  f.sha256 AS file_sha256, e.record_offset, e.record_line, quarry_raw(e.raw) AS raw
FROM process_events AS e JOIN input_files AS f USING (file_id);
