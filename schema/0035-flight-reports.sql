-- Migration 35: the flight reports mailed after a push flight of a watched branch
-- (controller/reports.c), and their follow-ups when a bisection of one of its
-- regressions ends. One row per message: a branch's list gets the report
-- without private boards (audience ''), each owner of a private board its own
-- (audience: the agent's name). The newest row of a (branch, audience) is what
-- the next message replies to (In-Reply-To, References: thread_root and it).
CREATE TABLE flight_reports (
	id INTEGER PRIMARY KEY,
	branch_id INTEGER NOT NULL REFERENCES branches(id),
	flight_id INTEGER NOT NULL REFERENCES flights(id),
	bisection_id INTEGER REFERENCES bisections(id),	-- a follow-up: the bisection
	audience TEXT NOT NULL,
	message_id TEXT NOT NULL UNIQUE,
	thread_root TEXT NOT NULL,			-- the first message of the thread
	subject TEXT NOT NULL,
	recipients TEXT NOT NULL,			-- JSON array of addresses
	created INTEGER NOT NULL
);
-- A flight's report, and a bisection's follow-up, goes once to each audience.
CREATE UNIQUE INDEX flight_reports_once ON flight_reports
	(flight_id, coalesce(bisection_id, 0), audience);
CREATE INDEX flight_reports_thread ON flight_reports (branch_id, audience, id);
