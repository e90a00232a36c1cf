/* The builder: an agent whose file says `build: true` also claims build
 * attempts (docs/builders.md). Each build runs on its own thread:
 *
 *   sync      the revision's files from the controller (manifest + blobs, see
 *             docs/api.md "Sources for builders") into a work tree kept per
 *             (tree, arch): only changed blobs are written, files that went
 *             away are deleted, so make stays incremental; blobs are cached
 *             by oid and checked against it
 *   build     hypervisor/build.sh ARCH SRC OUT (under bwrap when available),
 *             its output streamed as the attempt's log
 *   payloads  hypervisor/payloads.sh ARCH DIR (cached by the script)
 *   upload    xen, dom0-kernel, dom0-initrd by sha256 (HEAD first)
 *
 * and posts the result with the artifacts and build_info. A compile error is
 * `fail` (the compiler's error is in the log and the reason); an unknown
 * revision is `fail` too (no retry can help); a lab problem (controller
 * unreachable, disk, a missing recipe) is `infra`. */
#ifndef XENCI_AGENT_BUILDER_H
#define XENCI_AGENT_BUILDER_H

#include <jansson.h>
#include <pthread.h>

#include "board.h"
#include "http-client.h"

struct agent;

/* Builds that run at once (each holds its (tree, arch) work tree's lock: two
 * arches build side by side, two builds of one arch take turns). */
#define BUILDER_SLOTS 2

struct build_run {
	struct agent *ag;
	json_t *attempt;
	pthread_t thread;
	_Atomic int done; /* set by the build thread as it ends */
	char verdict[16];
};

/* The "builder" member of the declare call: {"arches": [...]}, or JSON null
 * when cfg does not build. New reference. */
json_t *builder_declare_json(const struct agent_config *cfg);

/* The bubblewrap command line a build runs under, up to its "--": no network
 * (--unshare-all), the system read-only, /tmp a fresh tmpfs, hvdir read-only,
 * src, out and ccache writable, sysroot (a cross-build's, or NULL) read-only,
 * killed with the agent. hide (NULL-terminated,
 * at most BUILDER_SANDBOX_HIDE absolute paths of existing files and folders, or
 * NULL) is what the agent keeps from the build: each file reads as /dev/null,
 * each folder as an empty tmpfs, before src, out and ccache are bound back.
 * Fills argv with borrowed strings and returns how many. */
#define BUILDER_SANDBOX_HIDE 5
#define BUILDER_SANDBOX_ARGS (29 + 3 * BUILDER_SANDBOX_HIDE)
int builder_sandbox_argv(char *argv[BUILDER_SANDBOX_ARGS], const char *hvdir, const char *src,
			 const char *out, const char *ccache, const char *sysroot,
			 char *const hide[]);

/* Starts the build of a claimed build attempt (takes the attempt reference). */
int builder_start(struct build_run **out, struct agent *ag, json_t *attempt);
/* Joins (waiting if needed) and frees; NULL is fine. */
void builder_join_free(struct build_run *b);

#endif
