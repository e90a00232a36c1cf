-- Migration 20: bisection of regressions (controller/bisect*.c, docs/bisection.md).
-- The core's bisections table gets the regression's context and the outcome;
-- every run a bisection made (or reused) is one row of bisection_runs, which is
-- all the state a bisection has: the algorithm is replayed from these rows.

ALTER TABLE bisections ADD COLUMN branch_id INTEGER REFERENCES branches(id);
ALTER TABLE bisections ADD COLUMN board TEXT;		-- where it was detected (same board first)
ALTER TABLE bisections ADD COLUMN outcome TEXT;		-- confirmed, found, not confirmed, ...
ALTER TABLE bisections ADD COLUMN reason TEXT;		-- one line: why it ended so
ALTER TABLE bisections ADD COLUMN trigger_attempt INTEGER REFERENCES attempts(id);
ALTER TABLE bisections ADD COLUMN candidates INTEGER;	-- commits in the range
ALTER TABLE bisections ADD COLUMN remaining INTEGER;	-- commits still plausible
ALTER TABLE bisections ADD COLUMN notified INTEGER;	-- when the report was sent
ALTER TABLE bisections ADD COLUMN updated INTEGER;
ALTER TABLE bisections ADD COLUMN restarts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX bisections_range ON bisections (job, class, good);

CREATE TABLE bisection_runs (
	id INTEGER PRIMARY KEY,
	bisection_id INTEGER NOT NULL REFERENCES bisections(id),
	purpose TEXT NOT NULL CHECK (purpose IN ('trigger', 'good', 'recheck', 'search',
		'confirm culprit', 'confirm parent', 'confirm revert')),
	commit_id TEXT NOT NULL,	-- the commit run; for a revert, the culprit reverted
	revert INTEGER NOT NULL DEFAULT 0,
	tested TEXT,			-- the revision built (a revert: the scratch commit)
	flight_id INTEGER REFERENCES flights(id),
	attempt_id INTEGER REFERENCES attempts(id),
	board TEXT,
	verdict TEXT CHECK (verdict IN ('pass', 'fail', 'infra', 'unbuildable')),
	remaining INTEGER,		-- commits still plausible after this run
	restart INTEGER NOT NULL DEFAULT 0,	-- the bisection's restart count it belongs to
	created INTEGER NOT NULL,
	finished INTEGER
);
CREATE INDEX bisection_runs_bisection ON bisection_runs (bisection_id, id);
CREATE INDEX bisection_runs_flight ON bisection_runs (flight_id);
