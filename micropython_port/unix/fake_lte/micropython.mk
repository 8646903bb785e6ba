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
	$(FAKE_LTE_MOD_DIR)/interrupt_hook.c

# Every user module may include lteppp.h (the firmware-only transport of
# microATsocket calls lteppp_send_at_command through it).
CFLAGS_USERMOD += -I$(FAKE_LTE_MOD_DIR)
