/* Boot arguments (Xen's and dom0's command lines, from jobs) written into a
 * firmware's boot script so that the firmware hands them to the booted image
 * unchanged, by each firmware's own rules, or refused with the reason:
 *
 *   uboot     U-Boot's hush (the old parser, as in Debian's U-Boot 2023.01, and the
 *             2021 one):
 *             the value becomes one single-quoted word, a ' written '\''. Refused:
 *             a backslash (the old hush drops it even inside '...', the new one
 *             keeps it: no spelling works for both), a first character '<' or
 *             '[' (`fdt set` reads those as cells or bytes), control characters.
 *   ipxe      iPXE has no quoting: the value is written as it is, if iPXE would
 *             pass it on unchanged (it splits at white space and joins the words
 *             with one space; a word "||", "&&" or ";" ends the command, a word
 *             starting with '#' starts a comment; "${...}" is expanded, with no
 *             escape). Refused: white space other than single spaces between
 *             words, those words, "${" with a later "}" in the same word, a
 *             trailing backslash (a line continuation), control characters.
 *   grub      GRUB's script: each word single-quoted. Refused: '"', '\'' and
 *             '\\' (upstream GRUB's multiboot and linux loaders write them back
 *             with a backslash, some distributions' GRUB does not: no spelling
 *             works for both), white space other than single spaces, control
 *             characters.
 *   pxelinux  PXELINUX's APPEND line takes the rest of the line as it is (and
 *             mboot.c32 splits it at " --- "). Refused: a word "---", control
 *             characters.
 *
 * lib/ code shared by the agent (netboot scripts) and the job check (--check
 * refuses a job whose xen_args or dom0_args a firmware cannot carry). */
#ifndef XENCI_BOOT_QUOTE_H
#define XENCI_BOOT_QUOTE_H

#include <stddef.h>

#include "buf.h"

enum boot_syntax { BOOT_UBOOT, BOOT_IPXE, BOOT_GRUB, BOOT_PXELINUX, BOOT_SYNTAX_N };

/* "U-Boot", "iPXE", "GRUB", "PXELINUX" */
extern const char *const boot_syntax_names[BOOT_SYNTAX_N];

/* Appends value to out as syntax s needs it. Returns 0, or -EINVAL with out
 * unchanged, *at the 0-based byte offset in value of the first character that
 * cannot be carried, and the reason in why (one sentence, without the offset);
 * -ENOSPC past out's bound. */
int boot_quote(struct buf *out, enum boot_syntax s, const char *value, size_t *at, char *why,
	       size_t whylen);

#endif
