/* Test hook: an exception at a chosen item of the fake LTE task (interrupt_hook.c). */
#ifndef MICROATSOCKET_FAKE_LTE_INTERRUPT_HOOK_H
#define MICROATSOCKET_FAKE_LTE_INTERRUPT_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { FAKE_INTERRUPT_NONE, FAKE_INTERRUPT_KBD, FAKE_INTERRUPT_PPP } fake_interrupt_kind_t;

void fake_interrupt_arm(uint32_t items, fake_interrupt_kind_t kind);
/* Called by the task after each item it took (written, answered or not). */
void fake_interrupt_item_done(void);
bool fake_interrupt_pending(void);
/* Raises a pending exception, as mp_hal_delay_ms does after its sleep. */
void fake_interrupt_check_pending(void);

/* The answer lost after the modem acted (network._lte_lose): armed with a text
 * and a count, it fires at the first answered item at or after the count-th
 * item holding the text. */
void fake_lose_arm(const char *text, size_t len, uint32_t nth);
bool fake_lose_armed(void);
/* Called by the task with each item's bytes before it runs the item, and
 * with whether it was answered after. */
void fake_lose_item_seen(const char *data, size_t len);
void fake_lose_item_done(bool answered);
/* Called by each entry point once the task is done with the item, the queue
 * lock released: raises KeyboardInterrupt if this item's answer is lost.
 * `gil_released`: the caller let the GIL go around the call (lteppp). */
void fake_lose_raise_if_fired(bool gil_released);

#endif
