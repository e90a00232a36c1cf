/* Shell commands for tests: see harness.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* "cd DIR && " followed by fmt expanded, into cmd; fails the test when it does not fit. */
static void shell_line(char *cmd, size_t len, const char *dir, const char *open, const char *fmt,
		       va_list ap)
{
	int n = snprintf(cmd, len, "cd %s && %s", dir, open);
	int m;

	if (n < 0 || (size_t)n >= len)
		fail_msg("command too long: cd %s", dir);
	m = vsnprintf(cmd + n, len - (size_t)n, fmt, ap);
	if (m < 0 || (size_t)m >= len - (size_t)n)
		fail_msg("command too long: %.200s", cmd);
}

void harness_sh(const char *dir, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	shell_line(cmd, sizeof(cmd) - 32, dir, "(", fmt, ap);
	va_end(ap);
	strcat(cmd, ") >/dev/null 2>&1");
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

void harness_shout(const char *dir, char *out, size_t len, const char *fmt, ...)
{
	char cmd[8192];
	size_t got;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	shell_line(cmd, sizeof(cmd), dir, "", fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	assert_non_null(f);
	got = fread(out, 1, len - 1, f);
	out[got] = '\0';
	while (got && out[got - 1] == '\n')
		out[--got] = '\0';
	pclose(f);
}
