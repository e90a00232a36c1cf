/* A raw TCP console, as ser2net serves a UART ("raw" or "telnet" off). */
#include "console.h"

#include <stdio.h>
#include <unistd.h>

#include "json-util.h"

static int check_port(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
		      const char *path)
{
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535) {
		vctx_error(ctx, parent, key, 0, path, "must be a TCP port (1 to 65535)");
		return -1;
	}
	return 0;
}

static const struct vfield tcp_fields[] = {
    {.name = "backend", .type = V_STRING, .flags = V_REQUIRED},
    {.name = "host",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .help = "ser2net's host",
     .min = 1,
     .max = 255},
    {.name = "port",
     .type = V_INT,
     .flags = V_REQUIRED,
     .help = "ser2net's TCP port",
     .check = check_port},
    {.name = "connect_timeout_ms", .type = V_INT, .min = 1, .max = 600000},
    {.name = NULL},
};

static int tcp_open(struct board *b, int *fd, int timeout_ms, char *err, size_t errlen)
{
	char port[16];
	int t = (int)jint(b->console_cfg, "connect_timeout_ms", timeout_ms);

	snprintf(port, sizeof(port), "%lld", jint(b->console_cfg, "port", 0));
	return console_connect_tcp(jstr(b->console_cfg, "host", "127.0.0.1"), port, t, fd, err,
				   errlen);
}

static void tcp_close(struct board *b, int fd)
{
	(void)b;
	if (fd >= 0)
		close(fd);
}

const struct console_ops console_tcp_ops = {
    .name = "tcp",
    .fields = tcp_fields,
    .after_power_on = 0,
    .open = tcp_open,
    .close = tcp_close,
};
