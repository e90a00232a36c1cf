-- Migration 40: an attempt may end `refused`: the agent declined it because the
-- board's trust policy does not allow it (or its builder builds no untrusted code).
-- A refusal is not a failure of the hypervisor nor of the lab: it is never retried
-- on that board and never counts toward the board's unhealthy streak. SQLite cannot
-- change a CHECK constraint, so the table is rebuilt as migration 22 did.
CREATE TABLE attempts_new (
	id INTEGER PRIMARY KEY,
	flight_id INTEGER REFERENCES flights(id),
	build_id INTEGER REFERENCES builds(id),	-- builds: the build; tests: the build they need
	kind TEXT NOT NULL CHECK (kind IN ('build', 'test')),
	job TEXT,
	board TEXT,			-- NULL: a test no board took yet (waiting, or starved)
	arch TEXT NOT NULL,
	agent TEXT,			-- the agent that claimed it
	number INTEGER NOT NULL DEFAULT 1,
	priority INTEGER NOT NULL,
	state TEXT NOT NULL CHECK (state IN ('waiting', 'queued', 'claimed', 'running',
		'pass', 'fail', 'infra', 'timeout', 'cancelled', 'starved', 'refused')),
	reason TEXT,
	stage TEXT,
	lease_expires INTEGER,
	result TEXT,			-- the result call's body, for idempotent replays
	log_length INTEGER NOT NULL DEFAULT 0,
	created INTEGER NOT NULL,
	queued_at INTEGER,
	claimed_at INTEGER,
	started_at INTEGER,
	finished_at INTEGER,
	health_check INTEGER NOT NULL DEFAULT 0
);
INSERT INTO attempts_new (id, flight_id, build_id, kind, job, board, arch, agent, number,
	priority, state, reason, stage, lease_expires, result, log_length, created, queued_at,
	claimed_at, started_at, finished_at, health_check)
	SELECT id, flight_id, build_id, kind, job, board, arch, agent, number, priority, state,
	reason, stage, lease_expires, result, log_length, created, queued_at, claimed_at,
	started_at, finished_at, health_check FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_new RENAME TO attempts;
CREATE INDEX attempts_queue ON attempts (state, board);
CREATE INDEX attempts_flight ON attempts (flight_id);
CREATE INDEX attempts_build ON attempts (build_id);
CREATE INDEX attempts_state_id ON attempts (state, id);
