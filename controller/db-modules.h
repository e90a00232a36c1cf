/* Every db-*.c module prepares its statements at open and finalizes them at close
 * (db.c keeps the list). Add a line for a new module here and in db.c.
 *
 * db_X_prepare prepares the module's statements on db (the writer's connection
 * or a read thread's, db.h's DB_STATEMENTS): 0, or -EIO after finalizing what it
 * made (db_prepare; db_open then fails with the module's name and SQLite's
 * message). db_X_finalize finalizes the calling thread's statements; safe when
 * prepare failed or never ran. */
#ifndef XENCI_DB_MODULES_H
#define XENCI_DB_MODULES_H

#include <sqlite3.h>

int db_tokens_prepare(sqlite3 *db);
void db_tokens_finalize(void);
int db_boards_prepare(sqlite3 *db);
void db_boards_finalize(void);
int db_flights_prepare(sqlite3 *db);
void db_flights_finalize(void);
int db_attempts_prepare(sqlite3 *db);
void db_attempts_finalize(void);
int db_events_prepare(sqlite3 *db);
void db_events_finalize(void);
int db_artifacts_prepare(sqlite3 *db);
void db_artifacts_finalize(void);
int db_watch_prepare(sqlite3 *db);
void db_watch_finalize(void);
int db_bisect_prepare(sqlite3 *db);
void db_bisect_finalize(void);
int db_triage_prepare(sqlite3 *db);
void db_triage_finalize(void);
int db_records_prepare(sqlite3 *db);
void db_records_finalize(void);
int db_reports_prepare(sqlite3 *db);
void db_reports_finalize(void);
int db_reservations_prepare(sqlite3 *db);
void db_reservations_finalize(void);

#endif
