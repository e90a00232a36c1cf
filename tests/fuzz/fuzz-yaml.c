/* libFuzzer target: the YAML→JSON loader, and the validator over what it loads. */
#include <stddef.h>
#include <stdint.h>

#include "validate.h"
#include "yaml-load.h"

static const struct vfield inner[] = {
    {.name = "backend", .type = V_STRING, .flags = V_REQUIRED},
    {.name = "port", .type = V_INT, .min = 1, .max = 9},
    {NULL},
};
static const struct vfield fields[] = {
    {.name = "name", .type = V_STRING, .flags = V_REQUIRED},
    {.name = "tags", .type = V_ARRAY, .items = V_STRING},
    {.name = "power", .type = V_OBJECT, .fields = inner},
    {.name = "list", .type = V_ARRAY, .items = V_OBJECT, .fields = inner},
    {NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yaml_doc doc;
	char err[512];

	if (yaml_doc_load_buf(&doc, "fuzz.yaml", (const char *)data, size, err, sizeof(err)) == 0) {
		struct vctx ctx;

		vctx_init(&ctx, "fuzz.yaml", &doc);
		validate_root(&ctx, fields, doc.root);
		vctx_release(&ctx);
	}
	yaml_doc_release(&doc);
	return 0;
}
