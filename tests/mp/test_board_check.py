# examples/board_check.py, unmodified, on every build and profile against the emulation: where the
# simulator is the modem, its answers are the expected ones, so every probe that has what it needs
# must PASS (none may FAIL), and the trace it writes must replay through the core (mk/trace.mk
# replays build/traces/ after the runs).
import os

from mas_testlib import *

TLS = os.getenv("TLS_DIR")
MQTTS_PORT = int(os.getenv("MQTTS_PORT") or 0)


def test_board_check_passes_on_the_emulation():
    check(TLS and MQTTS_PORT, "TLS_DIR/MQTTS_PORT are not set")
    trace_path = "%s/board_check-%s-%s.trace" % (trace_check_dir(), transport(), STARTING_PROFILE)
    network._sim("clock network")
    socket.ssl.store("/tmp/mas_board_check_store_%s_%s.txt" % (transport(), STARTING_PROFILE))
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    examples = here + "/../../examples"
    if examples not in sys.path:
        sys.path.append(examples)
    settings = dict(ECHO_HOST4=echo4()[0], ECHO_PORT=echo4()[1], TLS_HOST="::1", TLS_PORT=MQTTS_PORT,
                    TLS_CA=TLS + "/ca.pem", TLS_WRONG_NAME="localhost", LISTEN_PORT=free_port(1),
                    TRACE_FILE=trace_path)
    if echo6():
        settings.update(ECHO_HOST6=echo6()[0], ECHO_PORT6=echo6()[1])
    for key, value in settings.items():
        os.putenv(key, str(value))
    import board_check

    results = board_check.main()
    verdicts = {fact: verdict for fact, verdict, _ in results}
    failed = [(fact, evidence) for fact, verdict, evidence in results if verdict == "FAIL"]
    check(not failed, "FAIL on the emulation: %r" % failed)
    if echo6():
        check(verdicts.get("UDP over IPv6") == "PASS", "UDP over IPv6: %r" % verdicts.get("UDP over IPv6"))
    for fact in ("UDP over IPv4", "AT+SQNSNVW counts a certificate's size without CRs",
                 "the host name is checked (SNI and certificate name)", "AT+CCLK? after attach",
                 "listen/accept states (AT+SQNSS after AT+SQNSL)",
                 "the modem takes a payload written before its prompt (combined send)",
                 "AT+SQNSPCFG spelling and certValidLevel accepted; TLS with the CA and name"):
        check(verdicts.get(fact) == "PASS", "%s: %r" % (fact, verdicts.get(fact)))
    check(socket._slots_in_use() == 0, "the self-check closed its sockets")
    with open(trace_path) as f:
        text = f.read()
    check("\nX " in text and "# board_check: summary" in text, "the trace file has the exchanges and the summary")
    check("MIIBMTCB2aADAgECAgEBMAoG" not in text, "the certificate's text is not in the trace")


run(globals())
