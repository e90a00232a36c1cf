-- Migration 2: board health. A streak of infra attempts makes a board unhealthy;
-- health-check attempts are the only work an unhealthy board gets.
ALTER TABLE boards ADD COLUMN healthy INTEGER NOT NULL DEFAULT 1;
ALTER TABLE boards ADD COLUMN infra_streak INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN health_check INTEGER NOT NULL DEFAULT 0;
CREATE INDEX attempts_state_id ON attempts (state, id);
CREATE INDEX events_attempt ON events (attempt_id);
