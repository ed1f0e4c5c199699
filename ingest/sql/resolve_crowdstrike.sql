-- Brings dest, user and parent_process_id of CrowdStrike rows up to date with the lookup
-- records and events stored since they were written (view crowdstrike_resolution holds the
-- rules). Run by ingest when CrowdStrike data was added since the last run of it (case_state
-- 'crowdstrike_pending'). It compares within crowdstrike_events and rewrites only the rows whose
-- answer changed (an aidmaster file after the events, a parent in a later file), so the result
-- is the same whatever order the files arrived in, at the cost of one pass over the small table.

CREATE TEMP TABLE crowdstrike_changes (
  event_id INTEGER PRIMARY KEY,
  dest TEXT,
  user TEXT,
  parent_process_id INTEGER
);

INSERT INTO temp.crowdstrike_changes
SELECT r.event_id, r.dest, r.user, r.parent_process_id
FROM crowdstrike_resolution AS r JOIN crowdstrike_events AS c USING (event_id)
WHERE c.resolved_dest IS NOT r.dest OR c.resolved_user IS NOT r.user
   OR c.resolved_parent_process_id IS NOT r.parent_process_id;

UPDATE process_events
SET (dest, user, parent_process_id) = (
  SELECT ch.dest, ch.user, ch.parent_process_id FROM temp.crowdstrike_changes AS ch
  WHERE ch.event_id = process_events.event_id)
WHERE event_id IN (SELECT event_id FROM temp.crowdstrike_changes);

UPDATE crowdstrike_events
SET (resolved_dest, resolved_user, resolved_parent_process_id) = (
  SELECT ch.dest, ch.user, ch.parent_process_id FROM temp.crowdstrike_changes AS ch
  WHERE ch.event_id = crowdstrike_events.event_id)
WHERE event_id IN (SELECT event_id FROM temp.crowdstrike_changes);

DROP TABLE temp.crowdstrike_changes;

DELETE FROM case_state WHERE name = 'crowdstrike_pending';
