#!/usr/bin/env bash
# Distributed training with torchrun, mmdet-style:
#   tools/dist_train.sh CONFIG NPROC [train.py options ...]
# Environment: see tools/dist_launch.sh (NNODES, NODE_RANK, PORT, MASTER_ADDR, PYTHON).
set -euo pipefail
TOOLS=$(dirname "$0")
exec bash "$TOOLS/dist_launch.sh" "$2" "$TOOLS/train.py" "$1" --launcher pytorch "${@:3}"
