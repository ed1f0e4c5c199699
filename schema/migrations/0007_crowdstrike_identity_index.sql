-- Migration 7: CrowdStrike event identity looked up through crowdstrike_events_aid_guid.
--
-- Migration 5 indexed fdr_event_id for the event-identity lookup of each new CrowdStrike event.
-- FDR ids are random UUIDs, so every insert landed on a random page of that index, and once the
-- index outgrew SQLite's page cache, inserting FDR events took twice as long (1,000,000 events:
-- 118 s against 60 s; docs/performance.md). The identity (sensor, process, FDR id) is found as
-- well through the (aid, process_guid, process_id) index of migration 2, whose keys grow in
-- order per sensor.
DROP INDEX crowdstrike_events_fdr_id;
