# What every example needs from the board: an attached LTE modem, and settings a test run may
# replace. Copy this file to the board beside the example.
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
                raise OSError("LTE did not attach")
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
