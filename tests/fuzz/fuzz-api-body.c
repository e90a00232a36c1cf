/* The controller's request decoders: the route table's path matcher, then the
 * strict JSON parser and the validator with every body shape of the API. The
 * first byte picks the shape and the method; the rest up to a newline is the
 * path, after it the body. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../controller/api.h"
#include "json-util.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct vfield *const shapes[] = {
    api_declare_fields, api_claim_fields,  api_heartbeat_fields, api_result_fields,
    api_token_fields,	api_flight_fields, api_cancel_fields,
};
static const char *const methods[] = {"GET", "PUT", "POST", "DELETE"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct req r;
	struct vctx ctx;
	const char *nl;
	char url[1024];
	json_t *j;
	size_t plen;
	int known;

	if (size < 1)
		return 0;
	memset(&r, 0, sizeof(r));
	nl = memchr(data + 1, '\n', size - 1);
	plen = nl ? (size_t)(nl - (const char *)data - 1) : 0;
	if (plen < sizeof(url)) {
		memcpy(url, data + 1, plen);
		url[plen] = '\0';
		r.url = url;
		r.method = methods[data[0] % 4];
		http_route_find(&r, &known);
	}
	if (nl) {
		size_t off = (size_t)(nl - (const char *)data) + 1;

		j = json_parse((const char *)data + off, size - off, NULL, 0);
		if (j) {
			vctx_init(&ctx, NULL, NULL);
			validate_root(&ctx, shapes[data[0] % (sizeof(shapes) / sizeof(shapes[0]))],
				      j);
			vctx_release(&ctx);
			json_decref(j);
		}
	}
	return 0;
}
