# The fake Pycom network.LTE (modlte + lteppp) for the unix port.
FAKE_LTE_MOD_DIR := $(USERMOD_DIR)

SRC_USERMOD_C += \
	$(FAKE_LTE_MOD_DIR)/modnetwork.c \
	$(FAKE_LTE_MOD_DIR)/modlte.c \
	$(FAKE_LTE_MOD_DIR)/fake_lteppp.c \
	$(FAKE_LTE_MOD_DIR)/lteppp_entry_1_18.c \
	$(FAKE_LTE_MOD_DIR)/lteppp_entry_1_20_1.c \
	$(FAKE_LTE_MOD_DIR)/lteppp_entry_1_20_2.c \
	$(FAKE_LTE_MOD_DIR)/esp32_cmd_image.c \
	$(FAKE_LTE_MOD_DIR)/fake_uart.c \
	$(FAKE_LTE_MOD_DIR)/lte_model.c \
	$(FAKE_LTE_MOD_DIR)/lte_profile.c \
	$(FAKE_LTE_MOD_DIR)/sim_control.c \
	$(FAKE_LTE_MOD_DIR)/interrupt_hook.c \
	$(FAKE_LTE_MOD_DIR)/soft_reset.c

# Every user module may include lteppp.h (the firmware-only transport of
# microATsocket calls lteppp_send_at_command through it).
CFLAGS_USERMOD += -I$(FAKE_LTE_MOD_DIR)

# Pycom's soft reset, emulated after the script when MICROATSOCKET_SOFT_RESET_THEN
# names a second one (soft_reset.c): the unix main's call to mp_thread_deinit,
# reached once the script has ended, goes to the emulation first.
LDFLAGS_USERMOD += -Wl,--wrap=mp_thread_deinit
