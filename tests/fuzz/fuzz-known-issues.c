/* libFuzzer target: the controller's known_issues list (controller/known-issues.c)
 * as --check and the controller read it: YAML, the validator's table with the
 * list's own check (PCRE2 compiles every pattern), the loader, then each issue
 * tried on the input itself as a console log, reason and test case. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../controller/known-issues.h"
#include "yaml-load.h"

static const struct vfield fields[] = {
    {.name = "known_issues",
     .type = V_ARRAY,
     .items = V_OBJECT,
     .fields = known_issue_fields,
     .max = KNOWN_ISSUES_MAX,
     .check = known_issues_check},
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
		if (validate_root(&ctx, fields, doc.root) == 0) {
			struct known_issues k;

			if (known_issues_load(&k, json_object_get(doc.root, "known_issues"), err,
					      sizeof(err)) == 0) {
				json_t *tcs = json_pack("[{s:s, s:s}]", "name", "guest create",
							"result", "fail");
				struct known_issue_subject s = {
				    .tree = "xen",
				    .branch = "staging",
				    .job = "xen-smoke",
				    .board_class = "rk3399",
				    .log = (const char *)data,
				    .log_len = size,
				    .reason = "fail",
				    .testcases = tcs,
				};

				known_issues_find(&k, &s);
				json_decref(tcs);
				known_issues_release(&k);
			}
		}
		vctx_release(&ctx);
	}
	yaml_doc_release(&doc);
	return 0;
}
