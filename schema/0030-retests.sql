-- Migration 30: retests before reporting (controller/triage.c, docs/flights.md).
-- A test that fails on a push flight is run once more at the same revision (on
-- another board of the class when there is one) before it is reported: fail then
-- pass is a heisenbug (pass in retest), fail then fail is confirmed and goes on to
-- its baseline and, when it is a regression, to bisection.
CREATE TABLE retests (
	id INTEGER PRIMARY KEY,
	flight_id INTEGER NOT NULL REFERENCES flights(id),	-- the flight that failed
	job TEXT NOT NULL,
	class TEXT NOT NULL,
	attempt_id INTEGER NOT NULL REFERENCES attempts(id),	-- the failure
	retest_flight INTEGER REFERENCES flights(id),
	retest_attempt INTEGER REFERENCES attempts(id),		-- the retest's result
	board TEXT,
	state TEXT NOT NULL CHECK (state IN ('untested', 'pass', 'fail', 'none')),
	created INTEGER NOT NULL,
	finished INTEGER,
	UNIQUE (flight_id, job, class)
);
CREATE INDEX retests_retest_flight ON retests (retest_flight);
