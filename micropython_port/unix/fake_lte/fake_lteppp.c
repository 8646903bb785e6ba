/*
 * The LTE task's AT path, reproduced from what the Pycom firmware does in
 * esp32/lte/lteppp.c (TASK_LTE, lteppp_send_at_cmd_exp, lteppp_wait_at_rsp),
 * on the fake UART, with every wait also charged to the modelled clock.
 */
#include "lteppp_task.h"

#include <pthread.h>
#include <string.h>

#include "fake_uart.h"
#include "interrupt_hook.h"
#include "lte_model.h"
#include "lte_profile.h"

/* The task owns one buffer: the queue copies each command into its start and
 * the answer is built in it (text, then the data_remaining flag at [2048]).
 * Stale bytes of the previous answer therefore sit behind a new command, which
 * is what an unterminated or overlong command reads. The extra last byte is a
 * stop for C-string scans that run off the end. */
static char trx_buffer[LTE_UART_BUFFER_SIZE + 1 + 1];

#define RSP_TEXT_MAX (LTE_UART_BUFFER_SIZE - 2)  /* 2046 characters, then NUL */
#define IDLE_POLLS (10)
/* While the simulator is still at work on what the task wrote, the task asks
 * it again this often (real time; see wait_first_byte and wait_at_rsp). */
#define SIM_RECHECK_US ((int64_t)20000)
/* How many of those an answer the simulator is still sending is waited for
 * (see wait_at_rsp): a bound, so that nothing waits forever. */
#define MID_ANSWER_WAITS (500)

/* The command queue has depth one and the buffer is shared: one at a time. */
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;

/* On the board the task is its own FreeRTOS task: a soft reset deletes the
 * caller's thread, never the task, which finishes the item it took. Here the
 * task runs on the caller's thread, and the soft-reset emulation
 * (soft_reset.c) cancels the previous VM's threads: cancellation is held off
 * while the task works, so the item completes and the queue is free again. */
static int task_enter(void) {
    int previous;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &previous);
    pthread_mutex_lock(&queue_lock);
    return previous;
}

static void task_leave(int previous) {
    pthread_mutex_unlock(&queue_lock);
    pthread_setcancelstate(previous, NULL);
}

static lte_state_t lte_state = E_LTE_INIT;
/* Set when a command made the task write past its buffer; see task_execute. */
static bool task_wedged;
/* Back-to-back items (continuation chunks) wait a full task period each. */
static bool previous_was_continuation;
/* Whether the bytes written since the last CR began with "AT": only such a
 * line is a command (see watch_prompt_race). */
static bool at_line_start = true;
static bool in_command_line;

typedef enum {
    OUTCOME_ANSWERED,
    OUTCOME_NO_ANSWER,
    OUTCOME_WEDGED,
} task_outcome_t;

lte_state_t lteppp_get_state(void) {
    return lte_state;
}

void lteppp_set_state(lte_state_t state) {
    lte_state = state;
}

void lteppp_task_reset(void) {
    pthread_mutex_lock(&queue_lock);
    task_wedged = false;
    previous_was_continuation = false;
    at_line_start = true;
    in_command_line = false;
    memset(trx_buffer, 0, sizeof(trx_buffer));
    pthread_mutex_unlock(&queue_lock);
}

bool lteppp_task_caller_waits(bool expect_continuation) {
    /* 1.18's lteppp_send_at_command always blocks on the answer queue. */
    return !(lte_profile_info()->has_continuation && expect_continuation);
}

static bool has_final_code(const char *text) {
    return strstr(text, "\r\nOK\r\n") != NULL
           || strstr(text, "\r\nERROR\r\n") != NULL
           || strstr(text, "+SYSSTART") != NULL
           || strstr(text, "\r\nCONNECT\r\n") != NULL;
}

static uint64_t round_up_to_poll_us(uint64_t us) {
    uint64_t polls = (us + LTE_MODEL_FIRST_BYTE_POLL_US - 1) / LTE_MODEL_FIRST_BYTE_POLL_US;
    return (polls == 0 ? 1 : polls) * LTE_MODEL_FIRST_BYTE_POLL_US;
}

/*
 * The first loop of lteppp_wait_at_rsp: one tick per look, until a byte is
 * buffered or `timeout_ms` looks have passed. Returns the buffered length.
 */
