/*
 * Test hook of the fake LTE task: an exception arriving while the LTE task
 * works, as on a board (Ctrl-C, or another thread putting the modem in PPP
 * data state with lte.connect()). Armed with network._lte_interrupt(n, kind):
 * when the n-th item from now reaches the task (counted over
 * lteppp_send_at_command and LTE.send_at_cmd alike), after it is written:
 *   - "kbd": a KeyboardInterrupt is scheduled, raised at the caller's next
 *     pending-exception check (a delay, or back in the VM);
 *   - "ppp": the task enters data state, so the next call is refused with the
 *     firmware's OSError.
 * The fake's pauses check for pending exceptions as mp_hal_delay_ms does.
 *
 * The lost answer (network._lte_lose(text, nth)): the modem receives and
 * carries out an item, answers it, and the caller gets a KeyboardInterrupt
 * instead of the answer, raised the moment the item returns (from
 * LTE.send_at_cmd, or from lteppp_send_at_command on the direct transport).
 * It is how a test makes the module lose an answer the modem has acted on,
 * at a chosen command, on either transport: the answer to AT+SQNSSCFG, to
 * AT+SQNSPCFG, or (text "-----END") to an upload's last piece.
 */
#include "interrupt_hook.h"

#include <string.h>

#include "py/mpthread.h"
#include "py/runtime.h"

#include "lteppp.h"
#include "lteppp_task.h"

static uint32_t countdown;
static fake_interrupt_kind_t armed;

void fake_interrupt_arm(uint32_t items, fake_interrupt_kind_t kind) {
    countdown = items;
    armed = items > 0 ? kind : FAKE_INTERRUPT_NONE;
}

void fake_interrupt_item_done(void) {
    if (armed == FAKE_INTERRUPT_NONE || countdown == 0 || --countdown > 0) {
        return;
    }
    fake_interrupt_kind_t kind = armed;
    armed = FAKE_INTERRUPT_NONE;
    if (kind == FAKE_INTERRUPT_KBD) {
        mp_sched_keyboard_interrupt();
    } else {
        lteppp_set_state(E_LTE_PPP);
    }
}

bool fake_interrupt_pending(void) {
    return armed != FAKE_INTERRUPT_NONE;
}

void fake_interrupt_check_pending(void) {
    mp_handle_pending(true);
}

#define LOSE_TEXT_CAP (64)
static char lose_text[LOSE_TEXT_CAP];
static size_t lose_len;
static uint32_t lose_countdown; /* matching items still to come; 0: disarmed */
static bool lose_matched;       /* the count-th match passed: the next answer is lost */
static volatile bool lose_fired;

void fake_lose_arm(const char *text, size_t len, uint32_t nth) {
    lose_len = len < LOSE_TEXT_CAP ? len : LOSE_TEXT_CAP;
    memcpy(lose_text, text, lose_len);
    lose_countdown = lose_len > 0 ? nth : 0;
    lose_matched = false;
    lose_fired = false;
}

bool fake_lose_armed(void) {
    return lose_countdown > 0 || lose_matched;
}

static bool holds(const char *data, size_t len) {
    for (size_t i = 0; i + lose_len <= len; i++) {
        if (memcmp(data + i, lose_text, lose_len) == 0) {
            return true;
        }
    }
    return false;
}

void fake_lose_item_seen(const char *data, size_t len) {
    if (lose_countdown > 0 && holds(data, len) && --lose_countdown == 0) {
        lose_matched = true;
    }
}

void fake_lose_item_done(bool answered) {
    if (lose_matched && answered) {
        lose_matched = false;
        lose_fired = true;
    }
}

void fake_lose_raise_if_fired(bool gil_released) {
    if (!lose_fired) {
        return;
    }
    lose_fired = false;
    /* The direct transport releases the GIL around lteppp_send_at_command; the
     * raise skips its re-entry, so it is taken here. */
    if (gil_released) {
        MP_THREAD_GIL_ENTER();
    }
    mp_raise_type(&mp_type_KeyboardInterrupt);
}
