/* lteppp_send_at_command for callers built against the 1.20.2 struct layout. */
#define LTEPPP_CMD_LAYOUT LTEPPP_CMD_LAYOUT_1_20_2
#include "lteppp_entry_template.h"
