/*
 * The unix port's standard variant, with Ctrl-C and built-in module
 * initialisation as on a Pycom board.
 *
 * Pycom's esp32 port does not set MICROPY_ASYNC_KBD_INTR (esp32/mpconfigport.h,
 * v1.20.2.r6): Ctrl-C from the UART or telnet only sets the pending exception
 * (mp_keyboard_interrupt, lib/utils/interrupt_char.c), which the VM raises at
 * its next check: between bytecodes, or where C code calls mp_handle_pending
 * (mp_hal_delay_ms does). The standard variant raises KeyboardInterrupt with a
 * longjmp out of the SIGINT handler instead, which can land anywhere: inside a
 * lock, inside the fake LTE task, inside the Rust core. Here SIGINT schedules
 * the exception, as on the board (ports/unix/unix_mphal.c: sighandler).
 *
 * Nor does it set MICROPY_MODULE_BUILTIN_INIT (py default 0 in 1.11): a
 * built-in module's __init__ is never called, not on first import and not
 * after a soft reset, so a module must find out about a new VM by itself.
 * (On the unix port this also leaves `random` unseeded at start, as the
 * firmware's.)
 */
#define MICROPY_CONFIG_ROM_LEVEL (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

#include "variants/mpconfigvariant_common.h"

#undef MICROPY_ASYNC_KBD_INTR
#define MICROPY_ASYNC_KBD_INTR (0)

#undef MICROPY_MODULE_BUILTIN_INIT
#define MICROPY_MODULE_BUILTIN_INIT (0)
