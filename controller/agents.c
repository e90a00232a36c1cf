#include "agents.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db-boards.h"
#include "db-events.h"
#include "db.h"
#include "flights.h"
#include "json-util.h"
#include "log.h"
#include "park.h"
#include "roles.h"

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
		if (db_board_upsert(agent_id, b) < 0)
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
