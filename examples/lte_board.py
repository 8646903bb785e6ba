# What every example needs from the board: an attached LTE modem, settings a test run may
# replace, and one way to stop with what failed and how to fix it. Copy this file to the
# board beside the example.
import sys
import time

from network import LTE

ATTACH_TIMEOUT_S = 120


def attached_lte(timeout_s=ATTACH_TIMEOUT_S):
    """The board's LTE object, attached (not connected: PPP would stop the AT sockets)."""
    lte = LTE()
    if not lte.isattached():
        lte.attach()
        waited = 0
        while not lte.isattached():
            if waited > timeout_s * 1000:
                fail("LTE attach", "not attached after %d s" % timeout_s,
                     "check the SIM, the antenna and the operator's band and APN "
                     "(lte.attach(band=..., apn=...)); lte.send_at_cmd('AT+CEREG?') shows the registration")
            time.sleep_ms(200)
            waited += 200
    return lte


def setting(name, default):
    """`default`, unless the environment names another value (the test harness points the
    examples at its local peers this way; on the board there is no environment)."""
    try:
        import os

        value = os.getenv(name)
    except (ImportError, AttributeError):
        value = None
    if not value:
        return default
    return int(value) if isinstance(default, int) else value


def fail(what, error, fix):
    """Stops the example: what failed, the error (its message names the cause), what to do.
    The exit status is 1, so a script or test running the example sees the failure."""
    print("FAILED: %s: %s" % (what, error))
    print("  what to do: %s" % fix)
    sys.exit(1)
