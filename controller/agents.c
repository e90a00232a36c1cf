#include "agents.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "db-attempts.h"
#include "db-boards.h"
#include "db-events.h"
#include "db.h"
#include "flights.h"
#include "git-repo.h"
#include "json-util.h"
#include "log.h"
#include "park.h"
#include "roles.h"
#include "trees.h"

/* The names of boards; -EEXIST or -EINVAL with err when a board is another
 * agent's or named twice. */
static int board_names(json_t **out, const char *agent, const json_t *boards, char *err,
		       size_t errlen)
{
	char owner[AGENT_NAME_MAX + 1];
	json_t *names = json_array(), *b, *n;
	size_t i, k;

	*out = NULL;
	json_array_foreach (boards, i, b) {
		const char *name = jstr(b, "name", "");

		if (db_board_owner(owner, sizeof(owner), name) == 0 && strcmp(owner, agent)) {
			snprintf(err, errlen, "board %s is declared by another agent", name);
			json_decref(names);
			return -EEXIST;
		}
		json_array_foreach (names, k, n)
			if (!strcmp(json_string_value(n), name)) {
				snprintf(err, errlen, "board %s is declared twice", name);
				json_decref(names);
				return -EINVAL;
			}
		json_array_append_new(names, json_string(name));
	}
	*out = names;
	return 0;
}

/* The revision an automatic examine boots: the first configured tree at its
 * tested ref's head, else at its first branch's. 0 with *tree and hex, or -1
 * with why. */
static int examine_revision(const char **tree, char hex[GITREPO_HEX], char *why, size_t whylen)
{
	struct tree_conf *t = trees_find(NULL);
	char ref[256];

	if (t == NULL) {
		snprintf(why, whylen, "no tree is configured");
		return -1;
	}
	*tree = t->name;
	if (t->tested_ref && gitrepo_ref_head(t->repo, t->tested_ref, hex) == 0 && hex[0])
		return 0;
	if (t->nbranches) {
		snprintf(ref, sizeof(ref), "refs/heads/%s", t->branches[0].name);
		if (gitrepo_ref_head(t->repo, ref, hex) == 0 && hex[0])
			return 0;
	}
	snprintf(why, whylen, "tree %s has no tested revision nor branch head yet", t->name);
	return -1;
}

/* A flight of the examine job pinned to each board of agent_id that is due for
 * one (new, or its board file changed) and has none under way. */
static void examine_schedule(long long agent_id)
{
	json_t *names = db_boards_examine_todo(agent_id, ctl.cfg.examine_job), *jobs, *n;
	char hex[GITREPO_HEX] = "", err[256];
	const char *tree = NULL;
	size_t i;

	if (json_array_size(names) == 0) {
		json_decref(names);
		return;
	}
	if (examine_revision(&tree, hex, err, sizeof(err)) < 0) {
		log_warnx("no examine for the new or changed boards: %s", err);
		json_decref(names);
		return;
	}
	jobs = json_pack("[s]", ctl.cfg.examine_job);
	json_array_foreach (names, i, n) {
		struct flight_spec spec;
		long long fid = 0;

		memset(&spec, 0, sizeof(spec));
		spec.tree = tree;
		spec.commit = hex;
		spec.jobs = jobs;
		spec.kind = "manual";
		spec.priority = PRIO_GATE;
		spec.board = json_string_value(n);
		if (flight_create(&fid, &spec, err, sizeof(err)) < 0)
			log_warnx("board %s: no examine flight: %s", spec.board, err);
		else
			log_info("board %s: examine (%s) in flight %lld", spec.board,
				 ctl.cfg.examine_job, fid);
	}
	json_decref(jobs);
	json_decref(names);
}

int agent_declare(json_t **out, const char *agent, const char *version, const json_t *builder,
		  const json_t *boards, char *err, size_t errlen)
{
	json_t *names, *b, *d;
	long long agent_id, eid;
	size_t i;
	int rc;

	*out = NULL;
	rc = board_names(&names, agent, boards, err, errlen);
	if (rc < 0)
		return rc;
	rc = -EIO;
	snprintf(err, errlen, "the store failed");
	if (db_begin() < 0)
		goto out;
	if (db_agent_upsert(&agent_id, agent, version, json_object_get(builder, "arches"),
			    jbool(builder, "untrusted", 1)) < 0)
		goto fail;
	json_array_foreach (boards, i, b)
		if (db_board_upsert(agent_id, b, ctl.cfg.examine_job != NULL) < 0)
			goto fail;
	if (db_boards_offline_except(agent_id, names) < 0)
		goto fail;
	d = json_pack("{s:s, s:O}", "agent", agent, "boards", names);
	rc = db_event_insert(&eid, "agent.declared", 0, NULL, d);
	json_decref(d);
	if (rc < 0) {
		rc = -EIO;
		goto fail;
	}
	if (db_commit() < 0) {
		rc = -EIO;
		goto out;
	}
	if (ctl.cfg.examine_job)
		examine_schedule(agent_id);
	*out = db_boards_of_agent(agent_id);
	/* Jobs that waited for a board (flight_create found none) take these. */
	if (flight_adopt() < 0)
		log_warnx("agent %s: the waiting jobs could not take its boards", agent);
	park_wake(PARK_EVENTS, 0);
	err[0] = '\0';
	rc = 0;
	goto out;
fail:
	db_rollback();
out:
	json_decref(names);
	return rc;
}
