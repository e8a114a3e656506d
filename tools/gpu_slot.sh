#!/usr/bin/env bash
# One GPU slot end to end (see tools/gpu_run.py): bash tools/gpu_slot.sh OUT [options]
# Run from the repository root. Installs nothing from the network: wheels carried in .whl/
# (e.g. a missing dependency) and this checkout itself, without dependencies.
set -u
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if compgen -G ".whl/*.whl" >/dev/null; then
    "$PYTHON" -m pip install -q --no-index --no-deps --target /tmp/ttt-read-wheels .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/ttt-read-wheels${PYTHONPATH:+:$PYTHONPATH}
fi
if ! "$PYTHON" -c "import ttt_read.kernels" 2>/dev/null; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-build-isolation -e . || exit 1
fi
export PYTHONUNBUFFERED=1
exec "$PYTHON" tools/gpu_run.py slot "$@"
