/*
 * Which Pycom firmware the fake LTE behaves like. Selected at run time by the
 * environment variable MICROATSOCKET_FW_PROFILE or network._lte_profile().
 */
#ifndef MICROATSOCKET_FAKE_LTE_PROFILE_H
#define MICROATSOCKET_FAKE_LTE_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    /* v1.18.x: send_at_cmd(cmd, *, delay=0), delay a sleep of the caller;
     * length by strlen; CR LF; no bounds check, so more than 124 bytes
     * overruns the caller's stack. */
    LTE_PROFILE_1_18,
    /* v1.20.0.rc13 .. v1.20.2.r1 (tag v1.20.1): send_at_cmd(cmd) with no
     * timeout (always 9500 ms), str or bytes; byte count in the struct; CR;
     * a zero timeout is one tick, not forever. */
    LTE_PROFILE_1_20_1,
    /* v1.20.2.r2 .. r6, the stock releases: send_at_cmd(cmd, *, timeout=9500),
     * str or bytes; CR; the task knows continuation chunks but send_at_cmd
     * never makes them, so more than 124 bytes corrupts the queued struct. */
    LTE_PROFILE_1_20_2,
    /* Branch Release/v1.20 at its head (a467fb91; the splitting came with 28823aac, after r6):
     * the r6 signature, and lte_push_at_command_ext splits long input into
     * full 124-byte continuation chunks and then the remainder, which is an
     * empty item (just the CR) when the length is a multiple of 124. */
    LTE_PROFILE_RELEASE_V1_20,
    /* Pull request 429 at its head (refs/pull/429/head = 12b71772):
     * send_at_cmd(cmd, delay=9500), the timeout as the second argument,
     * positional or delay=, no timeout= keyword; the last full chunk ends a
     * command whose length is a multiple of 124 (no empty item); a zero
     * timeout is one tick; answer pieces after the first wait 9500 ms. */
    LTE_PROFILE_PR429,
    LTE_PROFILE_COUNT
} lte_profile_t;

#define LTE_PROFILE_DEFAULT LTE_PROFILE_1_20_2
#define LTE_PROFILE_ENV "MICROATSOCKET_FW_PROFILE"
#define LTE_PROFILE_NAMES "1.18, 1.20.1, 1.20.2, release-v1.20 or pr429"

/* How send_at_cmd takes its timeout. */
typedef enum {
    LTE_TIMEOUT_ARG_NONE,   /* not at all: the fixed 9500 ms */
    LTE_TIMEOUT_ARG_KW,     /* timeout=, keyword only */
    LTE_TIMEOUT_ARG_DELAY,  /* delay, the second argument (positional or keyword) */
} lte_timeout_arg_t;

/* How send_at_cmd queues input longer than one 124-byte struct. */
typedef enum {
    LTE_CHUNKS_NONE,         /* copies it whole: overruns the struct */
    LTE_CHUNKS_WITH_TAIL,    /* full chunks, then the remainder, even if empty */
    LTE_CHUNKS_NO_EMPTY_TAIL /* the last full chunk ends the command when nothing remains */
} lte_chunks_t;

typedef struct {
    const char *name;
    int cmd_layout;              /* LTEPPP_CMD_LAYOUT_* of the firmware's struct */
    const char *terminator;      /* appended after a normal command */
    bool zero_timeout_is_forever;
    bool has_continuation;       /* the LTE task honours expect_continuation */
    lte_timeout_arg_t timeout_arg; /* 1.18's delay= is a sleep, handled on its own */
    lte_chunks_t chunks;
    bool dummy_uses_timeout;     /* answer pieces after the first wait the caller's timeout */
} lte_profile_info_t;

lte_profile_t lte_profile_get(void);
const lte_profile_info_t *lte_profile_info(void);
const lte_profile_info_t *lte_profile_info_of(lte_profile_t profile);
/* Returns false (and changes nothing) for an unknown name. */
bool lte_profile_set_by_name(const char *name);
/* Non-NULL when the environment names an unknown profile: the text to report. */
const char *lte_profile_env_error(void);

#endif
