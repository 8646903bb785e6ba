/* network.LTE, the fake of Pycom's modlte. */
#ifndef MICROATSOCKET_FAKE_MODLTE_H
#define MICROATSOCKET_FAKE_MODLTE_H

#include "py/obj.h"

extern const mp_obj_type_t network_lte_type;

/* Switching firmware is a reflash: the LTE task and its buffers start clean. */
void network_lte_reset_for_profile_change(void);

#endif
