/* Logging for the three programs: one line per message on stderr, prefixed by the
 * process name given to log_init(). log_warn() appends strerror(errno); the x
 * variants do not. fatal()/fatalx() log and exit(1). lib/ itself never logs: only
 * the programs call these. */
#ifndef XENCI_LOG_H
#define XENCI_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_WARN = 0, LOG_LEVEL_INFO = 1, LOG_LEVEL_DEBUG = 2 };

void log_init(const char *name, int level);
void log_set_level(int level);
int log_get_level(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
