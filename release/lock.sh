#!/usr/bin/env bash
# Update the hash-locked dependency sets (issue 15). One command, run from anywhere:
#
#   release/lock.sh
#
# uv resolves for a *target* platform from this Linux machine (Windows included), fast, and
# writes a sha256 for every file, so `pip install -r <lock>` on a fresh machine verifies each
# download (pip switches to --require-hashes mode when a file carries hashes).
# test-linux.lock is what CI installs: the runtime set plus the test, dev and release extras.
# Add --upgrade to move every pin to the newest allowed release.
set -euo pipefail
cd "$(dirname "$0")/.."
common=(--python-version 3.11 --generate-hashes --no-header --quiet --index-url https://pypi.org/simple "$@")
uv pip compile pyproject.toml "${common[@]}" --python-platform x86_64-manylinux_2_28 -o requirements/linux.lock
uv pip compile pyproject.toml "${common[@]}" --python-platform x86_64-pc-windows-msvc -o requirements/windows.lock
uv pip compile pyproject.toml "${common[@]}" --extra test --extra dev --extra release --python-platform x86_64-manylinux_2_28 -o requirements/test-linux.lock
echo "requirements/: $(grep -c '^[a-z0-9]' requirements/linux.lock) linux, $(grep -c '^[a-z0-9]' requirements/windows.lock) windows, $(grep -c '^[a-z0-9]' requirements/test-linux.lock) test-linux packages"
