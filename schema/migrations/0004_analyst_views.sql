-- Migration 4: views for a responder's first questions. Documented, with example queries, in
-- docs/schema.md ("Views for ad hoc questions").

-- Every process event in time order, the columns a timeline needs.
CREATE VIEW timeline AS
SELECT
  _time, dest, user, parent_process_name, process_name, process, process_id, parent_process_id,
  sourcetype, event_id
FROM processes
ORDER BY _time, event_id;

-- Each process event with its parent's event on the same host: through the process GUIDs when
-- the source logs them (Sysmon), else the latest earlier process with the parent's PID.
CREATE VIEW process_tree AS
SELECT
  c.event_id, c.dest, p.event_id AS parent_event_id,
  coalesce(p.process_name, c.parent_process_name) AS parent_process_name,
  c.parent_process_id, c.process_name, c.process_id, c.process,
  (SELECT t._time FROM processes AS t WHERE t.event_id = c.event_id) AS _time,
  CASE WHEN c.parent_process_guid IS NOT NULL THEN 'guid' ELSE 'pid' END AS linked_by
FROM process_events AS c
LEFT JOIN process_events AS p ON p.event_id = (
  CASE WHEN c.parent_process_guid IS NOT NULL THEN
    (SELECT g.event_id FROM process_events AS g
     WHERE g.dest = c.dest AND g.process_guid = c.parent_process_guid
     ORDER BY g.time_us DESC LIMIT 1)
  ELSE
    (SELECT q.event_id FROM process_events AS q
     WHERE q.dest = c.dest AND q.process_id = c.parent_process_id AND q.time_us <= c.time_us
       AND q.event_id <> c.event_id
     ORDER BY q.time_us DESC LIMIT 1)
  END);

-- Command lines by how often they ran across all hosts ("stack counting"): rare ones first.
CREATE VIEW command_line_stack AS
SELECT
  process, count(*) AS events, count(DISTINCT dest) AS hosts, min(_time) AS first_seen,
  max(_time) AS last_seen
FROM processes
GROUP BY process
ORDER BY events, process;

-- The same per host.
CREATE VIEW command_line_stack_by_host AS
SELECT
  dest, process, count(*) AS events, min(_time) AS first_seen, max(_time) AS last_seen
FROM processes
GROUP BY dest, process
ORDER BY dest, events, process;

-- When and where each executable (by path, else by name; compared ignoring case, as Windows
-- does) was first seen, with how often and on how many hosts it ran.
CREATE VIEW first_seen AS
WITH ranked AS (
  SELECT
    coalesce(process_path, process_name) AS executable, time_us, dest, event_id,
    row_number() OVER (PARTITION BY coalesce(process_path, process_name) COLLATE NOCASE
                       ORDER BY time_us, event_id) AS place
  FROM process_events),
totals AS (
  SELECT
    coalesce(process_path, process_name) COLLATE NOCASE AS executable, count(*) AS events,
    count(DISTINCT dest) AS hosts
  FROM process_events
  GROUP BY 1)
SELECT
  r.executable,
  (SELECT p._time FROM processes AS p WHERE p.event_id = r.event_id) AS first_seen,
  r.dest AS first_host, t.events, t.hosts
FROM ranked AS r JOIN totals AS t ON t.executable = r.executable COLLATE NOCASE
WHERE r.place = 1
ORDER BY r.time_us, r.executable;
