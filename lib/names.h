/* Names tables of enums ("states are enums with a names table, converted at the
 * database boundary"): the one lookup from a name back to its value. */
#ifndef XENCI_NAMES_H
#define XENCI_NAMES_H

/* The index i < n of names[i] equal to name; n when none is (or name is NULL).
 * names holds n strings (NULL entries are skipped); all borrowed. */
int names_index(const char *const *names, int n, const char *name);

#endif
