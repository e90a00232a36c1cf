/* USB HID relay boards (the common "USBRelay" ones, 16c0:05df): a HID
 * SET_REPORT with 0xff (on) or 0xfd (off) and the relay number. */
#include "power.h"

#include <stdio.h>
#include <string.h>

#include "json-util.h"
#include "usb.h"

static const struct vfield relay_fields[] = {
    {.name = "backend", .type = V_STRING, .flags = V_REQUIRED},
    {.name = "vid", .type = V_STRING, .help = "USB vendor id, default 16c0", .check = usb_check_id},
    {.name = "pid",
     .type = V_STRING,
     .help = "USB product id, default 05df",
     .check = usb_check_id},
    {.name = "serial", .type = V_STRING, .min = 1, .max = 64},
    {.name = "location", .type = V_STRING, .min = 1, .max = 64},
    {.name = "relay", .type = V_INT, .flags = V_REQUIRED, .min = 1, .max = 8},
    {.name = "inverted", .type = V_BOOL, .help = "the board is on while the relay is off"},
    {.name = NULL},
};

void power_usb_relay_request(struct usb_relay_request *rq, int on, int relay)
{
	memset(rq, 0, sizeof(*rq));
	rq->request_type =
	    LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE | LIBUSB_ENDPOINT_OUT;
	rq->request = 0x09;		/* HID SET_REPORT */
	rq->value = 0x0300;		/* report type feature (3), report id 0 */
	rq->index = 0;			/* interface 0 */
	rq->data[0] = on ? 0xff : 0xfd; /* the boards' "on" and "off" commands */
	rq->data[1] = (unsigned char)relay;
}

static int relay_set(struct board *b, int on, char *err, size_t errlen)
{
	json_t *cfg = json_deep_copy(b->power_cfg);
	libusb_context *ctx = NULL;
	libusb_device_handle *h = NULL;
	struct usb_relay_request rq;
	int r, rc = -1;

	if (!json_object_get(cfg, "vid"))
		json_object_set_new(cfg, "vid", json_string("16c0"));
	if (!json_object_get(cfg, "pid"))
		json_object_set_new(cfg, "pid", json_string("05df"));
	if (usb_open_device(cfg, &ctx, &h, err, errlen) < 0)
		goto out;
	libusb_set_auto_detach_kernel_driver(h, 1);
	if (jbool(b->power_cfg, "inverted", 0))
		on = !on;
	power_usb_relay_request(&rq, on, (int)jint(b->power_cfg, "relay", 1));
	r = libusb_control_transfer(h, rq.request_type, rq.request, rq.value, rq.index, rq.data,
				    sizeof(rq.data), 2000);
	if (r < 0)
		snprintf(err, errlen, "USB relay %d: %s", rq.data[1], libusb_strerror(r));
	else
		rc = 0;
out:
	usb_close(ctx, h);
	json_decref(cfg);
	return rc;
}

static int relay_on(struct board *b, char *err, size_t errlen)
{
	return relay_set(b, 1, err, errlen);
}

static int relay_off(struct board *b, char *err, size_t errlen)
{
	return relay_set(b, 0, err, errlen);
}

const struct power_ops power_usb_relay_ops = {
    .name = "usb-relay",
    .fields = relay_fields,
    .on = relay_on,
    .off = relay_off,
};
