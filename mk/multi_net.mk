# MicroPython's own tests/multi_net TCP and UDP tests (from the source the build downloads),
# the board (microATsocket on the simulator) against the unix port's own sockets, in both roles
# where the test's subject is one the modem supports (tests/multi_net/README.md).
.PHONY: multi-net

multi-net: mp-build sim
	python3 tests/multi_net/run_multi_net.py --sim $(SIM) --micropython $(MICROPYTHON_LTEPPP)

TEST_EXTRA += multi-net
