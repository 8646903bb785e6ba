/*
 * The direct transport, for firmware built with this module: each exchange is
 * queued on Pycom's LTE task with lteppp_send_at_command() (declared extern in
 * the firmware's esp32/lte/lteppp.h), with no Python call, no heap for
 * ordinary answers, and the GIL released while the task works.
 *
 * Selected at build time: make MICROATSOCKET_TRANSPORT=lteppp. The firmware's
 * command struct changed between releases and its header says nothing about
 * which one it is, so the layout is a build setting too,
 * MICROATSOCKET_LTEPPP_LAYOUT (see the table below); static assertions catch
 * a header that does not match it.
 *
 * What the LTE task does with an item (sequans-at-sockets.md section 5):
 *   - data containing "Pycom_Dummy": writes nothing, flushes nothing, reads
 *     what arrives within the timeout (ending early only at OK, ERROR,
 *     +SYSSTART or CONNECT; otherwise after up to 1 s of idle polls);
 *   - a normal item: flushes the UART receive ring, writes dataLen bytes and a
 *     CR, reads the answer like above;
 *   - a continuation item (1.20.2.r2 and later): writes dataLen bytes and
 *     nothing else, flushing first only if they start with "AT"; the caller
 *     does not wait.
 * Answers come in pieces of at most 2046 characters, cut at the first NUL;
 * data_remaining says a "Pycom_Dummy" read should fetch the next piece.
 *
 * A send, AT+SQNSSENDEXT and its payload in one exchange, goes as:
 *   1. the command and its CR as a continuation item (no wait);
 *   2. a short pause (config prompt_gap_ms, default 10) for the modem's "> "
 *      prompt, which comes about 6 ms after the command; a Pycom_Dummy read
 *      cannot wait for it, since "> " is not a final code and costs the 1 s
 *      idle wait;
 *   3. the payload in 124-byte continuation items;
 *   4. the last 1..124 payload bytes as a normal item, whose answer is the
 *      modem's OK. Its flush only discards the prompt (the OK cannot come
 *      before these bytes), and its CR reaches the modem after the counted
 *      payload as an empty command line.
 * So the wait is spent once, on the final OK: the time is the UART's.
 *
 * Raw bytes both ways on layout 1202 (sendDataMode and recvDataMode 0, chosen
 * by the core per connId and direction); hex on 1201 and 118, whose single
 * item cannot be cut around "Pycom_Dummy" (and 118's task measures it with
 * strlen). What the task does with raw bytes (esp32/lte/lteppp.c):
 *   - send: it writes dataLen bytes, NULs included, but an item holding
 *     "Pycom_Dummy" (before a NUL) is a read and writes nothing: items are
 *     cut inside that word (item_len). An item starting with "AT" flushes the
 *     receive ring first: that only drops the "> " prompt. The payload is
 *     streamed blind after the gap, and a modem that refused the command
 *     would read it as command lines: the core stages a payload raw only when
 *     it holds no AT prefix (src/payload.rs), hex otherwise.
 *   - receive: the task zeroes its buffer before reading and the queue copies
 *     the whole piece, so the piece's length is up to its last non-NUL byte
 *     (an answer ends with its final code). But the task looks for the final
 *     code with strstr, which stops at the first NUL: an answer with a NUL in
 *     its data costs the 1 s idle wait. The core turns such a socket to hex
 *     reads after the first one.
 *
 * Do not call LTE.send_at_cmd from another thread while a socket operation
 * runs: the task has one command queue and one answer queue, and an answer
 * goes to whichever caller waits first.
 */
#include <string.h>

/* runtime.h first: on Pycom's esp32 port mpthread.h needs mpstate.h's types
 * declared in the order runtime.h brings them. */
#include "py/runtime.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/mpthread.h"

#include "mas_glue.h"

/* Layouts of lte_task_cmd_data_t, by firmware release. */
#define MAS_LTEPPP_LAYOUT_1_18   (118)  /* v1.18.x .. v1.20.0.rc12: {timeout, data[124]}, CR LF */
#define MAS_LTEPPP_LAYOUT_1_20_1 (1201) /* v1.20.0.rc13 .. v1.20.2.r1: + dataLen */
#define MAS_LTEPPP_LAYOUT_1_20_2 (1202) /* v1.20.2.r2 and later: + expect_continuation */

