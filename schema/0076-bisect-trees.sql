-- Migration 76: bisection over tuples (docs/bisection.md, "Several trees moved").
-- A regression's flight and its baseline may differ in more than one tree (Linux
-- moved and Xen's tested ref advanced too). The bisector first finds the guilty
-- tree, as OSSTest does: it runs the baseline's tuple with one tree's change at a
-- time (runs of purpose 'isolate'), then bisects inside the tree whose change
-- alone fails, with every other tree pinned at the baseline's revision. The
-- bisection's tree, good and bad stay the regression's (its branch's tree, the
-- baseline and the failing revision of that tree); the search is kept apart.
ALTER TABLE bisections ADD COLUMN moved TEXT;		-- JSON {tree: {good, bad}} when several trees moved
ALTER TABLE bisections ADD COLUMN guilty_tree_id INTEGER REFERENCES trees(id);	-- the tree searched
ALTER TABLE bisections ADD COLUMN guilty_good TEXT;	-- its range (NULL: good and bad)
ALTER TABLE bisections ADD COLUMN guilty_bad TEXT;
ALTER TABLE bisections ADD COLUMN pins TEXT;		-- JSON tuple its steps pin (NULL: the trigger flight's)
-- SQLite cannot change a CHECK constraint: bisection_runs is rebuilt with the
-- purpose 'isolate' and the tree of each run (NULL: the tree searched).
CREATE TABLE bisection_runs_new (
	id INTEGER PRIMARY KEY,
	bisection_id INTEGER NOT NULL REFERENCES bisections(id),
	purpose TEXT NOT NULL CHECK (purpose IN ('trigger', 'good', 'recheck', 'search',
		'confirm culprit', 'confirm parent', 'confirm revert', 'isolate')),
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
	finished INTEGER,
	tree TEXT			-- the tree of commit_id (NULL: the tree searched)
);
INSERT INTO bisection_runs_new (id, bisection_id, purpose, commit_id, revert, tested, flight_id,
	attempt_id, board, verdict, remaining, restart, created, finished)
	SELECT id, bisection_id, purpose, commit_id, revert, tested, flight_id, attempt_id, board,
	verdict, remaining, restart, created, finished FROM bisection_runs;
DROP TABLE bisection_runs;
ALTER TABLE bisection_runs_new RENAME TO bisection_runs;
CREATE INDEX bisection_runs_bisection ON bisection_runs (bisection_id, id);
CREATE INDEX bisection_runs_flight ON bisection_runs (flight_id);
