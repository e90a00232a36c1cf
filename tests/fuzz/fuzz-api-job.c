/* Job files as the controller loads them: YAML into a tree, then the job
 * validator (regex compilation included). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../controller/jobs.h"
#include "yaml-load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yaml_doc doc;
	struct vctx ctx;
	char err[256];

	memset(&doc, 0, sizeof(doc));
	if (yaml_doc_load_buf(&doc, "job.yaml", (const char *)data, size, err, sizeof(err)) == 0) {
		vctx_init(&ctx, "job.yaml", &doc);
		job_validate(&ctx, doc.root);
		vctx_release(&ctx);
	}
	yaml_doc_release(&doc);
	return 0;
}
