/* The agent's main loop: declare the boards, long-poll for work, run each
 * attempt on its board's own thread (builds on the builder's), and stop
 * cleanly on SIGTERM; SIGHUP reloads the files. */
#ifndef XENCI_AGENT_AGENT_LOOP_H
#define XENCI_AGENT_AGENT_LOOP_H

/* Loads the agent file (refusing to start on any problem) and runs until
 * SIGTERM/SIGINT. Returns the process exit code. */
int agent_main(const char *agent_file);

#endif
