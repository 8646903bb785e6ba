/*
 * lteppp_send_at_command for one command-struct layout. Each
 * lteppp_entry_<layout>.c sets LTEPPP_CMD_LAYOUT and includes this, so the
 * function takes exactly the struct its caller compiled against.
 */
#include <string.h>

#include "esp32_cmd_image.h"
#include "interrupt_hook.h"
#include "lteppp.h"
#include "lteppp_task.h"

void lteppp_send_at_command(lte_task_cmd_data_t *cmd, lte_task_rsp_data_t *rsp) {
    /* Lay the caller's fields out as the firmware's struct is in ESP32 memory. */
    esp32_cmd_image_t item;
    memset(&item, 0, sizeof(item));
    item.size = esp32_cmd_image_size(LTEPPP_CMD_LAYOUT);
    esp32_put_le32(item.bytes + ESP32_CMD_OFF_TIMEOUT, cmd->timeout);
    memcpy(item.bytes + ESP32_CMD_OFF_DATA, cmd->data, sizeof(cmd->data));
    bool expect_continuation = false;
#if LTEPPP_CMD_LAYOUT >= LTEPPP_CMD_LAYOUT_1_20_1
    esp32_put_le32(item.bytes + ESP32_CMD_OFF_DATALEN, (uint32_t)cmd->dataLen);
#endif
#if LTEPPP_CMD_LAYOUT >= LTEPPP_CMD_LAYOUT_1_20_2
    expect_continuation = cmd->expect_continuation;
    item.bytes[ESP32_CMD_OFF_CONT] = expect_continuation ? 1 : 0;
#endif
    (void)lteppp_task_submit(&item, lteppp_task_caller_waits(expect_continuation), rsp);
    fake_lose_raise_if_fired(true);
}
