#!/usr/bin/env bash
# Checks that the committed generated protocol code is what scripts/gen-protocol.sh makes from protocol/sol.fbs.
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! scripts/gen-protocol.sh "$tmp/cs" "$tmp/ts" 2>/dev/null; then
    echo "protocol: flatc could not regenerate the code"
    echo "0 passed, 1 failed"
    exit 0
fi
passed=0
failed=0
if diff -r "$tmp/cs" src/Sol.Core/Protocol/Generated >"$tmp/diff"; then
    echo "protocol: generated C# matches protocol/sol.fbs"
    passed=$((passed + 1))
else
    echo "protocol: src/Sol.Core/Protocol/Generated is stale; run scripts/gen-protocol.sh" >&2
    head -40 "$tmp/diff" >&2
    failed=$((failed + 1))
fi
if [ -d client ]; then
    if diff -r "$tmp/ts" client/src/protocol >"$tmp/diff-ts"; then
        echo "protocol: generated TypeScript matches protocol/sol.fbs"
        passed=$((passed + 1))
    else
        echo "protocol: client/src/protocol is stale; run scripts/gen-protocol.sh" >&2
        head -40 "$tmp/diff-ts" >&2
        failed=$((failed + 1))
    fi
fi
echo "$passed passed, $failed failed"
