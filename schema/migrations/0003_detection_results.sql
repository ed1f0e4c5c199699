-- Migration 3: what `quarry detect` finds. Only detect writes these tables, and it writes
-- nothing else; re-running a detection replaces its rows. Documented in docs/schema.md.

-- One run of one detection over the case (the whole case, a time range, or a schedule replay).
CREATE TABLE detection_runs (
  run_id              INTEGER PRIMARY KEY,
  detection_id        TEXT NOT NULL COLLATE NOCASE,  -- ESCU id (UUID)
  detection_name      TEXT NOT NULL,                 -- ESCU name; Splunk's rule and risk source
  detection_version   INTEGER,
  detection_type      TEXT NOT NULL,                 -- TTP, Anomaly, Hunting, ...
  origin              TEXT NOT NULL,                 -- the YAML file, or built-in:<file>
  description         TEXT,
  known_false_positives TEXT,                        -- the detection's guidance, as written
  security_domain     TEXT,
  severity            TEXT,                          -- notable severity from the risk score
  mitre_attack_ids    TEXT NOT NULL,                 -- JSON array of technique ids
  analytic_stories    TEXT NOT NULL,                 -- JSON array
  filter_macro        TEXT NOT NULL,                 -- name of the detection's _filter macro
  filter_origin       TEXT NOT NULL,                 -- its file, or 'default' (search *)
  mode                TEXT NOT NULL CHECK (mode IN ('range', 'schedule')),
  earliest            TEXT,                          -- ISO-8601 UTC; NULL: start of the case
  latest              TEXT,                          -- ISO-8601 UTC, exclusive; NULL: end of case
  searches            INTEGER NOT NULL,              -- windows searched (1 for a range)
  results_before_filter INTEGER NOT NULL,
  results             INTEGER NOT NULL,              -- after the filter (and de-duplication)
  filter_removed      INTEGER NOT NULL,              -- results the filter macro removed
  status              TEXT NOT NULL CHECK (status IN ('ok', 'error')),
  error               TEXT,                          -- why it could not run
  notes               TEXT NOT NULL,                 -- JSON array: what a user should know
  compiled_sql        TEXT,                          -- the SQL that ran
  started_at          TEXT NOT NULL,                 -- ISO-8601 UTC wall clock
  quarry_version      TEXT NOT NULL
);
CREATE INDEX detection_runs_detection ON detection_runs(detection_id);

-- Every result row of every run, as the detection's search returned it.
CREATE TABLE detection_results (
  result_id       INTEGER PRIMARY KEY,
  run_id          INTEGER NOT NULL REFERENCES detection_runs(run_id),
  detection_id    TEXT NOT NULL COLLATE NOCASE,
  result_number   INTEGER NOT NULL,      -- 1-based place in the run's output
  fields          TEXT NOT NULL,         -- JSON object: the row, columns in the search's order
  dest            TEXT COLLATE NOCASE,   -- notable field dest (NULL when the row has none)
  user            TEXT COLLATE NOCASE,   -- notable field user
  result_time     TEXT NOT NULL,         -- ISO-8601 UTC the result is dated (docs/detections.md)
  window_earliest TEXT,                  -- schedule replay: the window that first raised it
  window_latest   TEXT,
  run_time        TEXT                   -- schedule replay: when Splunk would have run it
);
CREATE INDEX detection_results_run ON detection_results(run_id);

-- Notables: the results of detections Splunk ES raises notables for (TTP, Correlation).
CREATE VIEW notables AS
SELECT
  r.result_id AS notable_id, r.run_id, r.detection_id, d.detection_name AS rule_name,
  d.detection_name AS rule_title, d.description AS rule_description, d.security_domain,
  d.severity, r.dest, r.user, r.fields, r.result_time, r.window_earliest, r.window_latest,
  r.run_time
FROM detection_results AS r JOIN detection_runs AS d USING (run_id)
WHERE d.detection_type IN ('TTP', 'Correlation');

-- Risk events, one per risk object per result, with Splunk's field names.
CREATE TABLE risk_events (
  risk_event_id       INTEGER PRIMARY KEY,
  result_id           INTEGER NOT NULL REFERENCES detection_results(result_id),
  run_id              INTEGER NOT NULL REFERENCES detection_runs(run_id),
  detection_id        TEXT NOT NULL COLLATE NOCASE,
  source              TEXT NOT NULL,             -- the detection's name, as Splunk's source
  _time               TEXT NOT NULL,             -- ISO-8601 UTC (the result's time)
  time_us             INTEGER NOT NULL,          -- the same, microseconds since 1970 UTC
  risk_object         TEXT NOT NULL COLLATE NOCASE,
  risk_object_type    TEXT NOT NULL,             -- system, user or other
  risk_score          INTEGER NOT NULL,          -- impact x confidence / 100, or the rba score
  risk_message        TEXT NOT NULL,             -- $field$ tokens filled from the result
  threat_objects      TEXT NOT NULL,             -- JSON array of {threat_object, threat_object_type}
  mitre_technique_ids TEXT NOT NULL,             -- JSON array
  mitre_tactic_ids    TEXT NOT NULL,             -- JSON array, TA00xx
  mitre_tactics       TEXT NOT NULL,             -- JSON array of tactic names
  analytic_stories    TEXT NOT NULL              -- JSON array
);
CREATE INDEX risk_events_object ON risk_events(risk_object, risk_object_type, time_us);

-- Risk summed per risk object over the whole case.
CREATE VIEW risk_by_object AS
SELECT
  risk_object, risk_object_type, sum(risk_score) AS risk_score_sum, count(*) AS risk_events,
  count(DISTINCT detection_id) AS detections, min(_time) AS first_time, max(_time) AS last_time
FROM risk_events
GROUP BY risk_object COLLATE NOCASE, risk_object_type;

-- Splunk ES's default risk incident rules, evaluated over the case's risk events.
CREATE TABLE risk_incidents (
  incident_id       INTEGER PRIMARY KEY,
  rule              TEXT NOT NULL,  -- the ES rule's name
  risk_object       TEXT NOT NULL COLLATE NOCASE,
  risk_object_type  TEXT NOT NULL,
  window_start      TEXT NOT NULL,  -- ISO-8601 UTC: the window in which the rule held most
  window_end        TEXT NOT NULL,  --   strongly (highest sum, or most tactics); the earliest of ties
  risk_score_sum    INTEGER NOT NULL,  -- risk in that window
  tactics           INTEGER NOT NULL,  -- distinct ATT&CK tactics in that window
  sources           INTEGER NOT NULL,  -- distinct detections in that window
  severity          TEXT NOT NULL      -- medium, high, critical
);
