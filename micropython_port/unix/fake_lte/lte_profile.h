/*
 * Which Pycom firmware the fake LTE behaves like. Selected at run time by the
 * environment variable MICROATSOCKET_FW_PROFILE or network._lte_profile().
 */
#ifndef MICROATSOCKET_FAKE_LTE_PROFILE_H
#define MICROATSOCKET_FAKE_LTE_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    /* v1.18.x: send_at_cmd(cmd, delay=0); length by strlen; CR LF; no bounds
     * check, so more than 124 bytes overruns the caller's stack. */
    LTE_PROFILE_1_18,
    /* v1.20.2.r2 .. r6, the stock releases: send_at_cmd(cmd, *, timeout=9500),
     * str or bytes; CR; the task knows continuation chunks but send_at_cmd
     * never makes them, so more than 124 bytes corrupts the queued struct. */
    LTE_PROFILE_1_20_2,
    /* 1.20.2 plus PR 429 as on branch Release/v1.20: send_at_cmd splits long
     * input into full 124-byte continuation chunks and then the remainder. */
    LTE_PROFILE_PR429,
    LTE_PROFILE_COUNT
} lte_profile_t;

#define LTE_PROFILE_DEFAULT LTE_PROFILE_1_20_2
#define LTE_PROFILE_ENV "MICROATSOCKET_FW_PROFILE"

typedef struct {
    const char *name;
    int cmd_layout;              /* LTEPPP_CMD_LAYOUT_* of the firmware's struct */
    const char *terminator;      /* appended after a normal command */
    bool zero_timeout_is_forever;
    bool has_continuation;       /* the LTE task honours expect_continuation */
    bool send_at_cmd_chunks;     /* send_at_cmd itself splits long input */
} lte_profile_info_t;

lte_profile_t lte_profile_get(void);
const lte_profile_info_t *lte_profile_info(void);
const lte_profile_info_t *lte_profile_info_of(lte_profile_t profile);
/* Returns false (and changes nothing) for an unknown name. */
bool lte_profile_set_by_name(const char *name);
/* Non-NULL when the environment names an unknown profile: the text to report. */
const char *lte_profile_env_error(void);

#endif