#ifndef MICROATSOCKET_LTEPPP_LAYOUT
#define MICROATSOCKET_LTEPPP_LAYOUT MAS_LTEPPP_LAYOUT_1_20_2
#endif

/* The unix port's stand-in for the firmware header reads this to pick its
 * struct; the firmware's own header has just the one struct and ignores it. */
#if MICROATSOCKET_LTEPPP_LAYOUT == MAS_LTEPPP_LAYOUT_1_18
#define LTEPPP_CMD_LAYOUT (1)
#elif MICROATSOCKET_LTEPPP_LAYOUT == MAS_LTEPPP_LAYOUT_1_20_1
#define LTEPPP_CMD_LAYOUT (2)
#elif MICROATSOCKET_LTEPPP_LAYOUT == MAS_LTEPPP_LAYOUT_1_20_2
#define LTEPPP_CMD_LAYOUT (3)
#else
#error "MICROATSOCKET_LTEPPP_LAYOUT must be 118, 1201 or 1202"
#endif

#ifdef ESP_PLATFORM
/* The firmware's lteppp.h names FreeRTOS types without including them, as
 * its own users include FreeRTOS first. */
#include "freertos/FreeRTOS.h"
#include "freertos/semphr.h"
#endif
#include "lteppp.h"

#define HAS_DATA_LEN (MICROATSOCKET_LTEPPP_LAYOUT >= MAS_LTEPPP_LAYOUT_1_20_1)
#define HAS_CONTINUATION (MICROATSOCKET_LTEPPP_LAYOUT >= MAS_LTEPPP_LAYOUT_1_20_2)

/* Bytes one item carries. */
#define ITEM_DATA_MAX (sizeof(((lte_task_cmd_data_t *)0)->data))
/* Characters in one answer piece (the task NUL-terminates its 2048 bytes). */
#define PIECE_TEXT_MAX (sizeof(((lte_task_rsp_data_t *)0)->data))

/* The header must be the release the build was told about: a 1.20.x header
 * under the 1.18 setting would queue items with dataLen 0 (nothing written). */
_Static_assert(sizeof(((lte_task_cmd_data_t *)0)->data) == 124, "lteppp.h: data[] is not 124 bytes");
#if MICROATSOCKET_LTEPPP_LAYOUT == MAS_LTEPPP_LAYOUT_1_18
_Static_assert(sizeof(lte_task_cmd_data_t) == 4 + 124, "lteppp.h is not the 1.18 layout: set MICROATSOCKET_LTEPPP_LAYOUT");
#elif MICROATSOCKET_LTEPPP_LAYOUT == MAS_LTEPPP_LAYOUT_1_20_1
_Static_assert(sizeof(lte_task_cmd_data_t) == 4 + 124 + sizeof(size_t), "lteppp.h is not the 1.20.1 layout: set MICROATSOCKET_LTEPPP_LAYOUT");
#else
_Static_assert(sizeof(lte_task_cmd_data_t) > 4 + 124 + sizeof(size_t), "lteppp.h has no expect_continuation: set MICROATSOCKET_LTEPPP_LAYOUT");
#endif

/* The longest answer the core asks for (a 1500-byte datagram in hex, with its
 * header and URCs around it) fits two pieces. A modem that keeps talking
 * past four is not answering: stop reading rather than follow it forever
 * (the core sees no final code; the next command's flush drops the rest). */
#define MAX_ANSWER_PIECES (4)

#define DEFAULT_PROMPT_GAP_MS (10)
#define MAX_PROMPT_GAP_MS (1000)
/* The firmware reads a 0 timeout as "wait forever"; the core never means that. */
#define MIN_TIMEOUT_MS (1)

const char masg_transport_name[] = "lteppp";

static uint32_t prompt_gap_ms = DEFAULT_PROMPT_GAP_MS;

/* Answers land here; static so an ordinary exchange needs no heap. Only the
 * engine-lock holder uses it. */
static lte_task_rsp_data_t answer;
/* A long answer (data_remaining) is joined on the GC heap. It is freed when
 * the operation ends; the next exchange of the same operation only lets go of
 * it. Static memory is not a GC root, so after an exception this pointer may
 * name a block the GC has reused: it is never freed from there. */
static char *joined;
static size_t joined_alloc;

void masg_transport_forget(void) {
}

/* ---- the pause for the prompt --------------------------------------------- */

