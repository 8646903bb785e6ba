/*
 * Counters and the modelled device clock of the fake LTE, and the scaled real
 * waits that stand in for the firmware's sleeps.
 *
 * The modelled clock is what a GPy would spend, not what this host spends. It
 * advances on every exchange by:
 *   - UART wire time, each byte each way, at LTE_MODEL_BAUD with 10 bits/byte;
 *   - the LTE task picking the item off its queue (it polls every 2 ms);
 *   - the 2 ms sleep after TX;
 *   - the wait for the first answer byte (1 ms polls): LTE_MODEL_MODEM_LATENCY_US
 *     after the command when an answer came (or the real wait, if longer: a
 *     simulator told to delay), the full timeout when none came, and for
 *     "Pycom_Dummy" waits the real elapsed time (URCs come from real peers);
 *   - LTE_MODEL_READ_GAP_US after each driver read that ended short: the
 *     driver returns only after that long without a new byte;
 *   - every 100 ms idle poll that ran.
 * Real waits are the modelled ones times MICROATSOCKET_LTE_TIME_SCALE (default
 * 1.0); the modelled clock is never scaled.
 */
#ifndef MICROATSOCKET_FAKE_LTE_MODEL_H
#define MICROATSOCKET_FAKE_LTE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LTE_MODEL_BAUD               (921600)   /* MICROPY_LTE_UART_BAUDRATE on GPy/FiPy */
#define LTE_MODEL_BITS_PER_BYTE      (10)       /* start + 8 data + stop */
#define LTE_MODEL_TASK_PERIOD_US     (2000)     /* TASK_LTE: vTaskDelay(2) between queue polls */
#define LTE_MODEL_TX_SETTLE_US       (2000)     /* vTaskDelay(2) after uart_wait_tx_done */
#define LTE_MODEL_FIRST_BYTE_POLL_US (1000)     /* lteppp_wait_at_rsp polls every tick (1 ms) */
#define LTE_MODEL_READ_GAP_US        (26000)    /* LTE_TRX_WAIT_MS(2048) at 921600 baud */
#define LTE_MODEL_IDLE_POLL_US       (100000)   /* 10 of these when no final code is seen */
/* Modem turnaround from the command's CR to the first answer byte. The
 * captures show the SQNSSENDEXT prompt 6 ms after the command. */
#define LTE_MODEL_MODEM_LATENCY_US   (6000)

#define LTE_TIME_SCALE_ENV "MICROATSOCKET_LTE_TIME_SCALE"

typedef struct {
    uint64_t calls;          /* LTE.send_at_cmd calls */
    uint64_t exchanges;      /* items the LTE task answered (commands + dummies) */
    uint64_t commands;       /* normal commands written to the UART */
    uint64_t dummies;        /* Pycom_Dummy reads */
    uint64_t continuations;  /* continuation chunks written */
    uint64_t bytes_out;      /* bytes written to the UART */
    uint64_t bytes_in;       /* bytes the LTE task read from the UART */
    uint64_t flushed_bytes;  /* bytes discarded by RX flushes (lost URCs) */
    uint64_t idle_polls;     /* 100 ms idle polls that ran */
    uint64_t hangs;          /* exchanges where the firmware would block forever */
    /* Command lines followed by more bytes before the modem could have
     * answered them: a payload sent before the SQNSSENDEXT prompt. */
    uint64_t prompt_races;
    /* The timeout field of the last item queued: what the caller asked for. */
    uint64_t last_timeout_ms;
    uint64_t modelled_ns;    /* the modelled device clock */
} lte_stats_t;

extern lte_stats_t lte_stats;

void lte_model_reset(void);
/* How often lte_model_reset ran: times taken before a reset are not comparable. */
uint64_t lte_model_resets(void);
void lte_model_advance_us(uint64_t us);
void lte_model_advance_ns(uint64_t ns);
uint64_t lte_model_now_ns(void);
uint64_t lte_model_wire_ns(size_t bytes);

/* Bytes handed to the UART driver now: they are on the wire until the
 * returned time; a later TX-done wait ends no earlier. */
uint64_t lte_model_tx_queue(size_t bytes); /* returns when the first byte goes out */
/* uart_wait_tx_done: the clock moves to when the TX backlog is out. */
void lte_model_tx_wait_done(void);

double lte_time_scale(void);
/* Monotonic host time in microseconds. */
int64_t lte_real_now_us(void);
/* Sleeps `real_us` of host time (not scaled). */
void lte_real_sleep_us(int64_t real_us);
/* Sleeps the real equivalent of `model_us` (scaled). */
void lte_real_sleep_model_us(uint64_t model_us);
/* Real microseconds for `model_us` (scaled). */
int64_t lte_real_us_for_model_us(uint64_t model_us);

#endif
