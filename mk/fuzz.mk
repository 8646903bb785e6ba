# cargo-fuzz over the core (fuzz/README.md), on the stable toolchain. `make fuzz` runs each target
# FUZZ_SECONDS seconds and prints executions and time per target; `make fuzz-smoke`, part of
# `make test`, replays the committed seeds and fuzzes FUZZ_SMOKE_SECONDS seconds per target.
.PHONY: fuzz fuzz-smoke fuzz-deps
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5

fuzz-deps: deps
	bash fuzz/setup.sh

fuzz: fuzz-deps
	bash fuzz/run.sh $(FUZZ_SECONDS) full

fuzz-smoke: fuzz-deps
	bash fuzz/run.sh $(FUZZ_SMOKE_SECONDS) smoke

TEST_EXTRA += fuzz-smoke
