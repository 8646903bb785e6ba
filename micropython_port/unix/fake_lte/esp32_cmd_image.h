/*
 * The bytes of the firmware's lte_task_cmd_data_t as they sit in ESP32 memory
 * (32-bit, little-endian, 4-byte size_t), independent of the host's layout.
 *
 * Why bytes and not the host struct: stock send_at_cmd copies the caller's
 * command into this struct without a bounds check. What a too-long command
 * does depends on which field its bytes 125.. land in on the ESP32, so the
 * fake reproduces that memory, not the host's.
 */
#ifndef MICROATSOCKET_FAKE_ESP32_CMD_IMAGE_H
#define MICROATSOCKET_FAKE_ESP32_CMD_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESP32_CMD_OFF_TIMEOUT  (0)
#define ESP32_CMD_OFF_DATA     (4)
#define ESP32_CMD_OFF_DATALEN  (128)
#define ESP32_CMD_OFF_CONT     (132)
#define ESP32_CMD_IMAGE_MAX    (136)

typedef struct {
    uint8_t bytes[ESP32_CMD_IMAGE_MAX];
    size_t size; /* sizeof(lte_task_cmd_data_t) on the ESP32 for the layout */
} esp32_cmd_image_t;

/* sizeof(lte_task_cmd_data_t) on the ESP32: 128, 132 or 136 (padded). */
size_t esp32_cmd_image_size(int layout);

/*
 * What `lte_task_cmd_data_t cmd = { .timeout = timeout, .dataLen = len,
 * .expect_continuation = cont }; memcpy(cmd.data, src, len);` leaves in
 * memory on the ESP32 (fields the layout lacks are not written). Bytes that
 * run past the end of the struct would smash the caller's stack; they are not
 * kept. Returns how many bytes ran past.
 */
size_t esp32_cmd_image_fill(esp32_cmd_image_t *img, int layout, uint32_t timeout,
    const void *src, size_t len, bool cont);

uint32_t esp32_le32(const uint8_t *p);
void esp32_put_le32(uint8_t *p, uint32_t v);

#endif
