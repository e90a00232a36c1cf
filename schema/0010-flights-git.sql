-- Migration 10: the git side of flights: what the watcher saw on each branch,
-- patch submissions, and the push gate's decisions. Times are Unix milliseconds.

-- The head the watcher last recorded ('' after the branch was deleted).
ALTER TABLE branches ADD COLUMN head TEXT;
ALTER TABLE branches ADD COLUMN head_updated INTEGER;

-- Every change the watcher saw, and what became of it: the flight it made, or
-- the flights it coalesced (a newer head replaces flights not yet started).
CREATE TABLE branch_events (
	id INTEGER PRIMARY KEY,
	branch_id INTEGER NOT NULL REFERENCES branches(id),
	change TEXT NOT NULL CHECK (change IN ('new', 'advanced', 'forced', 'deleted')),
	old TEXT,
	new TEXT,
	why TEXT NOT NULL,		-- poll, poke, webhook
	flight_id INTEGER REFERENCES flights(id),
	coalesced TEXT,			-- JSON array of the flight ids it replaced
	time INTEGER NOT NULL
);
CREATE INDEX branch_events_branch ON branch_events (branch_id, id);

-- Which branch a push flight tested (NULL for submissions and bisection steps).
ALTER TABLE flights ADD COLUMN branch_id INTEGER REFERENCES branches(id);
CREATE INDEX flights_branch ON flights (branch_id, id);

-- A patch series applied on a base: refs/xenci/submissions/<id> points at commit_id.
CREATE TABLE submissions (
	id INTEGER PRIMARY KEY,
	tree_id INTEGER NOT NULL REFERENCES trees(id),
	base TEXT NOT NULL,		-- as the user gave it
	base_commit TEXT NOT NULL,
	commit_id TEXT NOT NULL,
	ref TEXT NOT NULL UNIQUE,
	flight_id INTEGER REFERENCES flights(id),
	patches TEXT NOT NULL,		-- JSON [{subject, author, commit}]
	token_id INTEGER,		-- who submitted it
	created INTEGER NOT NULL
);

-- Each decision of a push gate: advanced (the ref moved), already (it was
-- there), held (why: a failed or untested gating job, not a fast-forward).
CREATE TABLE gate_decisions (
	id INTEGER PRIMARY KEY,
	branch_id INTEGER NOT NULL REFERENCES branches(id),
	flight_id INTEGER NOT NULL REFERENCES flights(id),
	ref TEXT NOT NULL,
	commit_id TEXT NOT NULL,
	from_commit TEXT,
	action TEXT NOT NULL CHECK (action IN ('advanced', 'already', 'held')),
	reason TEXT NOT NULL,
	time INTEGER NOT NULL,
	UNIQUE (flight_id, ref)
);
CREATE INDEX gate_decisions_branch ON gate_decisions (branch_id, id);
