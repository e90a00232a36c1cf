/* Firmware prompts the agent answers on a board's console. A firmware that
 * offers a human a moment to interrupt it waits out that moment on every boot:
 * iPXE's "Press Ctrl-B for the iPXE command line..." (3 s in QEMU's build),
 * U-Boot's "Hit any key to stop autoboot" (bootdelay, 2 s on the QEMU board).
 * The netboot backend declares what its firmware prints and what ends the wait
 * at once (netboot.h, netboot_prompts), the board file may say otherwise
 * (netboot.prompts, docs/boards.md), and the runner sends each answer as its
 * prompt comes.
 *
 * The prompts are answered in order, each once. The first is awaited as long as
 * the console runs (a board that never prints it gets nothing); each later one
 * only within PROMPTS_NEXT_MS of the answer before it, since it is what that
 * answer brings (U-Boot's "=> " after the key that stopped the countdown): later
 * text that happens to match is left alone. Pure: no I/O, the caller's clock. */
#ifndef XENCI_AGENT_PROMPTS_H
#define XENCI_AGENT_PROMPTS_H

#include <jansson.h>
#include <stddef.h>

/* The longest prompt text the agent matches (netboot.prompts[].expect). */
#define PROMPTS_EXPECT_MAX 128
/* A prompt after the first must come within this of the previous answer. */
#define PROMPTS_NEXT_MS 10000

struct prompts {
	json_t *list; /* [{expect, send}], owned */
	size_t next;  /* the prompt awaited; == the list's size: none left */
	/* the last bytes seen (fewer than the awaited text's length), so a
	 * prompt split between two reads is found */
	char tail[PROMPTS_EXPECT_MAX];
	size_t tail_len;
	long long answered_ms; /* when the previous answer went (for PROMPTS_NEXT_MS) */
};

/* Starts with list ([{expect, send}], borrowed: a reference is taken; NULL or
 * empty: nothing is answered). */
void prompts_init(struct prompts *p, json_t *list);
void prompts_release(struct prompts *p);

/* What prompts_scan found in the bytes it was given. */
enum prompts_event {
	PROMPTS_NONE = 0, /* no prompt in them (all taken) */
	PROMPTS_SEEN,	  /* prompt *index came: send its answer; *used bytes taken */
	PROMPTS_EXPIRED,  /* prompt *index did not come in time: no more answers */
};

/* Looks for the awaited prompt in n console bytes at now_ms. On PROMPTS_SEEN,
 * *used is the bytes up to the prompt's end: scan the rest again (the next
 * prompt is looked for after this one). */
enum prompts_event prompts_scan(struct prompts *p, const char *data, size_t n, long long now_ms,
				size_t *index, size_t *used);
/* Prompt i's text and answer, borrowed from the list. */
const char *prompts_expect(const struct prompts *p, size_t i);
const char *prompts_send(const struct prompts *p, size_t i);

#endif
