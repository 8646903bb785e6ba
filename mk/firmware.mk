# `make firmware`: Pycom firmware with the module built in (micropython_port/pycom/README.md).
# Needs the user's Pycom checkout (PYCOM_FW_DIR), ESP-IDF (IDF_PATH) with xtensa-esp32-elf-gcc on
# PATH, and Espressif's Rust toolchain (`cargo +esp`). Says what is missing and stops otherwise.
.PHONY: firmware
BOARD ?= GPY
FW_TRANSPORT ?= lteppp
FW_LAYOUT ?= 1202
FW_RUST_TARGET := xtensa-esp32-none-elf
FW_CORE_LIB := target/$(FW_RUST_TARGET)/release/libmicroatsocket.a
FW_USERMODS := build/pycom-usermods

firmware:
	@missing=""; \
	if [ -z "$${PYCOM_FW_DIR:-}" ] || [ ! -f "$${PYCOM_FW_DIR:-/nonexistent}/esp32/Makefile" ]; then \
	  missing="$$missing\n  - PYCOM_FW_DIR: your pycom-micropython-sigfox checkout (git clone --recursive, then check out a release tag)"; fi; \
	if [ -z "$${IDF_PATH:-}" ] || [ ! -d "$${IDF_PATH:-/nonexistent}" ]; then \
	  missing="$$missing\n  - IDF_PATH: ESP-IDF at the commit the release names (esp32/README.md of the checkout)"; fi; \
	if ! command -v xtensa-esp32-elf-gcc >/dev/null 2>&1; then \
	  missing="$$missing\n  - xtensa-esp32-elf-gcc on PATH: the GCC that goes with that ESP-IDF"; fi; \
	if ! cargo +esp --version >/dev/null 2>&1; then \
	  missing="$$missing\n  - Rust toolchain 'esp' for $(FW_RUST_TARGET): cargo install espup && espup install && . ~/export-esp.sh"; fi; \
	if [ -n "$$missing" ]; then \
	  printf "make firmware: missing:$$missing\nSee micropython_port/pycom/README.md.\n" >&2; exit 1; fi
	cargo +esp build --release -p microatsocket --target $(FW_RUST_TARGET) -Zbuild-std=core
	mkdir -p $(FW_USERMODS) && ln -sfn $(CURDIR)/c_glue $(FW_USERMODS)/microatsocket
	$(MAKE) -C "$$PYCOM_FW_DIR/esp32" BOARD=$(BOARD) USER_C_MODULES=$(CURDIR)/$(FW_USERMODS) \
	  MICROATSOCKET_LIB=$(CURDIR)/$(FW_CORE_LIB) \
	  MICROATSOCKET_TRANSPORT=$(FW_TRANSPORT) MICROATSOCKET_LTEPPP_LAYOUT=$(FW_LAYOUT)
	@echo "make firmware: image built under $$PYCOM_FW_DIR/esp32/build/$(BOARD); flash it as the guide says"
