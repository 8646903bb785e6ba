# What the banner peer (tcp_peers.py, TCP_BANNER_PORT4) sends before it closes.
BANNER = b"hello from the banner peer\nsecond line\nno newline at the end"
