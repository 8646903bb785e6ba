/* Calls the microATsocket C ABI exactly as the MicroPython shim does, through the generated
 * header, with a scripted modem standing in for the transport. Returns the failure count. */
#include "microatsocket.h"

#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "abi_test.c:%d: check failed: %s\n", __LINE__, #cond); \
            failures++;                                                          \
        }                                                                        \
    } while (0)

/* The scripted modem: answers each command the way the Monarch does. */
static const char *answer(const mas_exchange *x, char *scratch, size_t cap) {
    if (x->kind == MAS_EXCHANGE_SLEEP) {
        return "";
    }
    if (x->kind == MAS_EXCHANGE_PAYLOAD) {
        return "\r\nOK\r\n";
    }
    if (x->command_len >= 16 && memcmp(x->command, "AT+SQNSSENDEXT=", 15) == 0) {
        return "\r\n> ";
    }
    if (x->command_len >= 12 && memcmp(x->command, "AT+SQNSRECV=", 12) == 0) {
        snprintf(scratch, cap, "\r\n+SQNSRECV: 1,3\r\n00FF41\r\n\r\nOK\r\n");
        return scratch;
    }
    if (x->command_len >= 14 && memcmp(x->command, "AT+SQNDNSLKUP=", 14) == 0) {
        return "\r\n+SQNDNSLKUP: coap.me,2001:db8::1,192.0.2.1\r\n\r\nOK\r\n";
    }
    if (x->command_len == 8 && memcmp(x->command, "AT+SQNSS", 8) == 0) {
        return "\r\n+SQNSS: 1,0\r\n+SQNSS: 2,0\r\n+SQNSS: 3,0\r\n+SQNSS: 4,0\r\n"
               "+SQNSS: 5,0\r\n+SQNSS: 6,0\r\n\r\nOK\r\n";
    }
    return "\r\nOK\r\n";
}

/* Drives the started operation to its end; returns the outcome and counts exchanges. */
static mas_outcome drive(int *exchanges) {
    mas_exchange next;
    mas_outcome outcome;
    const char *reply = NULL;
    char scratch[128];
    uint32_t now = 0;
    memset(&outcome, 0, sizeof outcome);
    *exchanges = 0;
    while (mas_step((const uint8_t *)reply, reply ? strlen(reply) : 0, now, &next, &outcome) == 1) {
        (*exchanges)++;
        now += 5 + (next.kind == MAS_EXCHANGE_SLEEP ? next.timeout_ms : 0);
        reply = answer(&next, scratch, sizeof scratch);
        if (*exchanges > 100) {
            break;
        }
    }
    return outcome;
}

static void test_addresses(void) {
    mas_addr addr;
    char text[64];
    CHECK(mas_addr_parse("2001:db8::1", 11, 5683, &addr) == 0);
    CHECK(addr.family == 6 && addr.port == 5683 && addr.ip[0] == 0x20 && addr.ip[15] == 1);
    CHECK(mas_addr_format(&addr, text, sizeof text) == 11 && memcmp(text, "2001:db8::1", 11) == 0);
    CHECK(mas_addr_format(&addr, text, 5) == 0);
    CHECK(mas_addr_parse("127.0.0.1", 9, 7, &addr) == 0 && addr.family == 4 && addr.ip[0] == 127);
    CHECK(mas_addr_parse("1.2.3.4\",", 9, 7, &addr) == MAS_EINVAL);
    CHECK(mas_addr_parse("example.com", 11, 7, &addr) == MAS_EINVAL);
    CHECK(mas_addr_parse(NULL, 3, 7, &addr) == MAS_EINVAL);
    CHECK(mas_addr_parse("::1", 3, 7, NULL) == MAS_EINVAL);
    addr.family = 5;
    CHECK(mas_addr_format(&addr, text, sizeof text) == 0);
}

static void test_pool_and_handles(void) {
    mas_handle handles[6];
    mas_handle extra;
    int exchanges;
    int i;
    for (i = 0; i < 6; i++) {
        CHECK(mas_socket_open(&handles[i]) == 0);
    }
    CHECK(mas_socket_open(&extra) == MAS_ENOMEM);
    CHECK(mas_socket_open(NULL) == MAS_EINVAL);
    CHECK(mas_slots_in_use() == 6);
    for (i = 0; i < 6; i++) {
        CHECK(mas_close_begin(handles[i]) == 0);
        CHECK(drive(&exchanges).error == 0);
        CHECK(exchanges == 0); /* never dialled: nothing to close on the modem */
    }
    CHECK(mas_slots_in_use() == 0);
    CHECK(!mas_socket_is_open(handles[0]));
    CHECK(mas_close_begin(handles[0]) == MAS_EBADF);
    CHECK(mas_socket_open(&extra) == 0);
    CHECK(extra != handles[0]); /* a new generation */
    CHECK(mas_sendto_begin(handles[0], (const uint8_t *)"x", 1, NULL) == MAS_EBADF);
    CHECK(mas_close_begin(extra) == 0);
    drive(&exchanges);
}

