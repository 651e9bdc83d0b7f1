#!/bin/sh
# Provisions TLS files on a CI runner, idempotently: a set that is already good is left
# alone, byte for byte; a missing or failing one is made or re-issued from the same CA.
#
#   CERTGEN=target/release/certgen examples/ci.sh [DIR] [PROFILE]
#
# Exits non-zero if the set is still not good afterwards, for example when the CA itself
# is broken: certgen never replaces a CA on its own.
set -eu

certgen=${CERTGEN:-certgen}
dir=${1:-cert}
profile=${2:-}

# Good for at least another week: nothing to do.
if "$certgen" verify "$dir" --quiet --expires-within 7d >/dev/null 2>&1; then
    echo "ci.sh: the TLS files in $dir are good"
    exit 0
fi

# `all` reuses a CA that is there and makes one that is not; --force re-issues the
# server and client certificates but never the CA.
if [ -n "$profile" ]; then
    "$certgen" all --quiet --force --profile "$profile" --out "$dir"
else
    "$certgen" all --quiet --force --out "$dir"
fi
"$certgen" verify "$dir" --quiet
echo "ci.sh: issued TLS files in $dir"
