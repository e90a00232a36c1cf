#include "usb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"

int usb_check_id(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
		 const char *path)
{
	const char *s = json_string_value(v);
	size_t i;

	for (i = 0; s[i]; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			break;
	if (i != 4 || s[i]) {
		vctx_error(ctx, parent, key, 0, path, "\"%s\" is not 4 hex digits (e.g. 16c0)", s);
		return -1;
	}
	return 0;
}

void usb_location(libusb_device *d, char *out, size_t outlen)
{
	uint8_t ports[8];
	int n = libusb_get_port_numbers(d, ports, 8), i;
	size_t o;

	o = (size_t)snprintf(out, outlen, "%d", libusb_get_bus_number(d));
	for (i = 0; i < n && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%c%d", i ? '.' : '-', ports[i]);
}

int usb_open_device(const json_t *cfg, libusb_context **ctxp, libusb_device_handle **hp, char *err,
		    size_t errlen)
{
	const char *vid_s = jstr(cfg, "vid", NULL), *pid_s = jstr(cfg, "pid", NULL);
	const char *serial = jstr(cfg, "serial", NULL), *loc = jstr(cfg, "location", NULL);
	long vid = vid_s ? strtol(vid_s, NULL, 16) : -1, pid = pid_s ? strtol(pid_s, NULL, 16) : -1;
	libusb_context *ctx = NULL;
	libusb_device **list = NULL;
	libusb_device_handle *h = NULL;
	ssize_t n, i;
	int r;

	r = libusb_init(&ctx);
	if (r < 0) {
		snprintf(err, errlen, "libusb: %s", libusb_strerror(r));
		return -1;
	}
	n = libusb_get_device_list(ctx, &list);
	for (i = 0; i < n && h == NULL; i++) {
		struct libusb_device_descriptor dd;
		char where[64];

		if (libusb_get_device_descriptor(list[i], &dd) < 0)
			continue;
		if (vid >= 0 && dd.idVendor != vid)
			continue;
		if (pid >= 0 && dd.idProduct != pid)
			continue;
		usb_location(list[i], where, sizeof(where));
		if (loc && strcmp(loc, where))
			continue;
		r = libusb_open(list[i], &h);
		if (r < 0) {
			snprintf(err, errlen, "USB device %s: %s", where, libusb_strerror(r));
			h = NULL;
			break;
		}
		if (serial) {
			unsigned char s[128];

			if (dd.iSerialNumber == 0 ||
			    libusb_get_string_descriptor_ascii(h, dd.iSerialNumber, s, sizeof(s)) <
				0 ||
			    strcmp((char *)s, serial)) {
				libusb_close(h);
				h = NULL;
			}
		}
	}
	if (n >= 0)
		libusb_free_device_list(list, 1);
	if (h == NULL) {
		if (r >= 0)
			snprintf(err, errlen, "no USB device %s:%s%s%s%s%s", vid_s ? vid_s : "*",
				 pid_s ? pid_s : "*", serial ? " serial " : "",
				 serial ? serial : "", loc ? " at " : "", loc ? loc : "");
		libusb_exit(ctx);
		return -1;
	}
	*ctxp = ctx;
	*hp = h;
	return 0;
}

void usb_close(libusb_context *ctx, libusb_device_handle *h)
{
	if (h)
		libusb_close(h);
	if (ctx)
		libusb_exit(ctx);
}