static void test_send_and_receive(void) {
    mas_limits stock = {124, true, true, false, 1};
    mas_handle h;
    mas_addr peer;
    mas_outcome out;
    uint8_t big[63];
    int exchanges;
    CHECK(mas_configure(&stock) == 0);
    CHECK(mas_configure(NULL) == MAS_EINVAL);
    CHECK(mas_max_datagram() == 62);
    CHECK(mas_reset_begin() == 0);
    CHECK(drive(&exchanges).error == 0 && exchanges == 2);
    CHECK(mas_socket_open(&h) == 0);
    CHECK(mas_addr_parse("::1", 3, 7, &peer) == 0);
    memset(big, 'a', sizeof big);
    CHECK(mas_sendto_begin(h, big, sizeof big, &peer) == MAS_EMSGSIZE);
    CHECK(mas_sendto_begin(h, NULL, 4, &peer) == MAS_EINVAL);
    CHECK(mas_recvfrom_begin(h, 100, 0) == MAS_ENOTCONN);
    CHECK(mas_sendto_begin(h, (const uint8_t *)"hello", 5, &peer) == 0);
    CHECK(mas_sendto_begin(h, (const uint8_t *)"hello", 5, &peer) == MAS_EALREADY);
    out = drive(&exchanges);
    CHECK(out.error == 0 && out.len == 5);
    CHECK(exchanges == 5); /* SQNSCFG, SQNSCFGEXT, SQNSD, SQNSSENDEXT, payload */
    CHECK(mas_sendto_begin(h, (const uint8_t *)"hello", 5, NULL) == MAS_ENOTCONN);
    CHECK(mas_connect_begin(h, &peer) == 0);
    CHECK(drive(&exchanges).error == 0 && exchanges == 0);
    CHECK(mas_sendto_begin(h, (const uint8_t *)"hello", 5, NULL) == 0);
    CHECK(drive(&exchanges).error == 0 && exchanges == 2);
    CHECK(mas_recvfrom_begin(h, 1000, 0) == 0);
    out = drive(&exchanges);
    CHECK(out.error == 0 && exchanges == 1);
    CHECK(out.data_len == 3 && out.data[0] == 0x00 && out.data[1] == 0xFF && out.data[2] == 'A');
    CHECK(out.from.family == 6 && out.from.port == 7 && out.from.ip[15] == 1);
    CHECK(mas_poll_begin(h, 0) == 0);
    out = drive(&exchanges);
    CHECK(out.error == 0 && exchanges == 1 && !out.readable); /* one AT+SQNSS for all six */
    CHECK(mas_poll_ready(h) == 0);
    CHECK(mas_poll_ready(0xdeadbeef) == -MAS_EBADF);
    CHECK(mas_recv_wait_ms(h, 0) >= 0);
    CHECK(mas_close_begin(h) == 0);
    /* The sweep showed connId 1 closed: nothing is left to close at the modem. */
    CHECK(drive(&exchanges).error == 0 && exchanges == 0);
    CHECK(mas_slots_in_use() == 0);
}

static void test_step_without_operation_and_abort(void) {
    mas_exchange next;
    mas_outcome out;
    mas_handle h;
    mas_addr peer;
    CHECK(mas_step(NULL, 0, 0, &next, &out) == 0 && out.error == MAS_EINVAL);
    CHECK(mas_step(NULL, 0, 0, NULL, &out) == 0);
    CHECK(mas_socket_open(&h) == 0);
    CHECK(mas_addr_parse("127.0.0.1", 9, 9, &peer) == 0);
    CHECK(mas_sendto_begin(h, (const uint8_t *)"x", 1, &peer) == 0);
    CHECK(mas_step(NULL, 0, 0, &next, &out) == 1);
    mas_abort();
    CHECK(mas_step(NULL, 0, 0, &next, &out) == 0 && out.error == MAS_EINVAL);
    CHECK(mas_close_begin(h) == 0);
    mas_abort(); /* a close that is aborted still frees the slot */
    CHECK(mas_slots_in_use() == 0);
    CHECK(mas_last_cme() == -1);
}

static void test_resolve(void) {
    mas_outcome out;
    int exchanges;
    CHECK(mas_resolve_begin("coap.me", 7, 6, NULL, 1) == 0);
    out = drive(&exchanges);
    CHECK(out.error == 0 && out.addr_count == 1);
    CHECK(out.addrs[0].family == 6 && out.addrs[0].ip[0] == 0x20 && out.addrs[0].ip[15] == 1);
    CHECK(mas_resolve_begin("coap.me", 7, 4, NULL, 1) == 0);
    out = drive(&exchanges);
    CHECK(out.error == 0 && out.addr_count == 1 && out.addrs[0].family == 4 && out.addrs[0].ip[0] == 192);
    CHECK(mas_resolve_begin("bad\"name", 8, 6, NULL, 1) == MAS_EINVAL);
    CHECK(mas_resolve_begin("coap.me", 7, 5, NULL, 1) == MAS_EINVAL);
    CHECK(mas_resolve_begin(NULL, 7, 6, NULL, 1) == MAS_EINVAL);
    CHECK(mas_slots_in_use() == 0);
}

int mas_abi_test_run(void);

int mas_abi_test_run(void) {
    test_addresses();
    test_pool_and_handles();
    test_send_and_receive();
    test_step_without_operation_and_abort();
    test_resolve();
    return failures;
}
