/* POSIX clocks, sleeps and sockets under a strict -std=c99 too. */
#define _POSIX_C_SOURCE 200809L

#include "sim_control.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake_uart.h"

static int send_all(int fd, const char *p, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int exchange_on(int fd, const char *line, size_t len, char *reply, size_t reply_size) {
    struct timeval tv = { .tv_sec = SIM_CONTROL_TIMEOUT_S };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int err = send_all(fd, line, len);
    if (err == 0) {
        err = send_all(fd, "\n", 1);
    }
    if (err != 0) {
        return err;
    }
    size_t used = 0;
    for (;;) {
        char c;
        ssize_t n = recv(fd, &c, 1, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT : errno;
        }
        if (n == 0) {
            /* Closed without a newline: take what came. */
            if (used == 0) {
                return ECONNRESET;
            }
            break;
        }
        if (c == '\n') {
            break;
        }
        if (used + 1 < reply_size) {
            reply[used++] = c;
        }
    }
    if (used > 0 && reply[used - 1] == '\r') {
        used--;
    }
    reply[used] = '\0';
    return 0;
}

int sim_control_exchange(const char *line, size_t len, char *reply, size_t reply_size) {
    const char *base = fake_uart_socket_path();
    if (base == NULL) {
        return EINVAL;
    }
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(base) + strlen(SIM_CONTROL_SUFFIX) >= sizeof(addr.sun_path)) {
        return ENAMETOOLONG;
    }
    strcpy(addr.sun_path, base);
    strcat(addr.sun_path, SIM_CONTROL_SUFFIX);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    int err = 0;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        err = errno;
    } else {
        err = exchange_on(fd, line, len, reply, reply_size);
    }
    close(fd);
    return err;
}
