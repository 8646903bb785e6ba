# AddressSanitizer + UndefinedBehaviorSanitizer over the C code (MicroPython, the module's C shim,
# the fake LTE): both transports are built instrumented and run the whole MicroPython suite, each
# on one profile (send_at_cmd on pr429, whose chunked commands and positional timeout take the
# most C paths; lteppp on 1.20.2) to keep `make test` short; the plain builds run every profile.
# Leak detection is off: Python objects live in MicroPython's own GC heap, out of LeakSanitizer's
# sight; heap and slot leaks are checked by the tests themselves (test_socket_leaks).
.PHONY: sanitize

SANITIZE_CFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SANITIZE_LDFLAGS := -fsanitize=address,undefined
SANITIZE_ENV := ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
MICROPYTHON_ASAN := build/micropython-asan
MICROPYTHON_ASAN_LTEPPP := build/micropython-asan-lteppp

sanitize: deps staticlib sim
	MP_BUILD_DIR=build-asan MP_OUTPUT=$(MICROPYTHON_ASAN) MP_CFLAGS_EXTRA="$(SANITIZE_CFLAGS)" \
	  MP_LDFLAGS_EXTRA="$(SANITIZE_LDFLAGS)" bash micropython_port/unix/build.sh
	MICROATSOCKET_TRANSPORT=lteppp MP_BUILD_DIR=build-asan-lteppp MP_OUTPUT=$(MICROPYTHON_ASAN_LTEPPP) \
	  MP_CFLAGS_EXTRA="$(SANITIZE_CFLAGS)" MP_LDFLAGS_EXTRA="$(SANITIZE_LDFLAGS)" bash micropython_port/unix/build.sh
	$(MAKE) --no-print-directory -j2 --output-sync=target sanitize-run-send_at_cmd sanitize-run-lteppp

# The two instrumented runs side by side, as mp-test's runs.
.PHONY: sanitize-run-send_at_cmd sanitize-run-lteppp
sanitize-run-send_at_cmd:
	$(SANITIZE_ENV) $(MP_TEST) --micropython $(MICROPYTHON_ASAN) --profiles pr429
sanitize-run-lteppp:
	$(SANITIZE_ENV) $(MP_TEST) --micropython $(MICROPYTHON_ASAN_LTEPPP) --profiles 1.20.2

TEST_EXTRA += sanitize
