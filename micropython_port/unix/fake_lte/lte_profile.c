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
        .timeout_arg = LTE_TIMEOUT_ARG_NONE,
        .chunks = LTE_CHUNKS_NONE,
        .dummy_uses_timeout = false,
    },
    [LTE_PROFILE_1_20_1] = {
        .name = "1.20.1",
        .cmd_layout = LTEPPP_CMD_LAYOUT_1_20_1,
        .terminator = "\r",
        .zero_timeout_is_forever = false,
        .has_continuation = false,
        .timeout_arg = LTE_TIMEOUT_ARG_NONE,
        .chunks = LTE_CHUNKS_NONE,
        .dummy_uses_timeout = false,
    },
    [LTE_PROFILE_1_20_2] = {
        .name = "1.20.2",
        .cmd_layout = LTEPPP_CMD_LAYOUT_1_20_2,
        .terminator = "\r",
        .zero_timeout_is_forever = true,
        .has_continuation = true,
        .timeout_arg = LTE_TIMEOUT_ARG_KW,
        .chunks = LTE_CHUNKS_NONE,
        .dummy_uses_timeout = true,
    },
    [LTE_PROFILE_RELEASE_V1_20] = {
        .name = "release-v1.20",
        .cmd_layout = LTEPPP_CMD_LAYOUT_1_20_2,
        .terminator = "\r",
        .zero_timeout_is_forever = true,
        .has_continuation = true,
        .timeout_arg = LTE_TIMEOUT_ARG_KW,
        .chunks = LTE_CHUNKS_WITH_TAIL,
        .dummy_uses_timeout = true,
    },
    [LTE_PROFILE_PR429] = {
        .name = "pr429",
        .cmd_layout = LTEPPP_CMD_LAYOUT_1_20_2,
        .terminator = "\r",
        .zero_timeout_is_forever = false,
        .has_continuation = true,
        .timeout_arg = LTE_TIMEOUT_ARG_DELAY,
        .chunks = LTE_CHUNKS_NO_EMPTY_TAIL,
        .dummy_uses_timeout = false,
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
    return env_invalid ? "unknown " LTE_PROFILE_ENV " (expected " LTE_PROFILE_NAMES ")" : NULL;
}
