/*
 * The LTE UART of the fake: a Unix stream socket to the modem simulator at the
 * path in MONARCH_SIM_SOCKET, read through a receive ring the size of the
 * ESP-IDF driver's.
 *
 * Ring model: the firmware installs the UART driver with a 2048-byte RX ring
 * and runs it with RTS/CTS flow control, so bytes the ring cannot hold wait in
 * the 128-byte hardware FIFO and then in the modem; nothing is dropped. Here
 * the ring is filled from the socket only when the LTE task looks at it, and
 * only up to its capacity; the socket's backlog plays FIFO and modem. A flush
 * discards what the ESP32 would hold at that moment (ring plus FIFO, at most
 * 2048 + 128 bytes); anything beyond that the modem still sends afterwards.
 */
#ifndef MICROATSOCKET_FAKE_UART_H
#define MICROATSOCKET_FAKE_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_UART_RX_RING_SIZE (2048)
#define FAKE_UART_HW_FIFO_LEN  (128)
#define FAKE_UART_SOCKET_ENV   "MONARCH_SIM_SOCKET"

/* The socket path from the environment, or NULL when unset or empty. */
const char *fake_uart_socket_path(void);
/* Connects if not connected. Returns 0 or an errno value (EINVAL: path unset). */
int fake_uart_open(void);
bool fake_uart_is_open(void);
void fake_uart_close(void);

/* uart_get_buffered_data_len: bytes in the ring after taking in arrivals. */
size_t fake_uart_buffered_len(void);
/* uart_flush: discards what the ESP32 holds now; returns the byte count. */
size_t fake_uart_flush(void);
/* uart_write_bytes. Connects lazily; if the simulator is unreachable the
 * bytes are lost, as with a modem that is off. */
void fake_uart_write(const void *data, size_t len);
/* Waits until the ring holds a byte or `real_timeout_us` passes (negative:
 * forever). Returns the buffered length. */
size_t fake_uart_wait_rx(int64_t real_timeout_us);
/* Takes up to `max` bytes from the ring (no waiting). */
size_t fake_uart_take(uint8_t *dst, size_t max);

/* What the simulator says (control line "uart busy") about the line: `busy`
 * while it is writing an answer or URC, or holds written bytes; `unhandled`
 * while bytes written on this connection wait for the modem to take and answer
 * them. False when it cannot say (no simulator, an older one). A loaded host
 * may leave the simulator unscheduled for longer than a scaled timeout; this
 * tells that apart from a modem that is silent. */
bool fake_uart_sim_state(bool *busy, bool *unhandled);

#endif
