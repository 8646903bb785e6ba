# microATsocket: `make demo` and `make test` set up and run everything on a fresh Debian machine.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo
CROSS_TARGETS := thumbv7em-none-eabi riscv32imc-unknown-none-elf
MICROPYTHON := build/micropython
# The module with the direct transport (c_glue/transport_lteppp.c) on the fake LTE task,
# for the 1.20.2.r2+ command struct and for 1.18's.
MICROPYTHON_LTEPPP := build/micropython-lteppp
MICROPYTHON_LTEPPP_118 := build/micropython-lteppp-118
SIM := target/release/monarch-sim
STATICLIB := target/release/libmicroatsocket.a

.PHONY: all deps test demo bench bench-smoke header header-check cross rust-test mp-build mp-test staticlib sim clean help

help:
	@echo "make demo   - build and run the four examples (UDP echo over IPv6, asyncio, CoAP, NTP) on the simulator against local peers"
	@echo "make test   - every test: Rust, C ABI, header, no_std cross-builds, MicroPython suite"
	@echo "make bench  - the benchmark report under bench/results/"

deps:
	bash tests/setup-deps.sh

# --- Rust core, simulator, C ABI ---------------------------------------------------------
rust-test: deps
	$(CARGO) test --workspace --features microatsocket/std

header:
	cbindgen --quiet --config cbindgen.toml --output include/microatsocket.h .

# The committed header must be exactly what cbindgen makes of src/ffi/.
header-check: deps
	tmp=$$(mktemp); cbindgen --quiet --config cbindgen.toml --output "$$tmp" . ; \
	if ! diff -u include/microatsocket.h "$$tmp"; then rm -f "$$tmp"; \
	  echo "include/microatsocket.h is stale: run 'make header' and commit it" >&2; exit 1; fi; rm -f "$$tmp"

# Proves the core is no_std and allocation-free: bare-metal targets have no std and no allocator.
cross: deps
	for target in $(CROSS_TARGETS); do \
	  $(CARGO) build --quiet -p microatsocket --release --target $$target; \
	  $(CARGO) clippy --quiet -p microatsocket --release --target $$target -- -D warnings; \
	done

# --- MicroPython unix port with the module and the fake Pycom LTE -----------------------------
staticlib:
	$(CARGO) build --quiet --release -p microatsocket --features std

sim:
	$(CARGO) build --quiet --release -p monarch-sim

mp-build: deps staticlib
	bash micropython_port/unix/build.sh
	MICROATSOCKET_TRANSPORT=lteppp MP_OUTPUT=$(MICROPYTHON_LTEPPP) bash micropython_port/unix/build.sh
	MICROATSOCKET_TRANSPORT=lteppp MICROATSOCKET_LTEPPP_LAYOUT=118 MP_OUTPUT=$(MICROPYTHON_LTEPPP_118) \
	  bash micropython_port/unix/build.sh

# Every MicroPython test over both transports: send_at_cmd on stock 1.20.2, the branch
# Release/v1.20, PR 429's head and 1.20.1; lteppp on 1.20.2 and PR 429's head (the LTE task of
# Release/v1.20 is 1.20.2's, and the direct transport never calls send_at_cmd, where the two
# differ: a third run would repeat the first); lteppp built for 1.18's struct on 1.18
# (micropython_port/unix/README.md: the profiles).
MP_TEST := python3 tests/mp/run_mp_tests.py --no-build --sim $(SIM)
MP_BIN_send_at_cmd := $(MICROPYTHON)
MP_BIN_lteppp := $(MICROPYTHON_LTEPPP)
MP_BIN_lteppp118 := $(MICROPYTHON_LTEPPP_118)
MP_RUNS := send_at_cmd+1.20.2 send_at_cmd+release-v1.20 send_at_cmd+pr429 send_at_cmd+1.20.1 \
	lteppp+1.20.2 lteppp+pr429 lteppp118+1.18
MP_RUN_TARGETS := $(addprefix mp-run-,$(MP_RUNS))
# The runs are independent (each has its own simulator, peers and ports) and spend most of their
# time waiting on the modelled modem, so they run side by side; each run's output stays together.
MP_TEST_JOBS ?= 4
.PHONY: $(MP_RUN_TARGETS)

mp-test: mp-build sim
	$(MAKE) --no-print-directory -j$(MP_TEST_JOBS) --output-sync=target $(MP_RUN_TARGETS)

# mp-run-<build>+<profile>: the whole suite on one build and firmware profile.
$(MP_RUN_TARGETS): mp-run-%:
	$(MP_TEST) --micropython $(MP_BIN_$(word 1,$(subst +, ,$*))) --profiles $(word 2,$(subst +, ,$*))

# Each reliability/firmware area keeps its targets in its own fragment under mk/;
# a fragment adds the checks `make test` must run to TEST_EXTRA.
TEST_EXTRA :=
include $(sort $(wildcard mk/*.mk))

test: rust-test header-check cross bench-smoke mp-test $(TEST_EXTRA)

# The benchmark report (bench/results/latest.md, .json) and the README's figures from it
# (mk/bench_figures.mk); a few minutes, not part of CI.
bench: mp-build sim
	python3 bench/run_bench.py --sim $(SIM) --micropython $(MICROPYTHON)
	python3 bench/readme_figures.py --write

# A tiny benchmark run in `make test`, so the runner cannot rot.
bench-smoke: mp-build sim
	python3 bench/run_bench.py --smoke --sim $(SIM) --micropython $(MICROPYTHON)

demo: mp-build sim
	python3 examples/run_demo.py --sim $(SIM) --micropython $(MICROPYTHON)

clean:
	$(CARGO) clean
	rm -rf build
