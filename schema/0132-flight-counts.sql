-- Migration 132: a flight's attempts counted by state when they change, not per read
-- (issue 20: the flight list, a flight and what shows flights read the counts of every
-- flight they show; counting each one's attempts per request was most of the flight
-- list's cost).
--
-- flights.counts_all: {queued, running, pass, fail, infra, cancelled, starved,
-- refused} over all of the flight's attempts (what an admin sees); counts_public the
-- same over those on no board, on a board the store does not know, or on a public
-- board (what anyone sees: db.h's DB_VISIBLE without its admin and agent terms). An
-- agent's own view (its private boards too) is still counted per read
-- (db-flights.c's FLIGHT_COLS). The groups are FLIGHT_COLS's: queued is waiting +
-- queued, running claimed + running, fail fail + timeout.
--
-- View flight_counts counts them (one row per flight); the triggers below store its
-- row in the transaction that made the change: an attempt made, moved to another
-- state, board or flight, or deleted; a board made or changed private or public (the
-- flights with attempts on it).
ALTER TABLE flights ADD COLUMN counts_all TEXT;
ALTER TABLE flights ADD COLUMN counts_public TEXT;

CREATE VIEW flight_counts AS SELECT f.id AS flight_id,
	json_object(
		'queued', count(CASE WHEN a.state IN ('waiting', 'queued') THEN 1 END),
		'running', count(CASE WHEN a.state IN ('claimed', 'running') THEN 1 END),
		'pass', count(CASE WHEN a.state = 'pass' THEN 1 END),
		'fail', count(CASE WHEN a.state IN ('fail', 'timeout') THEN 1 END),
		'infra', count(CASE WHEN a.state = 'infra' THEN 1 END),
		'cancelled', count(CASE WHEN a.state = 'cancelled' THEN 1 END),
		'starved', count(CASE WHEN a.state = 'starved' THEN 1 END),
		'refused', count(CASE WHEN a.state = 'refused' THEN 1 END)) AS counts_all,
	json_object(
		'queued', count(CASE WHEN a.state IN ('waiting', 'queued') AND p.name IS NULL THEN 1 END),
		'running', count(CASE WHEN a.state IN ('claimed', 'running') AND p.name IS NULL THEN 1 END),
		'pass', count(CASE WHEN a.state = 'pass' AND p.name IS NULL THEN 1 END),
		'fail', count(CASE WHEN a.state IN ('fail', 'timeout') AND p.name IS NULL THEN 1 END),
		'infra', count(CASE WHEN a.state = 'infra' AND p.name IS NULL THEN 1 END),
		'cancelled', count(CASE WHEN a.state = 'cancelled' AND p.name IS NULL THEN 1 END),
		'starved', count(CASE WHEN a.state = 'starved' AND p.name IS NULL THEN 1 END),
		'refused', count(CASE WHEN a.state = 'refused' AND p.name IS NULL THEN 1 END))
		AS counts_public
	FROM flights f LEFT JOIN attempts a ON a.flight_id = f.id
	LEFT JOIN boards p ON p.name = a.board AND p.visibility = 'private'
	GROUP BY f.id;

-- A flight whose counts_all is set to NULL is counted again (the one place that
-- stores the view's row: NEW.id is a value there, so SQLite reads that flight's
-- attempts alone); every change below sets it so.
CREATE TRIGGER counts_recount AFTER UPDATE OF counts_all ON flights
	WHEN NEW.counts_all IS NULL
BEGIN
	UPDATE flights SET (counts_all, counts_public) = (SELECT c.counts_all,
		c.counts_public FROM flight_counts c WHERE c.flight_id = NEW.id)
		WHERE id = NEW.id;
END;
UPDATE flights SET counts_all = NULL;

CREATE TRIGGER counts_flight_new AFTER INSERT ON flights
BEGIN
	UPDATE flights SET counts_all = NULL WHERE id = NEW.id;
END;
CREATE TRIGGER counts_attempt_new AFTER INSERT ON attempts WHEN NEW.flight_id IS NOT NULL
BEGIN
	UPDATE flights SET counts_all = NULL WHERE id = NEW.flight_id;
END;
CREATE TRIGGER counts_attempt_state AFTER UPDATE OF state, board, flight_id ON attempts
	WHEN OLD.state IS NOT NEW.state OR OLD.board IS NOT NEW.board
		OR OLD.flight_id IS NOT NEW.flight_id
BEGIN
	UPDATE flights SET counts_all = NULL WHERE id IN (OLD.flight_id, NEW.flight_id);
END;
CREATE TRIGGER counts_attempt_gone AFTER DELETE ON attempts WHEN OLD.flight_id IS NOT NULL
BEGIN
	UPDATE flights SET counts_all = NULL WHERE id = OLD.flight_id;
END;
-- A board the store did not know counted as public: made private, its attempts'
-- flights change; made public, or renamed, or gone, so do a private board's.
CREATE TRIGGER counts_board_new AFTER INSERT ON boards WHEN NEW.visibility = 'private'
BEGIN
	UPDATE flights SET counts_all = NULL
		WHERE id IN (SELECT flight_id FROM attempts WHERE board = NEW.name);
END;
CREATE TRIGGER counts_board_visibility AFTER UPDATE OF visibility, name ON boards
	WHEN OLD.visibility IS NOT NEW.visibility OR OLD.name IS NOT NEW.name
BEGIN
	UPDATE flights SET counts_all = NULL
		WHERE id IN (SELECT flight_id FROM attempts WHERE board IN (OLD.name, NEW.name));
END;
CREATE TRIGGER counts_board_gone AFTER DELETE ON boards WHEN OLD.visibility = 'private'
BEGIN
	UPDATE flights SET counts_all = NULL
		WHERE id IN (SELECT flight_id FROM attempts WHERE board = OLD.name);
END;
