/* Logging for the three programs: one line per message on stderr, prefixed by the
 * process name given to log_init(). log_warn() appends strerror(errno); the x
 * variants do not. fatal()/fatalx() log and exit(1). lib/ itself never logs: only
 * the programs call these. */
#ifndef XENCI_LOG_H
#define XENCI_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_WARN = 0, LOG_LEVEL_INFO = 1, LOG_LEVEL_DEBUG = 2 };

/* Sets the prefix (name is borrowed: it must live as long as the process logs,
 * e.g. a string literal) and the level (enum log_level: messages above it are
 * dropped). Call once at start, before any thread logs. */
void log_init(const char *name, int level);
/* Changes the level (a configuration reload); log_get_level says it. */
void log_set_level(int level);
int log_get_level(void);

/* One line each on stderr, with the time in UTC, name[pid] and a tag; a line is
 * cut at 2 KiB. log_warn adds strerror(errno) and leaves errno as it was;
 * log_info/log_debug print only when the level is theirs or above; fatal/fatalx
 * exit(1) after the line. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
