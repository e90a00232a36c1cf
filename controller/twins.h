/* The read side: every JSON document that /api/v1 and the status page both
 * serve (the twins of docs/api.md; a page renders the same document the API
 * returns), and what a viewer may see of private boards.
 *
 * A viewer (db-boards.h, filled by req_viewer) is admin, an agent, or anonymous
 * (NULL, or neither: users see what anonymous sees). Every function expects
 * ctl.lock held. Every json_t * returned is a new reference that the caller owns
 * (json_decref it, or hand it to reply_json, which takes it); NULL means unknown,
 * or not visible to v. */
#ifndef XENCI_TWINS_H
#define XENCI_TWINS_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>

#include "buf.h"
#include "db-boards.h"
#include "db-flights.h"
#include "triage.h"

/* The one visibility rule: a board is public, or private; a private board, its
 * attempts, their logs, its bisections and every count or name that would tell of
 * them are for admins and the board's own agent only. Every output applies it:
 * to anyone else a private board is as a board that does not exist.
 * twin_board_visible says 1 unless board name exists and v (NULL: anonymous) may
 * not see it. */
int twin_board_visible(const char *name, const struct viewer *v);

/* The board twin that GET /api/v1/boards/{name} and its page serve: the board as
 * v sees it (db_board_get) with its newest nattempts attempts, its class's
 * flake_rates as v sees them (triage_flake_rates), its reservation and
 * reservation_log (reservation_twin's); NULL when there is no such board or v may
 * not see it. Reads only: the read pool calls it without ctl.lock. */
json_t *twin_board(const char *name, int nattempts, const struct viewer *v);

/* The overview (GET / and GET /api/v1/overview), read into C rather than
 * jansson's objects (its page is the landing page; making and freeing the
 * objects was most of its cost): boards grouped by agent (with the agent's last
 * contact) and each lab's and board's queue wait and utilisation over the last
 * 24 hours, what runs (running, then claimed: at most 50 of each), the queue
 * depth, the 15 newest flights and the 10 newest bisections, as v sees them.
 * twin_overview_read fills o (0; -EIO when a read failed, o then released);
 * twin_overview_json appends the API's document to out (docs/api.md: {now,
 * queue_depth, labs: [{agent, last_seen, boards: [board + {last_seen, usage}],
 * usage}], running, flights, bisections}; usage {window_hours, claims,
 * wait_p50_ms, wait_p90_ms, busy}), the page renders the same o
 * (page_overview_render); twin_overview_release frees what read made. */
struct twin_usage {
	long long claims;
	long long wait_p50_ms, wait_p90_ms; /* TWIN_NO_WAIT: no claim in the window */
	double busy;			    /* share of the window claimed or running, 0..1 */
};
#define TWIN_NO_WAIT	 LLONG_MIN
#define TWIN_USAGE_HOURS 24 /* the window of the usage */
struct twin_lab {
	const char *agent; /* borrowed from its first board's row ("" for none) */
	long long last_seen;
	size_t *boards, n; /* indexes into the overview's boards, by name */
	struct twin_usage usage;
};
struct twin_overview {
	long long now, queue_depth;
	struct db_board_row *boards;	/* by name (db_boards_rows) */
	struct twin_usage *board_usage; /* the same index */
	size_t nboards;
	struct twin_lab *labs; /* in the order of their first board */
	size_t nlabs;
	struct db_flight_row *flights; /* newest first (db_flights_rows) */
	size_t nflights;
	json_t *running, *bisections; /* arrays (db_attempts_list's, twin_bisections') */
	struct buf text;	      /* the board and flight rows' objects */
};
int twin_overview_read(struct twin_overview *o, const struct viewer *v);
void twin_overview_json(const struct twin_overview *o, struct buf *out);
void twin_overview_release(struct twin_overview *o);
/* The flight twin (its attempts and counts as v sees them, and its `verdict`:
 * db_flight_get()); NULL when id is not a flight or not positive. */
