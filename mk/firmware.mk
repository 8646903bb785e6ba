# `make firmware`: Pycom firmware (GPy, FiPy) with the module compiled in, from your own
# checkout of pycom-micropython-sigfox (micropython_port/pycom/README.md). Needs PYCOM_FW_DIR,
# ESP-IDF (IDF_PATH) with xtensa-esp32-elf-gcc on PATH, and Espressif's Rust toolchain
# (`cargo +esp`); names whatever is missing and stops. Not part of `make test`.
#
#   make firmware PYCOM_FW_DIR=~/pycom-micropython-sigfox [BOARD=GPY] [FW_TRANSPORT=lteppp]
#                 [FW_LAYOUT=1202] [FW_GOALS=flash ESPPORT=/dev/ttyUSB0 ESPBAUD=921600]
#                 [FW_PYTHON=python3]
#   make firmware-check ...      only check the tools, the ESP-IDF clone and its Python
#                                packages, and the checkout; builds nothing
.PHONY: firmware firmware-check
FW_PYTHON ?= python3
FIRMWARE_ENV = PYCOM_FW_DIR="$(PYCOM_FW_DIR)" BOARD="$(BOARD)" FW_TRANSPORT="$(FW_TRANSPORT)" \
  FW_LAYOUT="$(FW_LAYOUT)" FW_GOALS="$(FW_GOALS)" ESPPORT="$(ESPPORT)" ESPBAUD="$(ESPBAUD)" \
  PYTHON="$(FW_PYTHON)"

firmware:
	$(FIRMWARE_ENV) bash micropython_port/pycom/build_firmware.sh

firmware-check:
	$(FIRMWARE_ENV) bash micropython_port/pycom/build_firmware.sh --check
