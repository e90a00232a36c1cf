/* Names tables of enums ("states are enums with a names table, converted at the
 * database boundary"): the one lookup from a name back to its value. */
#ifndef XENCI_NAMES_H
#define XENCI_NAMES_H

#include <stddef.h>

/* The index i < n of names[i] equal to name; n when none is (or name is NULL).
 * names holds n strings (NULL entries are skipped); all borrowed. */
int names_index(const char *const *names, int n, const char *name);

/* Sorts names[0..n) in strcmp order (C locale bytes: a directory's migrations or
 * jobs, a matrix's columns); n may be 0, names then NULL (qsort(3) may not be
 * given it). The strings are not copied. */
void names_sort(char **names, size_t n);

#endif
