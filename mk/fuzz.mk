# cargo-fuzz over the core (fuzz/README.md): `make fuzz` runs each target FUZZ_SECONDS seconds;
# `make fuzz-smoke`, part of `make test`, replays the committed seeds and fuzzes a few seconds each.
.PHONY: fuzz fuzz-smoke fuzz-deps
FUZZ_SECONDS ?= 60

fuzz-deps: deps
	bash fuzz/setup.sh

fuzz: fuzz-deps
	bash fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke: fuzz-deps
	bash fuzz/run.sh 5 smoke

TEST_EXTRA += fuzz-smoke
