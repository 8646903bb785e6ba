/*
 * Client for the simulator's control socket (MONARCH_SIM_SOCKET + ".ctl"):
 * one line in, one line out. Used by the test hook network._sim().
 */
#ifndef MICROATSOCKET_FAKE_SIM_CONTROL_H
#define MICROATSOCKET_FAKE_SIM_CONTROL_H

#include <stddef.h>

#define SIM_CONTROL_SUFFIX ".ctl"
#define SIM_CONTROL_REPLY_MAX (4096)
#define SIM_CONTROL_TIMEOUT_S (10)

/* Sends `line` (a newline is added) and stores the reply line, without its
 * line end, NUL-terminated, in `reply`. Returns 0 or an errno value. */
int sim_control_exchange(const char *line, size_t len, char *reply, size_t reply_size);

#endif
