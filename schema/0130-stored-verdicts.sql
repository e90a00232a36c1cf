-- Migration 130: verdicts judged once, when what they depend on is written, so that
-- the pages read them (the read pool) instead of computing them per request.
--
-- attempts.slower: a passing test attempt's `slower` verdict (perf.h), judged when
-- its result is stored: the JSON of its slowest stage past the board's spread, or
-- NULL; perf_judged is 1 once judged (older attempts are judged by a bounded pass
-- on the writer, newest first: perf_backfill).
ALTER TABLE attempts ADD COLUMN slower TEXT;
ALTER TABLE attempts ADD COLUMN perf_judged INTEGER NOT NULL DEFAULT 0;
-- The passing test attempts still to judge, newest first, without a scan.
CREATE INDEX attempts_perf_unjudged ON attempts (id) WHERE perf_judged = 0 AND kind = 'test'
	AND state = 'pass';

-- flights.triage: the flight's verdict classes (triage.h), the JSON array of its
-- rows as triage_row_json gives them, stored by the writer whenever something they
-- depend on changed. triage_stale says it must be judged again: 1 at once (set by
-- the triggers below, in the transaction that made the change; triage_store_stale
-- judges it before that transaction commits or ctl.lock is let go), 2 by the bounded
-- pass (the flights from before this migration, newest first).
ALTER TABLE flights ADD COLUMN triage TEXT;
ALTER TABLE flights ADD COLUMN triage_stale INTEGER NOT NULL DEFAULT 1;
UPDATE flights SET triage_stale = 2;
CREATE INDEX flights_triage_stale ON flights (triage_stale, id) WHERE triage_stale > 0;

-- What a flight's classes read: its attempts (a new one, a state or reason
-- changed), the known issues they matched, its failures' retests and baselines.
CREATE TRIGGER triage_attempt_new AFTER INSERT ON attempts WHEN NEW.flight_id IS NOT NULL
BEGIN
	UPDATE flights SET triage_stale = 1 WHERE id = NEW.flight_id AND triage_stale <> 1;
END;
CREATE TRIGGER triage_attempt_state AFTER UPDATE OF state, reason, board ON attempts
	WHEN NEW.flight_id IS NOT NULL
BEGIN
	UPDATE flights SET triage_stale = 1 WHERE id = NEW.flight_id AND triage_stale <> 1;
END;
CREATE TRIGGER triage_known_issue AFTER INSERT ON known_issue_matches
BEGIN
	UPDATE flights SET triage_stale = 1 WHERE triage_stale <> 1
		AND id = (SELECT flight_id FROM attempts WHERE id = NEW.attempt_id);
END;
CREATE TRIGGER triage_retest_new AFTER INSERT ON retests
BEGIN
	UPDATE flights SET triage_stale = 1 WHERE id = NEW.flight_id AND triage_stale <> 1;
END;
CREATE TRIGGER triage_retest AFTER UPDATE ON retests
BEGIN
	UPDATE flights SET triage_stale = 1 WHERE id = NEW.flight_id AND triage_stale <> 1;
END;
CREATE TRIGGER triage_baseline_new AFTER INSERT ON baselines
	WHEN NEW.trigger_flight IS NOT NULL
BEGIN
	UPDATE flights SET triage_stale = 1 WHERE id = NEW.trigger_flight AND triage_stale <> 1;
END;
CREATE TRIGGER triage_baseline AFTER UPDATE ON baselines WHEN NEW.trigger_flight IS NOT NULL
BEGIN
	UPDATE flights SET triage_stale = 1 WHERE id = NEW.trigger_flight AND triage_stale <> 1;
END;
