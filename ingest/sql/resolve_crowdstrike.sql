-- Derives dest, user and parent_process_id of CrowdStrike rows from what the events said
-- (crowdstrike_events) and the FDR lookup records (crowdstrike_hosts, crowdstrike_users). Run
-- by ingest when CrowdStrike data was added since the last run of it (case_state
-- 'crowdstrike_pending'); it reads only stored inputs, so the result is the same whatever order
-- the files arrived in. Each UPDATE visits only CrowdStrike rows, by primary key. Rules:
-- docs/normalization.md.

-- dest: aidmaster ComputerName (newest record for the aid), else the event's ComputerName,
-- else the aid.
UPDATE process_events
SET dest = (
  SELECT COALESCE(
    (SELECT h.computer_name FROM crowdstrike_hosts AS h
     WHERE h.aid = c.aid AND h.computer_name IS NOT NULL
     ORDER BY h.seen_time_us DESC, h.host_record_id DESC LIMIT 1),
    c.computer_name, c.aid)
  FROM crowdstrike_events AS c WHERE c.event_id = process_events.event_id)
WHERE event_id IN (SELECT event_id FROM crowdstrike_events);

-- user: userinfo User (DOMAIN\NAME; newest record for the SID), else its UserName, else the
-- event's UserName, else the well-known service accounts as Windows names them (as
-- ingest/normalize_util.cpp WellKnownAccountName, so SYSTEM reads the same in every source),
-- else the SID itself (a UID on macOS and Linux is not shown as a user).
UPDATE process_events
SET user = (
  SELECT COALESCE(
    (SELECT COALESCE(u.user, u.user_name) FROM crowdstrike_users AS u
     WHERE u.user_sid = process_events.user_id AND COALESCE(u.user, u.user_name) IS NOT NULL
     ORDER BY u.seen_time_us DESC, u.user_record_id DESC LIMIT 1),
    c.user_name,
    CASE process_events.user_id
      WHEN 'S-1-5-18' THEN 'NT AUTHORITY\SYSTEM'
      WHEN 'S-1-5-19' THEN 'NT AUTHORITY\LOCAL SERVICE'
      WHEN 'S-1-5-20' THEN 'NT AUTHORITY\NETWORK SERVICE'
    END,
    CASE WHEN process_events.user_id LIKE 'S-1-%' THEN process_events.user_id END)
  FROM crowdstrike_events AS c WHERE c.event_id = process_events.event_id)
WHERE event_id IN (SELECT event_id FROM crowdstrike_events);

-- parent_process_id: the OS pid (RawProcessId) of the parent's own ProcessRollup2 on the same
-- sensor, found by the parent's Falcon id; NULL when the parent is not in the data.
UPDATE process_events
SET parent_process_id = (
  SELECT p.process_id
  FROM crowdstrike_events AS c, crowdstrike_events AS pc, process_events AS p
  WHERE c.event_id = process_events.event_id
    AND pc.aid = c.aid AND pc.process_guid = process_events.parent_process_guid
    AND p.event_id = pc.event_id AND p.process_id IS NOT NULL
  ORDER BY p.event_id LIMIT 1)
WHERE event_id IN (SELECT event_id FROM crowdstrike_events);

DELETE FROM case_state WHERE name = 'crowdstrike_pending';
