-- Migration 131: queue wait and board utilisation per lab on the overview
-- (db_board_usage): the attempts claimed in a recent window, newest first, without a
-- scan of the whole table.
CREATE INDEX attempts_claimed ON attempts (claimed_at) WHERE claimed_at IS NOT NULL;
