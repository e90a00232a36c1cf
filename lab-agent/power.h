/* Power backends: one file each (power-NAME.c), found by name in power.c's table. */
#ifndef XENCI_AGENT_POWER_H
#define XENCI_AGENT_POWER_H

#include <stddef.h>

#include "board.h"
#include "validate.h"

struct stage_info; /* from runner.h: what is staged (qemu's TFTP folder, boot file) */

struct power_ops {
	const char *name;
	const struct vfield *fields; /* the whole section, "backend" included */
	/* Switches the board on; err says why not (an infra failure). */
	int (*on)(struct board *b, char *err, size_t errlen);
	/* Switches it off; must be safe to call when it is off already. */
	int (*off)(struct board *b, char *err, size_t errlen);
	/* Optional: power-cycles the board in one step, the lab's own way (a
	 * `cycle` command, PDUDaemon's reboot): used instead of `on` to start an
	 * attempt, so a board left on is reset. 0, -1 with err, or 1 when this
	 * board has no cycle configured (nothing was done). */
	int (*cycle)(struct board *b, char *err, size_t errlen);
	/* Optional: clears what a previous agent left behind (a QEMU), at start. */
	void (*reap)(struct board *b);
	/* Optional: 1 while the board still runs (a QEMU that exited reads 0). */
	int (*alive)(struct board *b);
	/* Optional: stops the board at once without waiting to see it gone (QEMU:
	 * SIGKILL to its process group, where off asks it to quit over QMP and waits
	 * for it). The runner cuts at the verdict, delivers the result while the board
	 * goes, then calls off, which waits for it, before the board is free. 0, or -1
	 * (the runner calls off at once instead). */
	int (*cut)(struct board *b);
};

/* Switches b on to start an attempt: by the backend's cycle when the board
 * has one configured (*cycled = 1), else by on (*cycled = 0). 0, or -1 with
 * err (an infra failure). */
int power_start(struct board *b, int *cycled, char *err, size_t errlen);

extern const struct power_ops *const power_backends[];
const struct power_ops *power_find(const char *name);
/* A vfield check for a board's "power" member: backend name and its parameters. */
int power_section_check(struct vctx *ctx, const json_t *parent, const char *key,
			const json_t *value, const char *path);

/* The QEMU command line the qemu backend runs for b (NULL-terminated; free it
 * with power_qemu_argv_free): for tests and benchmarks that run it by hand. */
char **power_qemu_argv(const struct board *b, size_t *argc);
void power_qemu_argv_free(char **argv);
/* The same as `xenci repro` runs it on a developer's machine, as a JSON array of
 * strings: the TFTP folder written ${TFTP}, the console on stdio, no QMP socket.
 * New reference. */
json_t *power_qemu_repro_argv(const struct board *b);

/* The control transfer the usb-relay backend sends to switch relay `relay`
 * (1-8) of a 16c0:05df HID relay board on or off (docs/boards.md): a HID class
 * SET_REPORT (bmRequestType 0x21, bRequest 0x09) of feature report 0 (wValue
 * 0x0300) to interface 0, 8 bytes: 0xff (on) or 0xfd (off), the relay, zeros.
 * Exposed for the tests that check it against the boards' protocol. */
struct usb_relay_request {
	unsigned char request_type, request;
	unsigned short value, index;
	unsigned char data[8];
};
void power_usb_relay_request(struct usb_relay_request *rq, int on, int relay);

extern const struct power_ops power_qemu_ops, power_command_ops, power_pdudaemon_ops,
    power_usb_relay_ops, power_usb_hub_ops;

#endif
