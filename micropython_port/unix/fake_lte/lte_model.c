/* POSIX clocks, sleeps and sockets under a strict -std=c99 too. */
#define _POSIX_C_SOURCE 200809L

#include "lte_model.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

lte_stats_t lte_stats;

/* The modelled time at which the UART transmitter is idle again. Continuation
 * chunks are queued without waiting, so their wire time overlaps the task's
 * queue polls; the final TX-done wait catches up with it. */
static uint64_t tx_idle_at_ns;

static uint64_t resets;

uint64_t lte_model_resets(void) {
    return resets;
}

void lte_model_reset(void) {
    resets++;
    lte_stats = (lte_stats_t){0};
    tx_idle_at_ns = 0;
}

void lte_model_advance_ns(uint64_t ns) {
    lte_stats.modelled_ns += ns;
}

void lte_model_advance_us(uint64_t us) {
    lte_stats.modelled_ns += us * 1000u;
}

uint64_t lte_model_now_ns(void) {
    return lte_stats.modelled_ns;
}

uint64_t lte_model_wire_ns(size_t bytes) {
    return ((uint64_t)bytes * LTE_MODEL_BITS_PER_BYTE * 1000000000u) / LTE_MODEL_BAUD;
}

uint64_t lte_model_tx_queue(size_t bytes) {
    uint64_t start = tx_idle_at_ns > lte_stats.modelled_ns ? tx_idle_at_ns : lte_stats.modelled_ns;
    tx_idle_at_ns = start + lte_model_wire_ns(bytes);
    return start;
}

void lte_model_tx_wait_done(void) {
    if (tx_idle_at_ns > lte_stats.modelled_ns) {
        lte_stats.modelled_ns = tx_idle_at_ns;
    }
}

double lte_time_scale(void) {
    static double scale = -1.0;
    if (scale < 0.0) {
        scale = 1.0;
        const char *env = getenv(LTE_TIME_SCALE_ENV);
        if (env != NULL && env[0] != '\0') {
            char *end;
            double v = strtod(env, &end);
            if (end != env && v >= 0.0) {
                scale = v;
            }
        }
    }
    return scale;
}

int64_t lte_real_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t lte_real_us_for_model_us(uint64_t model_us) {
    return (int64_t)((double)model_us * lte_time_scale());
}

void lte_real_sleep_model_us(uint64_t model_us) {
    lte_real_sleep_us(lte_real_us_for_model_us(model_us));
}

void lte_real_sleep_us(int64_t us) {
    if (us <= 0) {
        return;
    }
    struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };
    /* Signals (the REPL's Ctrl-C handler) must not cut a modelled sleep short. */
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}
