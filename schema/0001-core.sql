-- xenci controller store, migration 1: the core tables.
-- Times are Unix milliseconds. JSON documents are stored as text.

CREATE TABLE agents (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	version TEXT,
	builder_arches TEXT,		-- JSON array, NULL when the agent does not build
	last_seen INTEGER,
	created INTEGER NOT NULL
);

CREATE TABLE tokens (
	id INTEGER PRIMARY KEY,
	hash TEXT NOT NULL UNIQUE,	-- sha256 of the token; the token itself is never stored
	role TEXT NOT NULL CHECK (role IN ('admin', 'agent', 'user')),
	agent TEXT,			-- the agent name for role 'agent'
	name TEXT,
	created INTEGER NOT NULL,
	revoked INTEGER,
	CHECK ((role = 'agent') = (agent IS NOT NULL))
);

CREATE TABLE boards (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	agent_id INTEGER NOT NULL REFERENCES agents(id),
	arch TEXT NOT NULL,
	class TEXT NOT NULL,
	tags TEXT NOT NULL DEFAULT '[]',
	visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'private')),
	description TEXT,
	online INTEGER NOT NULL DEFAULT 1,
	attempt_id INTEGER,		-- the attempt it runs now, NULL when free
	updated INTEGER NOT NULL
);

CREATE TABLE trees (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	url TEXT
);

CREATE TABLE branches (
	id INTEGER PRIMARY KEY,
	tree_id INTEGER NOT NULL REFERENCES trees(id),
	name TEXT NOT NULL,
	last_tested TEXT,
	UNIQUE (tree_id, name)
);

CREATE TABLE revisions (
	id INTEGER PRIMARY KEY,
	tree_id INTEGER NOT NULL REFERENCES trees(id),
	commit_id TEXT NOT NULL,
	describe TEXT,
	subject TEXT,
	UNIQUE (tree_id, commit_id)
);

CREATE TABLE jobs (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	definition TEXT NOT NULL,	-- the job file as JSON
	updated INTEGER NOT NULL
);

CREATE TABLE flights (
	id INTEGER PRIMARY KEY,
	revision_id INTEGER NOT NULL REFERENCES revisions(id),
	ref TEXT,
	kind TEXT NOT NULL CHECK (kind IN ('push', 'submission', 'bisect', 'manual')),
	priority INTEGER NOT NULL,
	state TEXT NOT NULL DEFAULT 'running',
	created INTEGER NOT NULL,
	finished INTEGER
);

CREATE TABLE builds (
	id INTEGER PRIMARY KEY,
	flight_id INTEGER NOT NULL REFERENCES flights(id),
	arch TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'queued',	-- queued, pass, fail
	artifacts TEXT,			-- JSON {name: {sha256, size}}
	build_info TEXT,		-- JSON
	UNIQUE (flight_id, arch)
);

CREATE TABLE artifacts (
	sha256 TEXT PRIMARY KEY,
	size INTEGER NOT NULL,
	created INTEGER NOT NULL
);

CREATE TABLE attempts (
	id INTEGER PRIMARY KEY,
	flight_id INTEGER REFERENCES flights(id),
	build_id INTEGER REFERENCES builds(id),	-- builds: the build; tests: the build they need
	kind TEXT NOT NULL CHECK (kind IN ('build', 'test')),
	job TEXT,
	board TEXT,
	arch TEXT NOT NULL,
	agent TEXT,			-- the agent that claimed it
	number INTEGER NOT NULL DEFAULT 1,
	priority INTEGER NOT NULL,
	state TEXT NOT NULL CHECK (state IN ('waiting', 'queued', 'claimed', 'running',
		'pass', 'fail', 'infra', 'timeout', 'cancelled')),
	reason TEXT,
	stage TEXT,
	lease_expires INTEGER,
	result TEXT,			-- the result call's body, for idempotent replays
	log_length INTEGER NOT NULL DEFAULT 0,
	created INTEGER NOT NULL,
	queued_at INTEGER,
	claimed_at INTEGER,
	started_at INTEGER,
	finished_at INTEGER
);
CREATE INDEX attempts_queue ON attempts (state, board);
CREATE INDEX attempts_flight ON attempts (flight_id);
CREATE INDEX attempts_build ON attempts (build_id);

CREATE TABLE stages (
	attempt_id INTEGER NOT NULL REFERENCES attempts(id),
	seq INTEGER NOT NULL,
	name TEXT NOT NULL,
	result TEXT NOT NULL,
	seconds REAL,
	PRIMARY KEY (attempt_id, seq)
);

CREATE TABLE testcases (
	attempt_id INTEGER NOT NULL REFERENCES attempts(id),
	name TEXT NOT NULL,
	result TEXT NOT NULL CHECK (result IN ('pass', 'fail', 'skip')),
	PRIMARY KEY (attempt_id, name)
);

CREATE TABLE bisections (
	id INTEGER PRIMARY KEY,
	tree_id INTEGER REFERENCES trees(id),
	job TEXT NOT NULL,
	class TEXT NOT NULL,
	good TEXT NOT NULL,
	bad TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'running',
	culprit TEXT,
	created INTEGER NOT NULL,
	finished INTEGER
);

CREATE TABLE events (
	id INTEGER PRIMARY KEY,
	time INTEGER NOT NULL,
	type TEXT NOT NULL,
	attempt_id INTEGER,
	board TEXT,
	data TEXT NOT NULL		-- JSON
);
