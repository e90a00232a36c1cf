/* A real UART through libserialport: device, baud, data bits, parity, stop
 * bits, flow control. libserialport 0.1.1 refuses ptys: this is for real
 * serial ports (USB serial adapters included). */
#include "console.h"

#include <errno.h>
#include <libserialport.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json-util.h"

static const long bauds[] = {1200,    2400,    4800,	9600,	 19200,	 38400,	 57600,
			     115200,  230400,  460800,	500000,	 576000, 921600, 1000000,
			     1500000, 2000000, 3000000, 4000000, 0};

static int check_baud(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
		      const char *path)
{
	size_t i;

	for (i = 0; bauds[i]; i++)
		if (json_integer_value(v) == bauds[i])
			return 0;
	vctx_error(ctx, parent, key, 0, path,
		   "%lld is not a standard baud rate (e.g. 9600, 57600, 115200, 921600, 1500000)",
		   json_integer_value(v));
	return -1;
}

static int check_device(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
			const char *path)
{
	struct stat st;
	const char *dev = json_string_value(v);

	if (stat(dev, &st) < 0) {
		vctx_error(ctx, parent, key, 0, path, "no serial device %s: %s", dev,
			   strerror(errno));
		return -1;
	}
	if (!S_ISCHR(st.st_mode)) {
		vctx_error(ctx, parent, key, 0, path, "%s is not a character device", dev);
		return -1;
	}
	return 0;
}

static const char *const parities[] = {"none", "odd", "even", "mark", "space", NULL};
static const char *const flows[] = {"none", "xonxoff", "rtscts", "dtrdsr", NULL};

static const struct vfield uart_fields[] = {
    {.name = "backend", .type = V_STRING, .flags = V_REQUIRED},
    {.name = "device",
     .type = V_STRING,
     .flags = V_REQUIRED,
     .help = "e.g. /dev/serial/by-id/usb-FTDI_...",
     .min = 1,
     .check = check_device},
    {.name = "baud", .type = V_INT, .flags = V_REQUIRED, .check = check_baud},
    {.name = "data_bits", .type = V_INT, .min = 5, .max = 8},
    {.name = "parity", .type = V_STRING, .choices = parities},
    {.name = "stop_bits", .type = V_INT, .min = 1, .max = 2},
    {.name = "flow_control", .type = V_STRING, .choices = flows},
    {.name = NULL},
};

static enum sp_parity parity_of(const char *s)
{
	if (!strcmp(s, "odd"))
		return SP_PARITY_ODD;
	if (!strcmp(s, "even"))
		return SP_PARITY_EVEN;
	if (!strcmp(s, "mark"))
		return SP_PARITY_MARK;
	if (!strcmp(s, "space"))
		return SP_PARITY_SPACE;
	return SP_PARITY_NONE;
}

static enum sp_flowcontrol flow_of(const char *s)
{
	if (!strcmp(s, "xonxoff"))
		return SP_FLOWCONTROL_XONXOFF;
	if (!strcmp(s, "rtscts"))
		return SP_FLOWCONTROL_RTSCTS;
	if (!strcmp(s, "dtrdsr"))
		return SP_FLOWCONTROL_DTRDSR;
	return SP_FLOWCONTROL_NONE;
}

static int uart_open(struct board *b, int *fd, int timeout_ms, char *err, size_t errlen)
{
	const char *dev = jstr(b->console_cfg, "device", "");
	struct sp_port *port = NULL;
	enum sp_return r;
	int handle = -1;

	(void)timeout_ms;
	if (access(dev, F_OK) < 0) {
		/* a USB adapter unplugged (or not yet enumerated again) */
		snprintf(err, errlen, "serial port %s: %s", dev, strerror(errno));
		return -1;
	}
	r = sp_get_port_by_name(dev, &port);
	if (r != SP_OK) {
		snprintf(err, errlen, "serial port %s: %s", dev,
			 r == SP_ERR_ARG ? "not a serial port (ptys are not supported)"
					 : sp_last_error_message());
		return -1;
	}
	if ((r = sp_open(port, SP_MODE_READ_WRITE)) != SP_OK ||
	    (r = sp_set_baudrate(port, (int)jint(b->console_cfg, "baud", 115200))) != SP_OK ||
	    (r = sp_set_bits(port, (int)jint(b->console_cfg, "data_bits", 8))) != SP_OK ||
	    (r = sp_set_parity(port, parity_of(jstr(b->console_cfg, "parity", "none")))) != SP_OK ||
	    (r = sp_set_stopbits(port, (int)jint(b->console_cfg, "stop_bits", 1))) != SP_OK ||
	    (r = sp_set_flowcontrol(port, flow_of(jstr(b->console_cfg, "flow_control", "none")))) !=
		SP_OK ||
	    (r = sp_get_port_handle(port, &handle)) != SP_OK) {
		snprintf(err, errlen, "serial port %s: %s", dev,
			 r == SP_ERR_FAIL ? sp_last_error_message() : "cannot configure it");
		sp_close(port);
		sp_free_port(port);
		return -1;
	}
	b->console_state = port;
	*fd = handle;
	return 0;
}

static void uart_close(struct board *b, int fd)
{
	struct sp_port *port = b->console_state;

	(void)fd;
	if (port) {
		sp_close(port);
		sp_free_port(port);
	}
	b->console_state = NULL;
}

/* A tty that closed under the runner hung up: its adapter was unplugged or
 * reset (a USB serial adapter's driver hangs the tty up when the device
 * goes). Bytes the board wrote meanwhile are lost, so the attempt ends (as
 * labgrid's SerialDriver ends on pyserial's SerialException); the next
 * attempt opens the device again once it is back. */
static int uart_lost(struct board *b, ssize_t n, int read_errno, char *why, size_t why_len)
{
	const char *dev = jstr(b->console_cfg, "device", "");

	snprintf(why, why_len,
		 "console lost: serial port %s hung up (%s)%s: what the board wrote since is "
		 "lost",
		 dev, n < 0 ? strerror(read_errno) : "end of stream",
		 access(dev, F_OK) < 0 ? " and is gone: the adapter was unplugged" : "");
	return 1;
}

const struct console_ops console_uart_ops = {
    .name = "uart",
    .fields = uart_fields,
    .after_power_on = 0,
    .open = uart_open,
    .close = uart_close,
    .lost = uart_lost,
};
