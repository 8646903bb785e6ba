/* POSIX clocks, sleeps and sockets under a strict -std=c99 too. */
#define _POSIX_C_SOURCE 200809L

#include "fake_uart.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lte_model.h"
#include "sim_control.h"

static int uart_fd = -1;

/* MICROATSOCKET_LTE_TRACE=<file>: every byte to and from the modem, and every
 * byte a flush discarded, appended to that file, for reading what a test did. */
static void trace(const char *what, const uint8_t *data, size_t len) {
    static FILE *out;
    static bool checked;
    if (!checked) {
        checked = true;
        const char *path = getenv("MICROATSOCKET_LTE_TRACE");
        out = path != NULL && path[0] != '\0' ? fopen(path, "a") : NULL;
    }
    if (out == NULL || len == 0) {
        return;
    }
    fprintf(out, "uart %s %zu: ", what, len);
    for (size_t i = 0; i < len; i++) {
        uint8_t c = data[i];
        if (c == '\r') {
            fputs("\\r", out);
        } else if (c == '\n') {
            fputs("\\n", out);
        } else if (c >= 0x20 && c < 0x7f) {
            fputc(c, out);
        } else {
            fprintf(out, "\\x%02x", c);
        }
    }
    fputc('\n', out);
    fflush(out);
}

/* Bytes written on this connection, and which of the simulator's UART
 * connections it is (the simulator serves one after another and outlives
 * them; 0: unknown, and the simulator is not asked). */
static uint64_t written;
static uint64_t connection;

typedef struct {
    bool busy;                /* writing an answer or URC, or holding written bytes */
    uint64_t connection;      /* the connection it serves */
    uint64_t read;            /* bytes it read from that connection */
    uint64_t forwarded;       /* host bytes passed on to its modem, ever */
    uint64_t handled;         /* ... and taken and answered by it */
} sim_uart_state_t;

static bool query_sim(sim_uart_state_t *st) {
    static const char line[] = "uart busy";
    char reply[128];
    if (sim_control_exchange(line, sizeof(line) - 1, reply, sizeof(reply)) != 0) {
        return false;
    }
    unsigned b;
    unsigned long long c, r, f, h;
    if (sscanf(reply, "OK %u %llu %llu %llu %llu", &b, &c, &r, &f, &h) != 5) {
        return false;
    }
    *st = (sim_uart_state_t){ b != 0, c, r, f, h };
    return true;
}

bool fake_uart_sim_state(bool *busy, bool *unhandled) {
    sim_uart_state_t st;
    if (connection == 0 || !query_sim(&st)) {
        return false;
    }
    if (st.connection != connection) {
        /* Still serving the previous process's connection: ours waits. */
        *busy = true;
        *unhandled = true;
        return true;
    }
    *busy = st.busy;
    /* Not all read yet, or read and passed on but not yet answered (bytes are
     * counted as passed on before they count as read: see the simulator's
     * Uart::write). */
    *unhandled = st.read < written || st.handled < st.forwarded;
    return true;
}

static uint8_t ring[FAKE_UART_RX_RING_SIZE];
static size_t ring_head; /* next byte to read */
static size_t ring_count;

const char *fake_uart_socket_path(void) {
    const char *path = getenv(FAKE_UART_SOCKET_ENV);
    return (path != NULL && path[0] != '\0') ? path : NULL;
}

bool fake_uart_is_open(void) {
    return uart_fd >= 0;
}

void fake_uart_close(void) {
    if (uart_fd >= 0) {
        close(uart_fd);
        uart_fd = -1;
    }
}

int fake_uart_open(void) {
    if (uart_fd >= 0) {
        return 0;
    }
    const char *path = fake_uart_socket_path();
    if (path == NULL) {
        return EINVAL;
    }
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path)) {
        return ENAMETOOLONG;
    }
    strcpy(addr.sun_path, path);
    /* The connection this one will be: the next after the last the simulator
     * accepted (one host at a time per simulator). */
    sim_uart_state_t before;
    connection = query_sim(&before) ? before.connection + 1 : 0;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        int err = errno;
        close(fd);
        return err;
    }
    uart_fd = fd;
    written = 0;
    return 0;
}

