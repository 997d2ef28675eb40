#!/bin/sh
# Offline install of tenken from this bundle (Linux x86_64, Python 3.11). No network is used.
#
#   sh install.sh [VENV]        VENV defaults to $HOME/.local/share/tenken/venv
#
# 1. every file is checked against SHA256SUMS; 2. a virtual environment is made;
# 3. the locked wheels are installed with --no-index --require-hashes; 4. tenken's wheel.
set -eu
cd "$(dirname "$0")"
PY=${PYTHON:-python3.11}
VENV=${1:-${HOME}/.local/share/tenken/venv}
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

if ! sha256sum -c --quiet --strict SHA256SUMS; then
    echo "SHA256SUMS と一致しないファイルがあります。束を作り直して運び直してください [BUNDLE_CORRUPT]" >&2
    exit 1
fi
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --no-index --find-links wheels --require-hashes -r requirements.lock
"$VENV/bin/python" -m pip install --quiet --no-index --no-deps wheels/tenken-*.whl
"$VENV/bin/python" -m pip check
echo "tenken をインストールしました: $VENV/bin/tenken [INSTALLED]"
