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
 */
#include "interrupt_hook.h"

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
