/*
 * The LTE task's command interface, as Pycom firmware declares it in
 * esp32/lte/lteppp.h, for code that runs on the MicroPython unix port
 * against the modem simulator.
 *
 * A C module linked into Pycom firmware can queue AT commands on the LTE task
 * directly with lteppp_send_at_command(). This header gives the same type
 * names, field order and function so such code compiles unchanged here; the
 * implementation (fake_lteppp.c) reproduces what the firmware's LTE task does
 * with the item, on a Unix-socket "UART" to the simulator.
 *
 * The command struct changed between releases. Pick the release family with
 * LTEPPP_CMD_LAYOUT before including this header (default: the newest). The
 * function name is bound to the layout, and the fake implements all three, so
 * whatever a caller compiled against is decoded with that same layout; what
 * the LTE task then does with the item follows the firmware profile selected
 * at run time (see lte_profile.h), as flashing a module onto another release
 * would.
 */
#ifndef MICROATSOCKET_FAKE_LTEPPP_H
#define MICROATSOCKET_FAKE_LTEPPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* v1.18.x .. v1.20.0.rc12: {timeout, data[124]}; length by strlen, CR LF. */
#define LTEPPP_CMD_LAYOUT_1_18   (1)
/* v1.20.0.rc13 .. v1.20.2.r1: adds an explicit byte count; CR only. */
#define LTEPPP_CMD_LAYOUT_1_20_1 (2)
/* v1.20.2.r2 .. r6, v1.20.2.rc11_pygate, branch Release/v1.20: adds the
 * continuation flag of PR 429 (write, no CR, no answer). */
#define LTEPPP_CMD_LAYOUT_1_20_2 (3)

#ifndef LTEPPP_CMD_LAYOUT
#define LTEPPP_CMD_LAYOUT LTEPPP_CMD_LAYOUT_1_20_2
#endif

#define LTE_UART_BUFFER_SIZE        (2048)
#define LTE_CMD_QUEUE_SIZE_MAX      (1)
#define LTE_RSP_QUEUE_SIZE_MAX      (1)
#define LTE_AT_CMD_SIZE_MAX         (128)
#define LTE_AT_CMD_DATA_SIZE_MAX    (LTE_AT_CMD_SIZE_MAX - 4)
#define LTE_AT_RSP_SIZE_MAX         (LTE_UART_BUFFER_SIZE)
#define LTE_RX_TIMEOUT_MAX_MS       (9500)
#define LTE_RX_TIMEOUT_MIN_MS       (300)

typedef enum {
    E_LTE_INIT = 0,
    E_LTE_IDLE,
    E_LTE_ATTACHING,
    E_LTE_ATTACHED,
    E_LTE_PPP,
    E_LTE_SUSPENDED
} lte_state_t;

/* One queued command. `timeout` is in ms; on 1.20.x a 0 waits forever. */
typedef struct {
    uint32_t timeout;
    char data[LTE_AT_CMD_DATA_SIZE_MAX];
#if LTEPPP_CMD_LAYOUT >= LTEPPP_CMD_LAYOUT_1_20_1
    size_t dataLen;
#endif
#if LTEPPP_CMD_LAYOUT >= LTEPPP_CMD_LAYOUT_1_20_2
    bool expect_continuation;
#endif
} lte_task_cmd_data_t;

/* One answer piece: NUL-terminated text (at most 2046 characters), and
 * whether more is waiting (fetch it with a "Pycom_Dummy" command). */
#pragma pack(1)
typedef struct {
    char data[LTE_UART_BUFFER_SIZE];
    bool data_remaining;
} lte_task_rsp_data_t;
#pragma pack()

#if LTEPPP_CMD_LAYOUT == LTEPPP_CMD_LAYOUT_1_18
#define lteppp_send_at_command lteppp_send_at_command_layout_1_18
#elif LTEPPP_CMD_LAYOUT == LTEPPP_CMD_LAYOUT_1_20_1
#define lteppp_send_at_command lteppp_send_at_command_layout_1_20_1
#else
#define lteppp_send_at_command lteppp_send_at_command_layout_1_20_2
#endif

/*
 * Queue `cmd` on the LTE task and, unless it is a continuation chunk, block
 * until the answer is copied into `rsp`. Never raises. Where the firmware
 * would block forever (its task wedged by an oversized command), the fake
 * returns an empty answer after the command's timeout instead.
 */
void lteppp_send_at_command(lte_task_cmd_data_t *cmd, lte_task_rsp_data_t *rsp);

/* PPP state: while it is E_LTE_PPP the firmware refuses AT commands. */
lte_state_t lteppp_get_state(void);

/* Only in this stand-in (the firmware has no such function): a pause that
 * also advances the fake's modelled device clock. A caller that pauses
 * between items uses it when the macro is defined, mp_hal_delay_ms if not. */
void lteppp_fake_delay_ms(uint32_t ms);
#define LTEPPP_FAKE_DELAY_MS(ms) lteppp_fake_delay_ms(ms)

#endif /* MICROATSOCKET_FAKE_LTEPPP_H */