/* The unix port's fake LTE keeps a modelled device clock; its header offers a
 * pause that advances it. On the device, the pause is an ordinary delay. */
#ifdef LTEPPP_FAKE_DELAY_MS
#define prompt_pause(ms) LTEPPP_FAKE_DELAY_MS(ms)
#else
#define prompt_pause(ms) mp_hal_delay_ms(ms)
#endif

/* prompt_gap_ms exists where a payload is streamed behind the prompt. */
bool masg_transport_config_set(qstr key, mp_obj_t value, bool apply) {
    if (!HAS_CONTINUATION || key != MP_QSTR_prompt_gap_ms) {
        return false;
    }
    mp_int_t ms = mp_obj_get_int(value);
    if (ms < 0 || ms > MAX_PROMPT_GAP_MS) {
        mp_raise_ValueError(MP_ERROR_TEXT("prompt_gap_ms must be 0 to 1000"));
    }
    if (apply) {
        prompt_gap_ms = (uint32_t)ms;
    }
    return true;
}

mp_obj_t masg_transport_config_get(qstr key) {
    switch (key) {
        case MP_QSTR_prompt_gap_ms:
            return HAS_CONTINUATION ? MP_OBJ_NEW_SMALL_INT(prompt_gap_ms) : MP_OBJ_NULL;
        case MP_QSTR_lteppp_layout:
            return MP_OBJ_NEW_SMALL_INT(MICROATSOCKET_LTEPPP_LAYOUT);
        default:
            return MP_OBJ_NULL;
    }
}

/* ---- one item -------------------------------------------------------------- */

static void check_task_state(void) {
    /* The exceptions LTE.send_at_cmd raises in the same states. Queuing an
     * item while the task is not running would block forever. */
    switch (lteppp_get_state()) {
        case E_LTE_INIT:
            mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("LTE modem not initialized"));
        case E_LTE_PPP:
            mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("LTE modem is in data state, cannot send AT commands"));
        default:
            break;
    }
}

/* Queues `len` (<= 124) bytes. A continuation returns at once; otherwise the
 * task's answer piece is in `answer` on return. */
static void submit(const uint8_t *data, size_t len, bool continuation, uint32_t timeout_ms) {
    lte_task_cmd_data_t item;
    memset(&item, 0, sizeof(item)); /* NUL after short data: the task's strstr stops there */
    item.timeout = timeout_ms < MIN_TIMEOUT_MS ? MIN_TIMEOUT_MS : timeout_ms;
    memcpy(item.data, data, len);
    #if HAS_DATA_LEN
    item.dataLen = len;
    #endif
    #if HAS_CONTINUATION
    item.expect_continuation = continuation;
    #else
    (void)continuation;
    #endif
    /* The task may take seconds to answer: let other Python threads run. */
    MP_THREAD_GIL_EXIT();
    lteppp_send_at_command(&item, &answer);
    MP_THREAD_GIL_ENTER();
}

static const uint8_t dummy[] = "Pycom_Dummy";

static void submit_dummy(uint32_t timeout_ms) {
    submit(dummy, sizeof(dummy) - 1, false, timeout_ms);
}

#if HAS_CONTINUATION
/* Bytes of `data` the next item takes: up to 124, cut inside "Pycom_Dummy"
 * (the task reads instead of writing an item that holds it). */
static size_t item_len(const uint8_t *data, size_t len) {
    static const char word[] = "Pycom_Dummy";
    const size_t word_len = sizeof(word) - 1;
    size_t n = len < ITEM_DATA_MAX ? len : ITEM_DATA_MAX;
    for (size_t at = 0; at + word_len <= n; at++) {
        if (memcmp(data + at, word, word_len) == 0) {
            return at + word_len / 2;
        }
    }
    return n;
}
#endif

/* Writes `len` bytes as items: all but the last as continuations, then the
 * last 1..124 bytes as a normal item, whose answer is read. Without
 * continuation items the whole text must fit one item. */
static void submit_stream(const uint8_t *data, size_t len, uint32_t timeout_ms) {
    #if HAS_CONTINUATION
    for (size_t n = item_len(data, len); n < len; n = item_len(data, len)) {
        submit(data, n, true, timeout_ms);
        data += n;
        len -= n;
    }
    #endif
    if (len > ITEM_DATA_MAX) {
        /* The limits set for this layout keep the core below this. */
        masg_raise(MAS_EMSGSIZE);
    }
    submit(data, len, false, timeout_ms);
}

