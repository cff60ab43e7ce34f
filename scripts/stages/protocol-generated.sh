#!/usr/bin/env bash
# Checks that the committed generated protocol code is what scripts/gen-protocol.sh makes from protocol/sol.fbs.
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! scripts/gen-protocol.sh "$tmp/cs" 2>/dev/null; then
    echo "protocol: flatc could not regenerate the code"
    echo "0 passed, 1 failed"
    exit 0
fi
if diff -r "$tmp/cs" src/Sol.Core/Protocol/Generated >"$tmp/diff"; then
    echo "protocol: generated C# matches protocol/sol.fbs"
    echo "1 passed, 0 failed"
else
    echo "protocol: src/Sol.Core/Protocol/Generated is stale; run scripts/gen-protocol.sh" >&2
    head -40 "$tmp/diff" >&2
    echo "0 passed, 1 failed"
fi
