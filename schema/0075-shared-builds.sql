-- Migration 75: builds are per (tree, revision, arch) and shared by every flight
-- that needs them. A build compiles one member of a flight's tuple (tree_id,
-- commit_id, kind: its recipe) for one arch; a flight's builds on an arch are
-- listed in flight_builds, and its tests on that arch wait for all of them. A
-- later flight (a push of another tree, a bisection step) that needs the same
-- tree at the same commit for the same arch takes the build that is there:
-- queued, passed, or failed (its recipe failed: the same commit fails again). A
-- build that ended infra (its tries used up: lab trouble, a timeout, a refusal,
-- a cancellation) is not taken: the next flight makes a new one. A build made
-- for an untrusted flight (a submission, a manual flight) serves untrusted
-- flights only. flight_id stays: the flight that made it (its build attempts
-- are that flight's). Rows made before have tree_id NULL: the whole tuple of
-- their flight, never shared. SQLite cannot drop UNIQUE (flight_id, arch), so
-- the table is rebuilt as migration 40 rebuilt attempts.
CREATE TABLE builds_new (
	id INTEGER PRIMARY KEY,
	flight_id INTEGER NOT NULL REFERENCES flights(id),	-- the flight that made it
	arch TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'queued',	-- queued, pass, fail, infra
	artifacts TEXT,			-- JSON {name: {sha256, size}}
	build_info TEXT,		-- JSON
	wants TEXT,			-- JSON [name, ...] (migration 55)
	tree_id INTEGER REFERENCES trees(id),	-- the member built; NULL: the flight's tuple
	commit_id TEXT,
	kind TEXT			-- the member's tree kind (its recipe)
);
INSERT INTO builds_new (id, flight_id, arch, state, artifacts, build_info, wants)
	SELECT id, flight_id, arch, state, artifacts, build_info, wants FROM builds;
DROP TABLE builds;
ALTER TABLE builds_new RENAME TO builds;
CREATE INDEX builds_member ON builds (tree_id, commit_id, arch);
CREATE INDEX builds_flight ON builds (flight_id);
CREATE TABLE flight_builds (
	flight_id INTEGER NOT NULL REFERENCES flights(id),
	arch TEXT NOT NULL,
	build_id INTEGER NOT NULL REFERENCES builds(id),
	PRIMARY KEY (flight_id, build_id)
);
CREATE INDEX flight_builds_build ON flight_builds (build_id);
INSERT INTO flight_builds (flight_id, arch, build_id) SELECT flight_id, arch, id FROM builds;
