#!/usr/bin/env bash
# Distributed testing with torchrun, mmdet-style:
#   tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py options ...]
# Environment: see tools/dist_launch.sh (NNODES, NODE_RANK, PORT, MASTER_ADDR, PYTHON).
set -euo pipefail
TOOLS=$(dirname "$0")
exec bash "$TOOLS/dist_launch.sh" "$3" "$TOOLS/test.py" "$1" "$2" --launcher pytorch "${@:4}"