static size_t wait_first_byte(uint32_t timeout_ms, bool forever, bool is_dummy) {
    uint64_t limit_us = (uint64_t)(timeout_ms == 0 ? 1 : timeout_ms) * 1000u;
    int64_t real_start = lte_real_now_us();
    size_t buffered = fake_uart_wait_rx(forever ? -1 : lte_real_us_for_model_us(limit_us));
    if (buffered == 0 && !forever && !is_dummy) {
        /* A command's answer comes from the simulator process, which a loaded
         * host may not schedule for tens of milliseconds: far more than a
         * scaled timeout (300 ms * 0.02 = 6 ms). Its lateness is the host's,
         * not the modem's: while the simulator has not yet handled every byte
         * written, or is still sending, the answer is waited for, up to the
         * unscaled timeout. A silent modem (one that handled the command and
         * said nothing) ends the wait at once. The modelled clock is charged
         * as before. URC harvests (dummies) wait for real peers, and the
         * module bounds those by its own clock. */
        int64_t give_up = real_start + (int64_t)limit_us;
        bool busy, unhandled;
        while (buffered == 0 && lte_real_now_us() < give_up && fake_uart_sim_state(&busy, &unhandled)
               && (busy || unhandled)) {
            int64_t left = give_up - lte_real_now_us();
            buffered = fake_uart_wait_rx(left < SIM_RECHECK_US ? left : SIM_RECHECK_US);
        }
    }
    uint64_t real_waited = (uint64_t)(lte_real_now_us() - real_start);
    if (buffered == 0) {
        lte_model_advance_us(limit_us);
        return 0;
    }
    /* A URC harvest waits as long as the real peers take; a command's answer
     * comes after the modem's turnaround, part of which the 2 ms TX sleep
     * already covered (or later, if the simulator was told to delay it). */
    uint64_t waited = real_waited;
    if (!is_dummy) {
        uint64_t turnaround = LTE_MODEL_MODEM_LATENCY_US - LTE_MODEL_TX_SETTLE_US;
        waited = waited > turnaround ? waited : turnaround;
    }
    waited = round_up_to_poll_us(waited);
    if (!forever && waited > limit_us) {
        /* On the device the answer would come after the timeout: the task
         * gives up with an empty answer and the bytes stay in the ring. */
        lte_model_advance_us(limit_us);
        return 0;
    }
    lte_model_advance_us(waited);
    return buffered;
}

/*
 * uart_read_bytes(..., want, LTE_TRX_WAIT_MS(2048)): returns when `want`
 * bytes are in, or when no new byte came for the read gap.
 */
static size_t driver_read(char *dst, size_t want) {
    size_t got = 0;
    while (got < want) {
        size_t n = fake_uart_take((uint8_t *)dst + got, want - got);
        got += n;
        if (got == want) {
            break;
        }
        if (n == 0 && fake_uart_wait_rx(lte_real_us_for_model_us(LTE_MODEL_READ_GAP_US)) == 0) {
            lte_model_advance_us(LTE_MODEL_READ_GAP_US);
            break;
        }
    }
    lte_stats.bytes_in += got;
    lte_model_advance_ns(lte_model_wire_ns(got));
    return got;
}

static void set_data_remaining(bool remaining) {
    trx_buffer[LTE_UART_BUFFER_SIZE] = remaining ? 1 : 0;
}

/* Whether the simulator is in the middle of sending; false when it cannot say. */
static bool simulator_mid_answer(void) {
    bool busy, unhandled;
    return fake_uart_sim_state(&busy, &unhandled) && busy;
}

