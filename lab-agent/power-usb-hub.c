/* Per-port power on USB hubs that switch it (as uhubctl does): the hub class
 * requests SET_FEATURE / CLEAR_FEATURE(PORT_POWER) on the board's port. */
#include "power.h"

#include <stdio.h>

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

static int hub_set(struct board *b, int on, char *err, size_t errlen)
{
	libusb_context *ctx = NULL;
	libusb_device_handle *h = NULL;
	int port = (int)jint(b->power_cfg, "port", 1), r;

	if (usb_open_device(b->power_cfg, &ctx, &h, err, errlen) < 0)
		return -1;
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
