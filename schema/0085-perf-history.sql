-- Migration 85: the stage times of a board's recent attempts of a job (perf.c, "How
-- it's performing"): a board's attempts of one job, newest first, without a scan.
CREATE INDEX attempts_board_job ON attempts (board, job, id);
