#!/bin/sh
# A run-multitests.py instance: the same MicroPython unix port with its own `socket` (the
# host's network stack), the peer of the board in every test.
here=$(cd "$(dirname "$0")" && pwd)
[ "$1" = "-c" ] || { echo "usage: $0 -c <script>" >&2; exit 2; }
exec "$MAS_MULTI_NET_MICROPYTHON" -c "import sys
sys.path.append('$here')
import mas_prelude
mas_prelude.as_peer()
$2"