json_t *twin_flight(long long id, const struct viewer *v);
/* The attempt twin; NULL when id is not an attempt, not positive, or on a board v
 * may not see. */
json_t *twin_attempt(long long id, const struct viewer *v);

/* The branch twin (the matrix): the last `limit` flights of the branch × boards
 * (or board classes when by_class), and its gate. tree NULL or "": the first
 * tree. Read into C (the page's, the badge's and the API's read: a JSON object
 * made and freed per cell was a third of the page): the document's cells apart.
 * A cell is the newest attempt of each (job, board) of its flight on its column
 * (a board, or a board class) that v may see. */
struct twin_cell {
	int total, pass;	/* those attempts; those that passed (0 total: no cell) */
	int bad;		/* verdict's rank, the worst state shown */
	char verdict[16];	/* the worst state of the cell's attempts */
	long long attempt;	/* the attempt that shows it */
	int classed;		/* the flight's stored triage gives the cell a class: */
	enum triage_class tcls; /* that verdict class, */
	json_t *text, *known;	/* and its row's text and known_issue (NULL: none) */
	json_t *slower;		/* the first passing attempt's slower with its "attempt", or NULL */
	int slower_first;	/* slower came before the class (the twin's members' order) */
};
struct twin_matrix {
	/* the branch twin (or its page's part), each row's "cells" null */
	json_t *twin;
	size_t nrows, ncols; /* the twin's rows and columns, in its order */
	/* Row r's cells as they were gathered (rown[r] of them): column x's is
	 * rows[r][col[x]] when col[x] < rown[r], else none (twin_matrix_cell).
	 * Each cell's text, known and slower are references m holds. */
	struct twin_cell **rows;
	size_t *rown, *col;
};
/* The cell of row r and column x of m (r < nrows, x < ncols); total 0 when none.
 * Borrowed from m. */
const struct twin_cell *twin_matrix_cell(const struct twin_matrix *m, size_t r, size_t x);
/* Fills m (everything its own; twin_matrix_release) and returns 0, or -ENOENT
 * when the tree or branch is not watched (m empty). whole: the twin is all of
 * the document (docs/api.md); 0: what the page shows of it (no "head", no "events",
 * the gate without its "reason" and "decisions"). */
int twin_matrix_read(struct twin_matrix *m, const char *tree, const char *branch, int limit,
		     int by_class, int whole, const struct viewer *v);
void twin_matrix_release(struct twin_matrix *m);
/* m's document as JSON text (the API's reply), its cells written from C; the rest
 * byte for byte as json_dumps(JSON_COMPACT) writes it. */
void twin_matrix_json(const struct twin_matrix *m, struct buf *out);
/* Every tree with its branches, heads and gates (an empty array before the trees
 * start). */
json_t *twin_trees(void);

/* The events after id `after` (at most limit, oldest first) as the event stream
 * carries them to anyone: the events of private boards left out, and the names of
 * private boards taken out of the events that list boards (agent.declared). */
json_t *twin_events(long long after, int limit);

/* The bisection twin, whole (every viewer's check is twin_bisection_visible), or
 * NULL when unknown. */
json_t *twin_bisection(long long id);
/* {"bisections": [...]}: the newest, without their steps, whole (see
 * twin_bisections_filter). */
json_t *twin_bisections(int limit, long long before);
/* 1 when v (NULL: anonymous) may see every board twin names (its board, its
 * steps' runs'), else 0: a private board's bisection is its owner's and admins'.
 * twin is borrowed. */
int twin_bisection_visible(const json_t *twin, const struct viewer *v);
/* 1 with the agent into owner (size n) when twin is a bisection on a private
 * board (its own, or a step's run's: the first such board's agent), 0 when anyone
 * may see it. */
int twin_bisection_owner(char *owner, size_t n, const json_t *twin);
/* Drops from list (twin_bisections' reply, modified in place) the bisections v
 * may not see. */
void twin_bisections_filter(json_t *list, const struct viewer *v);

#endif
