#!/usr/bin/env bash
# The whole test suite, in order: notebooks clean, library in sync, notebook tests, pytest.
# Exits non-zero on the first failure. Run from anywhere: `bash tests/check.sh`.
set -uo pipefail
cd "$(dirname "$0")/.."
state() { { git status --porcelain; git diff; } | sha1sum; }
step() { echo; echo "== $*"; }

step "1/4 notebooks clean (nbdev_clean leaves git unchanged)"
before=$(state); nbdev_clean || exit 1
if [ "$before" != "$(state)" ]; then echo "FAIL: nbdev_clean changed notebooks; run nbdev_clean and commit"; git status --short; exit 1; fi
echo ok

step "2/4 library in sync (nbdev_export leaves git unchanged)"
before=$(state); nbdev_export || exit 1
if [ "$before" != "$(state)" ]; then echo "FAIL: msls_nb/ differs from the notebooks; run nbdev_export and commit"; git status --short; exit 1; fi
echo ok

step "3/4 nbdev_test (notebooks; flags slow/cuda/hpu skipped)"
nbdev_test --n_workers 2 --timing || exit 1

step "4/4 pytest tests/"
python -m pytest tests/ -q -p no:cacheprovider "$@"
rc=$?
[ $rc -eq 5 ] && { echo "no pytest tests collected"; rc=0; }
exit $rc