/* ---- the answer ------------------------------------------------------------- */

/* The task zeroes its buffer before it reads an answer: the piece ends at its
 * last non-NUL byte, and NULs before it are raw data. */
static size_t piece_len(void) {
    size_t len = PIECE_TEXT_MAX;
    while (len > 0 && answer.data[len - 1] == '\0') {
        len--;
    }
    return len;
}

static void forget_joined(void) {
    joined = NULL;
    joined_alloc = 0;
}

/* The VM `joined` belongs to (vm.c): a joined answer of a previous VM was on
 * its heap, which is gone, so it is dropped, never freed. */
static uint32_t joined_vm;

void masg_transport_done(void) {
    /* Called right after the core read the last reply, whose pointer on the
     * caller's stack kept the block alive until now. */
    masg_vm_sync(&joined_vm, forget_joined);
    if (joined != NULL) {
        m_del(char, joined, joined_alloc);
    }
    forget_joined();
}

/* The answer of the item just submitted, with every further piece fetched. */
static void collect(uint32_t timeout_ms, masg_reply *reply) {
    reply->keep = MP_OBJ_NULL;
    if (!answer.data_remaining) {
        reply->data = (const uint8_t *)answer.data;
        reply->len = piece_len();
        return;
    }
    vstr_t text;
    vstr_init(&text, 2 * PIECE_TEXT_MAX);
    size_t pieces = 1;
    do {
        vstr_add_strn(&text, answer.data, piece_len());
        submit_dummy(timeout_ms);
        pieces++;
    } while (answer.data_remaining && pieces < MAX_ANSWER_PIECES);
    vstr_add_strn(&text, answer.data, piece_len());
    /* Kept until the next exchange; the pointer in `reply` (on the C stack)
     * keeps it from the GC meanwhile. */
    joined_alloc = text.alloc;
    joined = text.buf;
    reply->data = (const uint8_t *)text.buf;
    reply->len = text.len;
}

/* ---- exchanges -------------------------------------------------------------- */

/* AT+SQNSSENDEXT and its payload; see the top of the file. */
static void send_with_payload(const mas_exchange *x) {
    #if HAS_CONTINUATION
    if (x->payload_len > 0 && x->command_len + 1 <= ITEM_DATA_MAX) {
        uint8_t line[ITEM_DATA_MAX];
        memcpy(line, x->command, x->command_len);
        line[x->command_len] = '\r';
        submit(line, x->command_len + 1, true, x->timeout_ms);
        if (prompt_gap_ms > 0) {
            prompt_pause(prompt_gap_ms);
        }
        submit_stream(x->payload, x->payload_len, x->timeout_ms);
        return;
    }
    #endif
    /* One item: command, CR, payload, then the task's terminator. */
    size_t len = x->command_len + 1 + x->payload_len;
    if (len > ITEM_DATA_MAX) {
        masg_raise(MAS_EMSGSIZE);
    }
    uint8_t item[ITEM_DATA_MAX];
    memcpy(item, x->command, x->command_len);
    item[x->command_len] = '\r';
    memcpy(item + x->command_len + 1, x->payload, x->payload_len);
    submit(item, len, false, x->timeout_ms);
}

void masg_transport_perform(mp_obj_t lte, const mas_exchange *x, masg_reply *reply) {
    (void)lte; /* the LTE object only says the modem is set up; the task is global */
    forget_joined();
    reply->data = NULL;
    reply->len = 0;
    reply->keep = MP_OBJ_NULL;
    if (x->kind == MAS_EXCHANGE_SLEEP) {
        mp_hal_delay_ms(x->timeout_ms);
        return;
    }
    check_task_state();
    switch (x->kind) {
        case MAS_EXCHANGE_COMMAND:
            submit_stream(x->command, x->command_len, x->timeout_ms);
            break;
        case MAS_EXCHANGE_PAYLOAD:
            submit_stream(x->payload, x->payload_len, x->timeout_ms);
            break;
        case MAS_EXCHANGE_COMMAND_WITH_PAYLOAD:
            send_with_payload(x);
            break;
        case MAS_EXCHANGE_LISTEN:
            submit_dummy(x->timeout_ms);
            break;
        default:
            mp_raise_OSError(MP_EIO);
    }
    collect(x->timeout_ms, reply);
}
