-- Migration 23: a failure with no baseline (no ancestor of the failing revision
-- passed the job on the class in any flight) gets a flight of a baseline candidate
-- (the gate's tested revision, or the failing revision's first parent); the bisector
-- decides when its result comes: pass -> bisect, fail -> still failing.
CREATE TABLE baselines (
	id INTEGER PRIMARY KEY,
	tree_id INTEGER REFERENCES trees(id),
	job TEXT NOT NULL,
	class TEXT NOT NULL,
	bad TEXT NOT NULL,			-- the failing revision
	trigger_attempt INTEGER REFERENCES attempts(id),
	trigger_flight INTEGER REFERENCES flights(id),
	tested TEXT NOT NULL,			-- the candidate
	flight_id INTEGER REFERENCES flights(id),
	state TEXT NOT NULL CHECK (state IN ('untested', 'pass', 'fail')),
	created INTEGER NOT NULL,
	finished INTEGER
);
CREATE INDEX baselines_flight ON baselines (flight_id);
CREATE INDEX baselines_trigger ON baselines (trigger_flight);