/* lteppp_wait_at_rsp: fill the buffer with one answer piece. */
static void wait_at_rsp(uint32_t timeout_ms, bool forever, bool is_dummy) {
    size_t rx_len = wait_first_byte(timeout_ms, forever, is_dummy);
    memset(trx_buffer, 0, LTE_UART_BUFFER_SIZE);
    size_t len_count = 0;
    while (rx_len > 0) {
        rx_len = driver_read(trx_buffer + len_count, RSP_TEXT_MAX - len_count);
        len_count += rx_len;
        if (rx_len == 0) {
            break;
        }
        trx_buffer[len_count] = '\0';
        rx_len = fake_uart_buffered_len();
        if (len_count + rx_len >= RSP_TEXT_MAX) {
            set_data_remaining(true);
            return;
        }
        if (rx_len == 0) {
            /* No final code yet (by a C-string search: text after a NUL byte
             * is not seen): give the modem up to a second for more. */
            int polls = IDLE_POLLS;
            while (!has_final_code(trx_buffer) && rx_len == 0 && polls > 0) {
                rx_len = fake_uart_buffered_len();
                lte_real_sleep_model_us(LTE_MODEL_IDLE_POLL_US);
                lte_model_advance_us(LTE_MODEL_IDLE_POLL_US);
                lte_stats.idle_polls++;
                polls--;
            }
            /* The modelled second is over with part of an answer and no final
             * code. A modem sends an answer's pieces within milliseconds; if
             * the simulator is still sending, the silence was the host's
             * scheduling (the polls above are scaled to a few milliseconds of
             * real time), so its next piece is waited for, not cut off. */
            for (int waits = 0; rx_len == 0 && !has_final_code(trx_buffer) && waits < MID_ANSWER_WAITS
                 && simulator_mid_answer(); waits++) {
                rx_len = fake_uart_wait_rx(SIM_RECHECK_US);
            }
            if (len_count + rx_len >= RSP_TEXT_MAX) {
                set_data_remaining(true);
                return;
            }
        }
    }
    set_data_remaining(false);
}

/* When the modem could first answer the command line whose CR was the last
 * byte written (0: none pending). */
static uint64_t line_answer_due_ns;
static uint64_t line_answer_due_epoch;

/* Counts a command line followed by more bytes before its answer (the
 * SQNSSENDEXT prompt) could have come: a modem may drop such bytes. A CR
 * inside payload bytes (raw payloads carry any byte, and never "AT") ends no
 * command line. */
static void watch_prompt_race(const char *data, size_t len, uint64_t start_ns) {
    if (len > 0 && line_answer_due_ns != 0 && line_answer_due_epoch == lte_model_resets()
        && start_ns < line_answer_due_ns) {
        lte_stats.prompt_races++;
    }
    line_answer_due_ns = 0;
    if (len == 0) {
        return;
    }
    if (at_line_start) {
        in_command_line = len >= 2 && data[0] == 'A' && data[1] == 'T';
    }
    at_line_start = data[len - 1] == '\r';
    if (!in_command_line) {
        return;
    }
    const char *cr = memchr(data, '\r', len);
    if (cr == NULL) {
        return;
    }
    size_t after = len - (size_t)(cr - data) - 1;
    if (after > 0) {
        lte_stats.prompt_races++;
        return;
    }
    line_answer_due_ns = start_ns + lte_model_wire_ns(len) + LTE_MODEL_MODEM_LATENCY_US * 1000u;
    line_answer_due_epoch = lte_model_resets();
}

static void uart_send(const char *data, size_t len) {
    fake_uart_write(data, len);
    lte_stats.bytes_out += len;
    watch_prompt_race(data, len, lte_model_tx_queue(len));
}

void lteppp_fake_delay_ms(uint32_t ms) {
    int cancel_state = task_enter();
    lte_real_sleep_model_us((uint64_t)ms * 1000u);
    lte_model_advance_us((uint64_t)ms * 1000u);
    task_leave(cancel_state);
    fake_interrupt_check_pending();
}

