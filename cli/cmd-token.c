/* xenci token create --role admin|agent|user [--agent NAME [--agent-key FILE]] [--name TEXT]
 * [--reserve] [--json] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fs.h"
#include "json-util.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: xenci token create --role admin|agent|user [--agent NAME"
		   " [--agent-key FILE]] [--name TEXT] [--reserve] [--json]\n"
		   "       xenci token revoke ID\n"
		   "Needs an admin token. The new token is printed once: keep it.\n"
		   "--reserve grants a user the right to reserve boards (xenci reserve).\n");
}

int cmd_token(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"role", required_argument, NULL, 'r'},
	    {"agent", required_argument, NULL, 'a'},
	    {"name", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'J'},
	    {"agent-key", required_argument, NULL, 'k'},
	    {"reserve", no_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *role = NULL, *agent = NULL, *name = NULL, *key_file = NULL;
	char *key = NULL;
	struct http_client c;
	json_t *body, *reply = NULL;
	char path[64];
	int ch, json = 0, reserve = 0, rc;

	if (argc >= 3 && !strcmp(argv[1], "revoke")) {
		snprintf(path, sizeof(path), "/api/v1/tokens/%s", argv[2]);
		if (cli_client(&c) < 0)
			return 1;
		rc = cli_send_json(&c, "DELETE", path, NULL, 200, &reply);
		json_decref(reply);
		http_client_release(&c);
		return rc < 0 ? 1 : 0;
	}
	if (argc < 2 || strcmp(argv[1], "create")) {
		usage(stderr);
		return 2;
	}
	optind = 2;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			role = optarg;
			break;
		case 'a':
			agent = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'J':
			json = 1;
			break;
		case 'k':
			key_file = optarg;
			break;
		case 'R':
			reserve = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (role == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	body = json_pack("{s:s}", "role", role);
	if (agent)
		json_object_set_new(body, "agent", json_string(agent));
	if (name)
		json_object_set_new(body, "name", json_string(name));
	/* The agent's public key (its WORK/agent-key.pub), bound to it at once. */
	if (key_file) {
		if (file_read(&key, NULL, key_file, 16384) < 0) {
			fprintf(stderr, "xenci: cannot read %s\n", key_file);
			json_decref(body);
			return 1;
		}
		json_object_set_new(body, "agent_key", json_string(key));
		free(key);
	}
	if (reserve)
		json_object_set_new(body, "reserve", json_true());
	if (cli_client(&c) < 0)
		return 1;
	rc = cli_send_json(&c, "POST", "/api/v1/tokens", body, 201, &reply);
	if (rc == 0) {
		if (json)
			cli_print_json(reply);
		else
			printf("%s\n", jstr(reply, "token", ""));
	}
	json_decref(body);
	json_decref(reply);
	http_client_release(&c);
	return rc < 0 ? 1 : 0;
}
