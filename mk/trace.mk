# Traces (microATsocket.trace(), format in c_glue/README.md "Trace format"):
#   make replay TRACE=<file>   replay a trace through the core with no modem; the first divergence
#                              is reported with its line (exit status 1)
#   make sim-diff TRACE=<file> send a trace's commands to the simulator and list, line by line,
#                              where its answers differ from the trace's (a board's trace shows
#                              where the simulator is wrong)
#   make traces                record tests/traces/emulation-*.trace again (one per operation kind)
# `make test` replays every committed trace (cargo test -p trace-replay, in rust-test) and every
# trace the MicroPython runs wrote to build/traces/ (the recordings of test_trace_record.py and
# the self-check's own trace, per build and profile).
TRACE_REPLAY := target/release/trace-replay
TRACE ?=

.PHONY: replay sim-diff traces trace-replay-tool trace-check
trace-replay-tool:
	$(CARGO) build --quiet --release -p trace-replay

replay: trace-replay-tool
	@test -n "$(TRACE)" || { echo "usage: make replay TRACE=<file>" >&2; exit 2; }
	$(TRACE_REPLAY) $(TRACE)

sim-diff: trace-replay-tool sim
	@test -n "$(TRACE)" || { echo "usage: make sim-diff TRACE=<file>" >&2; exit 2; }
	$(TRACE_REPLAY) --sim-diff $(TRACE)

traces: mp-build sim
	TRACE_RECORD_DIR=$(CURDIR)/tests/traces $(MP_TEST) --micropython $(MICROPYTHON) --profiles 1.20.2 test_trace_record
	$(MAKE) --no-print-directory replay TRACE="$(wildcard tests/traces/*.trace)"

trace-check: trace-replay-tool mp-test
	$(TRACE_REPLAY) build/traces/*.trace

TEST_EXTRA += trace-check
