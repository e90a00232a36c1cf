/* The console of a QEMU board: the unix socket chardev that power-qemu.c gives
 * QEMU (server=on,wait=on: QEMU holds the guest until this side connects, so
 * no early byte is lost). */
#include "console.h"

#include <stdlib.h>
#include <unistd.h>

#include "xmalloc.h"

static const struct vfield qemu_fields[] = {
    {.name = "backend", .type = V_STRING, .flags = V_REQUIRED},
    {.name = NULL},
};

static int qemu_open(struct board *b, int *fd, int timeout_ms, char *err, size_t errlen)
{
	char *sock = xasprintf("%s/console.sock", b->run_dir);
	int rc = console_connect_unix(sock, timeout_ms, fd, err, errlen);

	free(sock);
	return rc;
}

static void qemu_close(struct board *b, int fd)
{
	(void)b;
	if (fd >= 0)
		close(fd);
}

const struct console_ops console_qemu_ops = {
    .name = "qemu",
    .fields = qemu_fields,
    .after_power_on = 1,
    .read_at_once = 1,
    .open = qemu_open,
    .close = qemu_close,
};
