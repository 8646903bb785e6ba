/*
 * The fake's LTE task: takes one queued command (the ESP32 bytes of the
 * firmware's struct), does with it what the firmware's task does, and hands
 * back the answer. Shared by the C entry points (lteppp_entry_*.c) and the
 * Python-facing LTE class (modlte.c).
 */
#ifndef MICROATSOCKET_FAKE_LTEPPP_TASK_H
#define MICROATSOCKET_FAKE_LTEPPP_TASK_H

#include <stdbool.h>

#include "esp32_cmd_image.h"
#include "lteppp.h"

typedef enum {
    LTEPPP_TASK_OK,
    /* The firmware would block forever here (its LTE task is wedged); the
     * fake waited the command's timeout instead and returned an empty answer. */
    LTEPPP_TASK_HUNG,
} lteppp_task_result_t;

/*
 * Queue `item` (depth one: callers are serialised) and, if `caller_waits`,
 * copy the task's answer into `rsp`. A caller that does not wait (a
 * continuation chunk) gets nothing in `rsp`: it keeps its previous answer.
 */
lteppp_task_result_t lteppp_task_submit(const esp32_cmd_image_t *item, bool caller_waits,
    lte_task_rsp_data_t *rsp);

/* Whether the running firmware's lteppp_send_at_command waits for an answer
 * to a command whose continuation flag is `expect_continuation`. */
bool lteppp_task_caller_waits(bool expect_continuation);

void lteppp_set_state(lte_state_t state);

/* A board reset: the task runs again and its buffer is cleared. */
void lteppp_task_reset(void);

#endif
