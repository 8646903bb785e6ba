/* lteppp_send_at_command for callers built against the 1.18 struct layout. */
#define LTEPPP_CMD_LAYOUT LTEPPP_CMD_LAYOUT_1_18
#include "lteppp_entry_template.h"
