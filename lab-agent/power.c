#include "power.h"

#include <stdio.h>
#include <string.h>

#include "json-util.h"

/* Adding a backend: one file (power-NAME.c) and one line here. */
const struct power_ops *const power_backends[] = {
    &power_qemu_ops,	  &power_command_ops, &power_pdudaemon_ops,
    &power_usb_relay_ops, &power_usb_hub_ops, NULL,
};

const struct power_ops *power_find(const char *name)
{
	size_t i;

	for (i = 0; power_backends[i]; i++)
		if (!strcmp(power_backends[i]->name, name))
			return power_backends[i];
	return NULL;
}

int power_section_check(struct vctx *ctx, const json_t *parent, const char *key,
			const json_t *value, const char *path)
{
	const json_t *be = json_object_get(value, "backend");
	const struct power_ops *ops;
	char p[256];
	size_t i;

	snprintf(p, sizeof(p), "%s.backend", path);
	if (be == NULL) {
		vctx_error(ctx, parent, key, 0, path, "missing required field \"backend\"");
		return -1;
	}
	if (!json_is_string(be) || (ops = power_find(json_string_value(be))) == NULL) {
		struct buf known = BUF_INIT(0);

		for (i = 0; power_backends[i]; i++)
			buf_printf(&known, "%s%s", i ? ", " : "", power_backends[i]->name);
		vctx_error(ctx, value, "backend", 0, p, "unknown backend \"%s\" (known: %s)",
			   json_is_string(be) ? json_string_value(be) : "?", buf_cstr(&known));
		buf_release(&known);
		return -1;
	}
	return validate_object(ctx, ops->fields, parent, key, 0, value, path);
}
