/* lteppp_send_at_command for callers built against the 1.20.1 struct layout. */
#define LTEPPP_CMD_LAYOUT LTEPPP_CMD_LAYOUT_1_20_1
#include "lteppp_entry_template.h"
