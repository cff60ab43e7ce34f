#!/usr/bin/env bash
# Builds the end-to-end harness's "floor" reference server (bench/floor/floor-server.c) into bench/floor/build/.
# Needs a C compiler (cc) and the kernel's UAPI headers (Debian: linux-libc-dev, there with gcc). Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p build
rm -f build/floor-server # a failed build must not leave an older binary to be run
cc -O2 -Wall -Wextra -Werror -o build/floor-server floor-server.c
echo "$(pwd)/build/floor-server"
