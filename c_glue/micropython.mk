# microATsocket as a MicroPython user C module (make-based ports: unix, Pycom's esp32).
#
#   make USER_C_MODULES=<dir containing this folder, or a link to it>
#
# The Rust core is linked as a static library. For host builds (the unix port)
# it is built with the `std` feature, which links Rust's std so the
# precompiled `core` finds its unwinding personality:
#   cargo build --release -p microatsocket --features std
# Firmware builds point MICROATSOCKET_LIB at the library built for their
# target without that feature (see micropython_port/pycom).

# MODULE_MICROATSOCKET_ENABLED=0 on the make line leaves the module out entirely: no sources
# compiled, no core linked, nothing registered (the same name, as a -D flag, only drops the
# registration; this make variable drops everything).
ifeq ($(MODULE_MICROATSOCKET_ENABLED),0)
$(info microATsocket: left out (MODULE_MICROATSOCKET_ENABLED=0))
else

MICROATSOCKET_MOD_DIR := $(USERMOD_DIR)
# USERMOD_DIR may be a link to this folder: resolve it to find the repository.
MICROATSOCKET_REPO := $(patsubst %/,%,$(dir $(realpath $(USERMOD_DIR))))
MICROATSOCKET_HOST_LIB := $(MICROATSOCKET_REPO)/target/release/libmicroatsocket.a
MICROATSOCKET_LIB ?= $(MICROATSOCKET_HOST_LIB)

# How exchanges reach the modem:
#   send_at_cmd  (default) through the LTE object's send_at_cmd, as a script can;
#   lteppp       straight to the LTE task with lteppp_send_at_command (firmware
#                builds, and the unix port's fake LTE). Needs lteppp.h on the
#                include path and MICROATSOCKET_LTEPPP_LAYOUT set to the
#                firmware release's command struct: 118 (v1.18.x..v1.20.0.rc12),
#                1201 (v1.20.0.rc13..v1.20.2.r1) or 1202 (v1.20.2.r2 and later).
MICROATSOCKET_TRANSPORT ?= send_at_cmd
MICROATSOCKET_LTEPPP_LAYOUT ?= 1202

ifeq ($(MICROATSOCKET_TRANSPORT),send_at_cmd)
MICROATSOCKET_TRANSPORT_SRC := transport_mpcall.c
else ifeq ($(MICROATSOCKET_TRANSPORT),lteppp)
MICROATSOCKET_TRANSPORT_SRC := transport_lteppp.c
CFLAGS_USERMOD += -DMICROATSOCKET_TRANSPORT_LTEPPP=1 -DMICROATSOCKET_LTEPPP_LAYOUT=$(MICROATSOCKET_LTEPPP_LAYOUT)
else
$(error MICROATSOCKET_TRANSPORT must be send_at_cmd or lteppp, not '$(MICROATSOCKET_TRANSPORT)')
endif

MICROATSOCKET_SRC := \
	$(MICROATSOCKET_MOD_DIR)/modmicroatsocket.c \
	$(MICROATSOCKET_MOD_DIR)/socket_type.c \
	$(MICROATSOCKET_MOD_DIR)/original_api.c \
	$(MICROATSOCKET_MOD_DIR)/original_methods.c \
	$(MICROATSOCKET_MOD_DIR)/socket_stream.c \
	$(MICROATSOCKET_MOD_DIR)/socket_common.c \
	$(MICROATSOCKET_MOD_DIR)/ssl.c \
	$(MICROATSOCKET_MOD_DIR)/ssl_creds.c \
	$(MICROATSOCKET_MOD_DIR)/ssl_store.c \
	$(MICROATSOCKET_MOD_DIR)/getaddrinfo.c \
	$(MICROATSOCKET_MOD_DIR)/addrargs.c \
	$(MICROATSOCKET_MOD_DIR)/config.c \
	$(MICROATSOCKET_MOD_DIR)/modem.c \
	$(MICROATSOCKET_MOD_DIR)/oprun.c \
	$(MICROATSOCKET_MOD_DIR)/lock.c \
	$(MICROATSOCKET_MOD_DIR)/trace.c \
	$(MICROATSOCKET_MOD_DIR)/probe.c \
	$(MICROATSOCKET_MOD_DIR)/vm.c \
	$(MICROATSOCKET_MOD_DIR)/$(MICROATSOCKET_TRANSPORT_SRC) \
	$(MICROATSOCKET_MOD_DIR)/errors.c

# MicroPython before 1.15 (Pycom's 1.11) only knows SRC_USERMOD; later py.mk
# defines SRC_USERMOD_C before including this file.
ifeq ($(origin SRC_USERMOD_C),undefined)
SRC_USERMOD += $(MICROATSOCKET_SRC)
else
SRC_USERMOD_C += $(MICROATSOCKET_SRC)
endif
CFLAGS_USERMOD += -I$(MICROATSOCKET_REPO)/include -I$(MICROATSOCKET_MOD_DIR)
LDFLAGS_USERMOD += $(MICROATSOCKET_LIB)
ifneq ($(MICROATSOCKET_LIB),$(MICROATSOCKET_HOST_LIB))
# Pycom's esp32 link puts LDFLAGS_MOD before the objects that call into the core, so the
# linker would take nothing from it there; LIBS comes after them.
LIBS += $(MICROATSOCKET_LIB)
endif
ifeq ($(MICROATSOCKET_LIB),$(MICROATSOCKET_HOST_LIB))
# The host library links Rust's std, which needs these (cargo's native-static-libs).
LDFLAGS_USERMOD += -lpthread -ldl -lm
endif

# Relink when the core library changes, and build it if it is missing. These
# rules come before the port's own, so keep them from becoming make's default goal.
MICROATSOCKET_SAVED_GOAL := $(.DEFAULT_GOAL)
ifneq ($(PROG),)
$(BUILD)/$(PROG): $(MICROATSOCKET_LIB)
endif
$(MICROATSOCKET_HOST_LIB):
	cd $(MICROATSOCKET_REPO) && cargo build --release -p microatsocket --features std
.DEFAULT_GOAL := $(MICROATSOCKET_SAVED_GOAL)

endif # MODULE_MICROATSOCKET_ENABLED