/* The driver's ISR: move arrivals into the ring while it has room. */
static void ring_fill(void) {
    while (uart_fd >= 0 && ring_count < FAKE_UART_RX_RING_SIZE) {
        size_t tail = (ring_head + ring_count) % FAKE_UART_RX_RING_SIZE;
        size_t room = FAKE_UART_RX_RING_SIZE - ring_count;
        size_t contiguous = FAKE_UART_RX_RING_SIZE - tail;
        size_t want = room < contiguous ? room : contiguous;
        ssize_t n = recv(uart_fd, ring + tail, want, MSG_DONTWAIT);
        if (n > 0) {
            ring_count += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            /* The simulator went away; reconnect on the next write. */
            fake_uart_close();
        }
        return;
    }
}

size_t fake_uart_buffered_len(void) {
    ring_fill();
    return ring_count;
}

size_t fake_uart_take(uint8_t *dst, size_t max) {
    ring_fill();
    size_t n = 0;
    while (n < max && ring_count > 0) {
        dst[n++] = ring[ring_head];
        ring_head = (ring_head + 1) % FAKE_UART_RX_RING_SIZE;
        ring_count--;
    }
    trace("in", dst, n);
    return n;
}

size_t fake_uart_flush(void) {
    ring_fill();
    size_t dropped = ring_count;
    if (dropped > 0) {
        uint8_t lost[FAKE_UART_RX_RING_SIZE];
        for (size_t i = 0; i < dropped; i++) {
            lost[i] = ring[(ring_head + i) % FAKE_UART_RX_RING_SIZE];
        }
        trace("flushed", lost, dropped);
    }
    ring_head = 0;
    ring_count = 0;
    /* The hardware FIFO is reset too. */
    uint8_t fifo[FAKE_UART_HW_FIFO_LEN];
    size_t fifo_dropped = 0;
    while (uart_fd >= 0 && fifo_dropped < sizeof(fifo)) {
        ssize_t n = recv(uart_fd, fifo, sizeof(fifo) - fifo_dropped, MSG_DONTWAIT);
        if (n > 0) {
            fifo_dropped += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            break;
        }
    }
    return dropped + fifo_dropped;
}

void fake_uart_write(const void *data, size_t len) {
    if (uart_fd < 0 && fake_uart_open() != 0) {
        return;
    }
    const uint8_t *p = data;
    trace("out", p, len);
    while (len > 0) {
        ssize_t n = send(uart_fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fake_uart_close();
            return;
        }
        p += n;
        len -= (size_t)n;
        written += (uint64_t)n;
    }
}

size_t fake_uart_wait_rx(int64_t real_timeout_us) {
    int64_t deadline = real_timeout_us < 0 ? -1 : lte_real_now_us() + real_timeout_us;
    for (;;) {
        if (fake_uart_buffered_len() > 0) {
            return ring_count;
        }
        int64_t left_us = deadline < 0 ? -1 : deadline - lte_real_now_us();
        if (deadline >= 0 && left_us <= 0) {
            return 0;
        }
        if (uart_fd < 0) {
            /* Nothing can arrive; spend the wait like a silent modem. */
            if (left_us < 0) {
                left_us = 1000000;
            }
            struct pollfd none = { .fd = -1 };
            poll(&none, 0, (int)((left_us + 999) / 1000));
            continue;
        }
        struct pollfd pfd = { .fd = uart_fd, .events = POLLIN };
        int ms = left_us < 0 ? -1 : (int)((left_us + 999) / 1000);
        int r = poll(&pfd, 1, ms);
        if (r < 0 && errno != EINTR) {
            fake_uart_close();
        }
    }
}
