#include "esp32_cmd_image.h"

#include <string.h>

#include "lteppp.h"

size_t esp32_cmd_image_size(int layout) {
    switch (layout) {
        case LTEPPP_CMD_LAYOUT_1_18:
            return ESP32_CMD_OFF_DATALEN;
        case LTEPPP_CMD_LAYOUT_1_20_1:
            return ESP32_CMD_OFF_CONT;
        default:
            /* bool after a 4-byte size_t, padded to the struct's 4-byte alignment */
            return ESP32_CMD_IMAGE_MAX;
    }
}

uint32_t esp32_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

void esp32_put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

size_t esp32_cmd_image_fill(esp32_cmd_image_t *img, int layout, uint32_t timeout,
    const void *src, size_t len, bool cont) {
    memset(img->bytes, 0, sizeof(img->bytes));
    img->size = esp32_cmd_image_size(layout);
    esp32_put_le32(img->bytes + ESP32_CMD_OFF_TIMEOUT, timeout);
    if (layout >= LTEPPP_CMD_LAYOUT_1_20_1) {
        esp32_put_le32(img->bytes + ESP32_CMD_OFF_DATALEN, (uint32_t)len);
    }
    if (layout >= LTEPPP_CMD_LAYOUT_1_20_2) {
        img->bytes[ESP32_CMD_OFF_CONT] = cont ? 1 : 0;
    }
    /* The initialiser runs first, then memcpy: an overlong command overwrites
     * dataLen (bytes 125..128) and expect_continuation (byte 129). */
    size_t room = img->size - ESP32_CMD_OFF_DATA;
    size_t kept = len < room ? len : room;
    memcpy(img->bytes + ESP32_CMD_OFF_DATA, src, kept);
    return len - kept;
}
