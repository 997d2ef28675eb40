#!/usr/bin/env bash
# Re-resolve the hash-locked dependency sets from pyproject.toml (one command, issue 15.1):
#
#   release/lock.sh            # then review `git diff requirements/` and commit
#
# uv resolves for a *target* platform from any machine (Windows included, from Linux) and
# writes every file's SHA-256; pip then installs exactly these versions and refuses any file
# whose hash differs (hash-checking mode). Python 3.11 on x86_64, as the README requires.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv

compile() {  # <platform> <output> [uv options]
    local platform=$1 out=$2
    shift 2
    uv pip compile --quiet pyproject.toml --python-version 3.11 --python-platform "$platform" \
        --generate-hashes --no-header --annotation-style line --upgrade "$@" -o "$out"
}

compile x86_64-manylinux_2_28 requirements/linux.lock
compile x86_64-pc-windows-msvc requirements/windows.lock
compile x86_64-manylinux_2_28 requirements/test-linux.lock --extra test
echo "locked: $(grep -c '==' requirements/linux.lock) runtime packages (Linux)," \
     "$(grep -c '==' requirements/windows.lock) (Windows)"
