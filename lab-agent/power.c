#include "power.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "json-util.h"

/* Adding a backend: one file (power-NAME.c) and one line here. */
const struct power_ops *const power_backends[] = {
    &power_qemu_ops,	  &power_command_ops, &power_pdudaemon_ops,
    &power_usb_relay_ops, &power_usb_hub_ops, NULL,
};

_Static_assert(offsetof(struct power_ops, name) == offsetof(struct backend_head, name) &&
		   offsetof(struct power_ops, fields) == offsetof(struct backend_head, fields),
	       "struct power_ops begins like struct backend_head");

const struct power_ops *power_find(const char *name)
{
	return backend_find((const void *const *)power_backends, name);
}

int power_section_check(struct vctx *ctx, const json_t *parent, const char *key,
			const json_t *value, const char *path)
{
	return backend_section_check((const void *const *)power_backends, ctx, parent, key, value,
				     path);
}

int power_start(struct board *b, int *cycled, char *err, size_t errlen)
{
	int rc = b->power->cycle ? b->power->cycle(b, err, errlen) : 1;

	*cycled = rc != 1;
	if (rc != 1)
		return rc < 0 ? -1 : 0;
	return b->power->on(b, err, errlen) < 0 ? -1 : 0;
}