/* lteppp_send_at_cmd_exp on the command now at the start of trx_buffer. */
static task_outcome_t task_execute(const lte_profile_info_t *fw) {
    const uint8_t *item = (const uint8_t *)trx_buffer;
    uint32_t timeout_ms = esp32_le32(item + ESP32_CMD_OFF_TIMEOUT);
    const char *cmd = trx_buffer + ESP32_CMD_OFF_DATA;
    bool forever = fw->zero_timeout_is_forever && timeout_ms == 0;

    if (strstr(cmd, "Pycom_Dummy") != NULL) {
        /* Only read: no flush, nothing written. */
        lte_stats.dummies++;
        lte_stats.exchanges++;
        wait_at_rsp(timeout_ms, forever, true);
        return OUTCOME_ANSWERED;
    }

    size_t len;
    bool continuation = false;
    bool flush;
    if (fw->cmd_layout == LTEPPP_CMD_LAYOUT_1_18) {
        len = strlen(cmd);
        flush = true;
    } else {
        len = esp32_le32(item + ESP32_CMD_OFF_DATALEN);
        continuation = fw->has_continuation && item[ESP32_CMD_OFF_CONT] != 0;
        /* A continuation chunk flushes only when it starts a new command. */
        flush = !continuation || (len >= 2 && cmd[0] == 'A' && cmd[1] == 'T');
    }
    if (flush) {
        lte_stats.flushed_bytes += fake_uart_flush();
    }

    /* The task writes `len` bytes from its buffer. A byte count corrupted by
     * an overlong command reaches past the buffer into whatever memory
     * follows: megabytes to gigabytes of it, until the task faults or the
     * caller gives up. Modelled as a task that never answers again. */
    size_t readable = LTE_UART_BUFFER_SIZE + 1 - ESP32_CMD_OFF_DATA;
    if (len > readable) {
        task_wedged = true;
        return OUTCOME_WEDGED;
    }
    uart_send(cmd, len);
    if (continuation) {
        lte_stats.continuations++;
        return OUTCOME_NO_ANSWER;
    }
    if (strcmp(cmd, "+++") != 0) {
        uart_send(fw->terminator, strlen(fw->terminator));
    }
    lte_model_tx_wait_done();
    lte_real_sleep_model_us(LTE_MODEL_TX_SETTLE_US);
    lte_model_advance_us(LTE_MODEL_TX_SETTLE_US);
    lte_stats.commands++;
    lte_stats.exchanges++;
    wait_at_rsp(timeout_ms, forever, false);
    return OUTCOME_ANSWERED;
}

/* Where the firmware would block forever: spend the command's timeout. */
static lteppp_task_result_t hang(uint32_t timeout_ms, lte_task_rsp_data_t *rsp) {
    uint64_t wait_us = (uint64_t)(timeout_ms == 0 ? LTE_RX_TIMEOUT_MAX_MS : timeout_ms) * 1000u;
    lte_real_sleep_model_us(wait_us);
    lte_model_advance_us(wait_us);
    lte_stats.hangs++;
    if (rsp != NULL) {
        memset(rsp, 0, sizeof(*rsp));
    }
    return LTEPPP_TASK_HUNG;
}

lteppp_task_result_t lteppp_task_submit(const esp32_cmd_image_t *item, bool caller_waits,
    lte_task_rsp_data_t *rsp) {
    int cancel_state = task_enter();
    const lte_profile_info_t *fw = lte_profile_info();
    uint32_t timeout_ms = esp32_le32(item->bytes + ESP32_CMD_OFF_TIMEOUT);
    lteppp_task_result_t result = LTEPPP_TASK_OK;
    lte_stats.last_timeout_ms = timeout_ms;

    if (task_wedged) {
        result = hang(timeout_ms, caller_waits ? rsp : NULL);
        task_leave(cancel_state);
        return result;
    }

    /* The task looks at its queue every 2 ms: half a period on average for a
     * lone command, a full one for each of a stream of chunks. */
    lte_model_advance_us(previous_was_continuation ? LTE_MODEL_TASK_PERIOD_US
                                                   : LTE_MODEL_TASK_PERIOD_US / 2);
    /* The queue copies the firmware's sizeof(lte_task_cmd_data_t) bytes. */
    size_t fw_size = esp32_cmd_image_size(fw->cmd_layout);
    size_t copy = item->size < fw_size ? item->size : fw_size;
    memcpy(trx_buffer, item->bytes, copy);
    memset(trx_buffer + copy, 0, fw_size - copy);

    {
        /* Before the task runs it: the answer overwrites the buffer. */
        const char *data = (const char *)trx_buffer + ESP32_CMD_OFF_DATA;
        size_t cap = fw_size > ESP32_CMD_OFF_DATA ? fw_size - ESP32_CMD_OFF_DATA : 0;
        const char *nul = memchr(data, '\0', cap);
        fake_lose_item_seen(data, nul != NULL ? (size_t)(nul - data) : cap);
    }
    task_outcome_t outcome = task_execute(fw);
    previous_was_continuation = outcome == OUTCOME_NO_ANSWER;
    fake_interrupt_item_done();
    fake_lose_item_done(outcome == OUTCOME_ANSWERED);

    if (caller_waits) {
        if (outcome == OUTCOME_ANSWERED) {
            memcpy(rsp, trx_buffer, sizeof(*rsp));
        } else {
            /* No answer will ever be posted for this caller. */
            result = hang(timeout_ms, rsp);
        }
    }
    task_leave(cancel_state);
    return result;
}
