-- Migration 134: a counter per flight of the changes that can move its row of the
-- branch matrix (issue 20: the matrix reads the newest attempt of each (job, board)
-- of its 20 flights at every view; the flights it shows are mostly finished, and
-- their rows were a third of its time).
--
-- flights.changes grows in the transaction of every change that can alter what
-- db_flight_newest_tests reads of that flight: one of its attempts made or deleted,
-- or moved to another state, kind, job, board, number, `slower` or flight; its
-- stored triage rewritten; a board made, deleted, renamed or moved to another
-- class, visibility or agent, or its agent made or deleted (the flights with
-- attempts on it: whether a private board shows rests on its row and its agent's).
-- A read thread that remembers a flight's rows with the changes it read before
-- them may give them again while changes is unchanged (db_flight_newest_tests and
-- the branch matrix's rows in twins.c do, on committed data only). changes moves to the
-- milliseconds since 1970 when that is more than changes + 1, so that a store
-- restored from an older copy does not give again, for other rows, a value a
-- running controller has already seen.
ALTER TABLE flights ADD COLUMN changes INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER flight_changes_attempt_new AFTER INSERT ON attempts
	WHEN NEW.flight_id IS NOT NULL
BEGIN
	UPDATE flights SET changes = max(changes + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
		WHERE id = NEW.flight_id;
END;
CREATE TRIGGER flight_changes_attempt_moved
	AFTER UPDATE OF state, kind, job, board, number, slower, flight_id ON attempts
	WHEN OLD.state IS NOT NEW.state OR OLD.kind IS NOT NEW.kind OR OLD.job IS NOT NEW.job
		OR OLD.board IS NOT NEW.board OR OLD.number IS NOT NEW.number
		OR OLD.slower IS NOT NEW.slower OR OLD.flight_id IS NOT NEW.flight_id
BEGIN
	UPDATE flights SET changes = max(changes + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
		WHERE id IN (OLD.flight_id, NEW.flight_id);
END;
CREATE TRIGGER flight_changes_attempt_gone AFTER DELETE ON attempts
	WHEN OLD.flight_id IS NOT NULL
BEGIN
	UPDATE flights SET changes = max(changes + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
		WHERE id = OLD.flight_id;
END;
CREATE TRIGGER flight_changes_triage AFTER UPDATE OF triage ON flights
	WHEN OLD.triage IS NOT NEW.triage
BEGIN
	UPDATE flights SET changes = max(changes + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
		WHERE id = NEW.id;
END;
CREATE TRIGGER flight_changes_board_new AFTER INSERT ON boards
BEGIN
	UPDATE flights SET changes = max(changes + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
		WHERE id IN (SELECT flight_id FROM attempts WHERE board = NEW.name);
END;
CREATE TRIGGER flight_changes_board_moved
	AFTER UPDATE OF name, class, visibility, agent_id ON boards
	WHEN OLD.name IS NOT NEW.name OR OLD.class IS NOT NEW.class
		OR OLD.visibility IS NOT NEW.visibility OR OLD.agent_id IS NOT NEW.agent_id
BEGIN
	UPDATE flights SET changes = max(changes + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
		WHERE id IN (SELECT flight_id FROM attempts WHERE board IN (OLD.name, NEW.name));
END;
CREATE TRIGGER flight_changes_board_gone AFTER DELETE ON boards
BEGIN
	UPDATE flights SET changes = max(changes + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
		WHERE id IN (SELECT flight_id FROM attempts WHERE board = OLD.name);
END;
CREATE TRIGGER flight_changes_agent_new AFTER INSERT ON agents
BEGIN
	UPDATE flights SET changes = max(changes + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
		WHERE id IN (SELECT a.flight_id FROM attempts a JOIN boards b ON b.name = a.board
			WHERE b.agent_id = NEW.id);
END;
CREATE TRIGGER flight_changes_agent_gone AFTER DELETE ON agents
BEGIN
	UPDATE flights SET changes = max(changes + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
		WHERE id IN (SELECT a.flight_id FROM attempts a JOIN boards b ON b.name = a.board
			WHERE b.agent_id = OLD.id);
END;
