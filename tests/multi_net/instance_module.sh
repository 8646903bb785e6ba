#!/bin/sh
# A run-multitests.py instance: the MicroPython unix port with microATsocket as `socket`
# (mas_prelude.py), on the fake LTE and the simulator named by MONARCH_SIM_SOCKET.
# run-multitests.py calls it with `-c <script>`.
here=$(cd "$(dirname "$0")" && pwd)
[ "$1" = "-c" ] || { echo "usage: $0 -c <script>" >&2; exit 2; }
exec "$MAS_MULTI_NET_MICROPYTHON" -c "import sys
sys.path.append('$here')
import mas_prelude
mas_prelude.as_board()
$2"
