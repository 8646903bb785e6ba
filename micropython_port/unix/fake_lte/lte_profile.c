#include "lte_profile.h"

#include <stdlib.h>
#include <string.h>

#include "lteppp.h"

static const lte_profile_info_t profiles[LTE_PROFILE_COUNT] = {
    [LTE_PROFILE_1_18] = {
        .name = "1.18",
        .cmd_layout = LTEPPP_CMD_LAYOUT_1_18,
        .terminator = "\r\n",
        .zero_timeout_is_forever = false,
        .has_continuation = false,
        .send_at_cmd_chunks = false,
    },
    [LTE_PROFILE_1_20_2] = {
        .name = "1.20.2",
        .cmd_layout = LTEPPP_CMD_LAYOUT_1_20_2,
        .terminator = "\r",
        .zero_timeout_is_forever = true,
        .has_continuation = true,
        .send_at_cmd_chunks = false,
    },
    [LTE_PROFILE_PR429] = {
        .name = "pr429",
        .cmd_layout = LTEPPP_CMD_LAYOUT_1_20_2,
        .terminator = "\r",
        .zero_timeout_is_forever = true,
        .has_continuation = true,
        .send_at_cmd_chunks = true,
    },
};

static bool resolved;
static lte_profile_t current = LTE_PROFILE_DEFAULT;
static bool env_invalid;

static bool lookup(const char *name, lte_profile_t *out) {
    for (int i = 0; i < LTE_PROFILE_COUNT; i++) {
        if (strcmp(name, profiles[i].name) == 0) {
            *out = (lte_profile_t)i;
            return true;
        }
    }
    return false;
}

/* The environment is read once, on first use, so a test hook can override it. */
static void resolve(void) {
    if (resolved) {
        return;
    }
    resolved = true;
    const char *env = getenv(LTE_PROFILE_ENV);
    if (env != NULL && env[0] != '\0' && !lookup(env, &current)) {
        env_invalid = true;
    }
}

lte_profile_t lte_profile_get(void) {
    resolve();
    return current;
}

const lte_profile_info_t *lte_profile_info_of(lte_profile_t profile) {
    return &profiles[profile];
}

const lte_profile_info_t *lte_profile_info(void) {
    return &profiles[lte_profile_get()];
}

bool lte_profile_set_by_name(const char *name) {
    resolve();
    lte_profile_t p;
    if (!lookup(name, &p)) {
        return false;
    }
    current = p;
    env_invalid = false;
    return true;
}

const char *lte_profile_env_error(void) {
    resolve();
    return env_invalid ? "unknown " LTE_PROFILE_ENV " (expected 1.18, 1.20.2 or pr429)" : NULL;
}
