-- Migration 133: a counter of the changes that can move a measured flake rate
-- (issue 20: the branch matrix and a board's page show the flake rate of each job
-- on its board class, db_bisect_flake_rate's walk of the newest 500 pass/fail
-- results; a fifth of the matrix's time went to walking them again at each view).
--
-- result_changes.n grows in the transaction of every change that can alter what
-- that walk reads: a test attempt's pass or fail made, changed or deleted (its
-- state, kind, job, board or flight); a board made, deleted, or moved to another
-- class, agent or visibility; an agent made, renamed or deleted; a flight moved to
-- another revision or deleted; a revision moved to another tree or deleted. A
-- reader that remembers a rate with the n it read in the same snapshot may give it
-- again while n is unchanged (db_bisect_flake_rate does, on committed data only).
-- n moves to the milliseconds since 1970 when that is more than n + 1, so that a
-- store restored from an older copy does not give again, for other rows, an n a
-- running controller has already seen.
CREATE TABLE result_changes (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n INTEGER NOT NULL
);
INSERT INTO result_changes (id, n) VALUES (1, 0);

CREATE TRIGGER result_changes_attempt_new AFTER INSERT ON attempts
	WHEN NEW.kind = 'test' AND NEW.state IN ('pass', 'fail')
BEGIN
	UPDATE result_changes SET n = max(n + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER result_changes_attempt_moved
	AFTER UPDATE OF state, kind, job, board, flight_id ON attempts
	WHEN (NEW.kind = 'test' AND NEW.state IN ('pass', 'fail'))
		OR (OLD.kind = 'test' AND OLD.state IN ('pass', 'fail'))
BEGIN
	UPDATE result_changes SET n = max(n + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER result_changes_attempt_gone AFTER DELETE ON attempts
	WHEN OLD.kind = 'test' AND OLD.state IN ('pass', 'fail')
BEGIN
	UPDATE result_changes SET n = max(n + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER result_changes_board_new AFTER INSERT ON boards
BEGIN
	UPDATE result_changes SET n = max(n + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER result_changes_board_moved
	AFTER UPDATE OF name, class, agent_id, visibility ON boards
	WHEN NEW.name IS NOT OLD.name OR NEW.class IS NOT OLD.class
		OR NEW.agent_id IS NOT OLD.agent_id OR NEW.visibility IS NOT OLD.visibility
BEGIN
	UPDATE result_changes SET n = max(n + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER result_changes_board_gone AFTER DELETE ON boards
BEGIN
	UPDATE result_changes SET n = max(n + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER result_changes_agent_new AFTER INSERT ON agents
BEGIN
	UPDATE result_changes SET n = max(n + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER result_changes_agent_renamed AFTER UPDATE OF name ON agents
	WHEN NEW.name IS NOT OLD.name
BEGIN
	UPDATE result_changes SET n = max(n + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER result_changes_agent_gone AFTER DELETE ON agents
BEGIN
	UPDATE result_changes SET n = max(n + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER result_changes_flight_moved AFTER UPDATE OF revision_id ON flights
	WHEN NEW.revision_id IS NOT OLD.revision_id
BEGIN
	UPDATE result_changes SET n = max(n + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER result_changes_flight_gone AFTER DELETE ON flights
BEGIN
	UPDATE result_changes SET n = max(n + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER result_changes_revision_moved AFTER UPDATE OF tree_id, commit_id ON revisions
	WHEN NEW.tree_id IS NOT OLD.tree_id OR NEW.commit_id IS NOT OLD.commit_id
BEGIN
	UPDATE result_changes SET n = max(n + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER result_changes_revision_gone AFTER DELETE ON revisions
BEGIN
	UPDATE result_changes SET n = max(n + 1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
