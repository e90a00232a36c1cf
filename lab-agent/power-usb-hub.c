/* Per-port power on USB hubs that switch it. On Linux, through the kernel's
 * own switch, the port's `disable` attribute in sysfs
 * (/sys/bus/usb/devices/HUB:1.0/HUB-portN/disable): the hub driver disconnects
 * the device on the port before it clears the port's power, and powers it
 * again and enumerates what is there on 0. Elsewhere, or when the kernel has no
 * such attribute (an older kernel), the hub class request as uhubctl sends it:
 * SET_FEATURE / CLEAR_FEATURE(PORT_POWER) on the board's port, which a hub
 * driven by Linux may not report as a disconnection (QEMU's emulated usb-hub
 * does not: docs/boards.md). */
#include "power.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json-util.h"
#include "usb.h"

#define USB_PORT_FEAT_POWER 8

static const struct vfield hub_fields[] = {
    {.name = "backend", .type = V_STRING, .flags = V_REQUIRED},
    {.name = "location",
     .type = V_STRING,
     .help = "the hub, e.g. 1-1.4 (uhubctl -l)",
     .min = 1,
     .max = 64},
    {.name = "vid", .type = V_STRING, .check = usb_check_id},
    {.name = "pid", .type = V_STRING, .check = usb_check_id},
    {.name = "serial", .type = V_STRING, .min = 1, .max = 64},
    {.name = "port",
     .type = V_INT,
     .flags = V_REQUIRED,
     .help = "the hub's port",
     .min = 1,
     .max = 31},
    {.name = NULL},
};

/* The kernel's switch for the port: 1 when it was written, 0 when there is
 * none (not Linux, or no such attribute), -1 with err. */
static int hub_sysfs(libusb_device_handle *h, int port, int on, char *err, size_t errlen)
{
	char loc[64], path[200];
	ssize_t n;
	int fd;

	usb_location(libusb_get_device(h), loc, sizeof(loc));
	if (strchr(loc, '-')) /* BUS-PORT...: the hub's interface 0 holds its ports */
		snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s:1.0/%s-port%d/disable", loc,
			 loc, port);
	else /* a root hub: usbBUS, its interface BUS-0:1.0 */
		snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s-0:1.0/usb%s-port%d/disable",
			 loc, loc, port);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "USB hub %s port %d power %s: %s: %s", loc, port,
			 on ? "on" : "off", path, strerror(errno));
		return -1;
	}
	n = write(fd, on ? "0" : "1", 1);
	if (n != 1) {
		snprintf(err, errlen, "USB hub %s port %d power %s: %s: %s", loc, port,
			 on ? "on" : "off", path, n < 0 ? strerror(errno) : "short write");
		close(fd);
		return -1;
	}
	close(fd);
	return 1;
}

static int hub_set(struct board *b, int on, char *err, size_t errlen)
{
	libusb_context *ctx = NULL;
	libusb_device_handle *h = NULL;
	int port = (int)jint(b->power_cfg, "port", 1), r;

	if (usb_open_device(b->power_cfg, &ctx, &h, err, errlen) < 0)
		return -1;
	r = hub_sysfs(h, port, on, err, errlen);
	if (r != 0) {
		usb_close(ctx, h);
		return r < 0 ? -1 : 0;
	}
	r = libusb_control_transfer(
	    h, LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_OTHER | LIBUSB_ENDPOINT_OUT,
	    on ? LIBUSB_REQUEST_SET_FEATURE : LIBUSB_REQUEST_CLEAR_FEATURE, USB_PORT_FEAT_POWER,
	    (uint16_t)port, NULL, 0, 2000);
	usb_close(ctx, h);
	if (r < 0) {
		snprintf(err, errlen, "USB hub port %d power %s: %s", port, on ? "on" : "off",
			 libusb_strerror(r));
		return -1;
	}
	return 0;
}

static int hub_on(struct board *b, char *err, size_t errlen)
{
	return hub_set(b, 1, err, errlen);
}

static int hub_off(struct board *b, char *err, size_t errlen)
{
	return hub_set(b, 0, err, errlen);
}

const struct power_ops power_usb_hub_ops = {
    .name = "usb-hub",
    .fields = hub_fields,
    .on = hub_on,
    .off = hub_off,
};
