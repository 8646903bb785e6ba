/* Test hook: an exception at a chosen item of the fake LTE task (interrupt_hook.c). */
#ifndef MICROATSOCKET_FAKE_LTE_INTERRUPT_HOOK_H
#define MICROATSOCKET_FAKE_LTE_INTERRUPT_HOOK_H

#include <stdbool.h>
#include <stdint.h>

typedef enum { FAKE_INTERRUPT_NONE, FAKE_INTERRUPT_KBD, FAKE_INTERRUPT_PPP } fake_interrupt_kind_t;

void fake_interrupt_arm(uint32_t items, fake_interrupt_kind_t kind);
/* Called by the task after each item it took (written, answered or not). */
void fake_interrupt_item_done(void);
bool fake_interrupt_pending(void);
/* Raises a pending exception, as mp_hal_delay_ms does after its sleep. */
void fake_interrupt_check_pending(void);

#endif
