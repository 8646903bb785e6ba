# The standard variant's build, with the board's Ctrl-C (mpconfigvariant.h).
# build.sh passes FROZEN_MANIFEST= (the Debian source has no micropython-lib).
