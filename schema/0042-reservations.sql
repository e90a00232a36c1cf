-- Migration 42: reservations. A user with the reserve right (tokens.reserve, granted
-- by an admin) holds a board whose policy allows it: no attempt is scheduled on it
-- while the reservation is active. It ends released (by its owner), broken (by an
-- admin) or expired; every action is logged. Board commands (power off at the end
-- of a reservation, the holder's power on|off|cycle) wait here until the board's
-- agent claims with the board free, and go out in the claim's reply.
ALTER TABLE tokens ADD COLUMN reserve INTEGER NOT NULL DEFAULT 0;

CREATE TABLE reservations (
	id INTEGER PRIMARY KEY,
	board TEXT NOT NULL,
	token_id INTEGER NOT NULL,
	user TEXT NOT NULL,		-- the token's name (or "token N") as shown
	state TEXT NOT NULL CHECK (state IN ('active', 'released', 'broken', 'expired')),
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL,
	ended INTEGER
);
-- at most one active reservation per board
CREATE UNIQUE INDEX reservations_active ON reservations (board) WHERE state = 'active';

CREATE TABLE reservation_log (
	id INTEGER PRIMARY KEY,
	reservation_id INTEGER NOT NULL REFERENCES reservations(id),
	board TEXT NOT NULL,
	time INTEGER NOT NULL,
	who TEXT NOT NULL,		-- a user's name, "admin NAME" or "controller"
	action TEXT NOT NULL,		-- reserved, released, broken, expired, power on|off|cycle
	detail TEXT
);
CREATE INDEX reservation_log_board ON reservation_log (board, id);

CREATE TABLE board_commands (
	id INTEGER PRIMARY KEY,
	board TEXT NOT NULL,
	action TEXT NOT NULL CHECK (action IN ('on', 'off', 'cycle')),
	reason TEXT NOT NULL,
	created INTEGER NOT NULL,
	sent INTEGER			-- when a claim's reply carried it
);
CREATE INDEX board_commands_pending ON board_commands (board) WHERE sent IS NULL;
