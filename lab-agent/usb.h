/* What the usb-relay and usb-hub power backends share: finding a device by
 * vendor:product (and serial) or by its bus-port location, with libusb. */
#ifndef XENCI_AGENT_USB_H
#define XENCI_AGENT_USB_H

#include <jansson.h>
#include <libusb.h>
#include <stddef.h>

#include "validate.h"

/* Opens the device the section names (vid/pid/serial or location "1-1.4").
 * Returns 0 with *ctx and *h to close with usb_close, or -1 with err. */
int usb_open_device(const json_t *cfg, libusb_context **ctx, libusb_device_handle **h, char *err,
		    size_t errlen);
void usb_close(libusb_context *ctx, libusb_device_handle *h);
/* The device's location "BUS-PORT.PORT..." as uhubctl and the kernel write it
 * ("BUS" alone for a root hub), into out (outlen bytes). */
void usb_location(libusb_device *d, char *out, size_t outlen);
/* A vfield check for "vid"/"pid": four hex digits. */
int usb_check_id(struct vctx *ctx, const json_t *parent, const char *key, const json_t *v,
		 const char *path);

#endif
