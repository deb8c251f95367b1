#!/usr/bin/env bash
# Create or complete the project's virtual environment (idempotent).
#
# Usage: tools/install_env.sh [VENV_DIR]
#   VARIANT=cpu|cuda   cpu (default): torch 2.13.0+cpu, no torchvision (every torchvision wheel on
#                      PyPI is a CUDA build and breaks `import torchvision` beside CPU torch);
#                      cuda: torch 2.13.0 + torchvision 0.28.0 from PyPI.
#   TORCH_INDEX=URL    an extra index that holds the torch wheel (for example the PyTorch CPU index)
#                      where no local wheel folder provides torch==2.13.0+cpu.
#   PYTHON=python3     the interpreter the venv is made from.
#   MMLOWLIGHT_WHEELHOUSE  where built mmcv wheels are kept, one folder per torch build
#                      (default ~/.cache/mmlowlight/wheels). pip's own cache is keyed on the sdist
#                      only and would reuse a wheel built against another torch or other flags.
#
# Why staged: mmcv 2.1.0 ships only an sdist. Built with build isolation, or in the same pip command
# as torch, it silently produces a wheel WITHOUT compiled ops; so torch goes first, then mmcv with
# --no-build-isolation. CFLAGS is given in full because it replaces Python's flags (-g0 alone drops -O3).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${1:-$ROOT/.venv}
VARIANT=${VARIANT:-cpu}
PYTHON=${PYTHON:-python3}
WHEELHOUSE=${MMLOWLIGHT_WHEELHOUSE:-$HOME/.cache/mmlowlight/wheels}

case "$VARIANT" in
  cpu)  CONSTRAINTS=$ROOT/requirements/constraints.txt; TORCH_SPEC='torch==2.13.0+cpu' ;;
  cuda) CONSTRAINTS=$ROOT/requirements/constraints-cuda.txt; TORCH_SPEC='torch==2.13.0 torchvision==0.28.0' ;;
  *) echo "install_env.sh: unknown VARIANT '$VARIANT' (expected cpu or cuda)" >&2; exit 2 ;;
esac

# The stamp records what the environment was built from; a matching stamp plus a working
# import check means there is nothing to do (a second `make test` spends seconds here).
STAMP=$VENV/.mmlowlight-install
want=$(cat "$0" "$CONSTRAINTS" "$ROOT/setup.py" | sha256sum | cut -d' ' -f1)-$VARIANT
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && \
   "$VENV/bin/python" -c "import mmcv._ext, mmengine, mmlowlight" 2>/dev/null; then
  echo "install_env.sh: $VENV is complete ($VARIANT)"
  exit 0
fi

t0=$(date +%s)
step() { echo "==> [$(( $(date +%s) - t0 ))s] $*"; }
export PIP_CONSTRAINT=$CONSTRAINTS
TORCH_ARGS=()
[ -n "${TORCH_INDEX:-}" ] && TORCH_ARGS=(--extra-index-url "$TORCH_INDEX")

step "virtual environment $VENV"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip)
"${PIP[@]}" install -q -U pip wheel 'setuptools>=77.0.3,<82' ninja

step "torch ($TORCH_SPEC)"
# shellcheck disable=SC2086
"${PIP[@]}" install -q "${TORCH_ARGS[@]}" $TORCH_SPEC
"$VENV/bin/python" - "$VARIANT" <<'PY'
import sys, torch
variant = sys.argv[1]
if variant == 'cpu' and not torch.__version__.endswith('+cpu'):
    sys.exit(f'expected the CPU build of torch, got {torch.__version__}; '
             'set TORCH_INDEX to an index that holds torch==2.13.0+cpu')
print('torch', torch.__version__)
PY
if [ "$VARIANT" = cpu ] && "$VENV/bin/python" -m pip show -q torchvision 2>/dev/null; then
  step "removing torchvision (a CUDA build; it breaks mmengine's Runner beside CPU torch)"
  "${PIP[@]}" uninstall -q -y torchvision
fi

step "mmengine"
"${PIP[@]}" install -q mmengine==0.10.7

step "mmcv 2.1.0 with compiled ops"
if ! "$VENV/bin/python" -c "import mmcv._ext" 2>/dev/null; then
  key=$("$VENV/bin/python" -c "import sys, torch; print(f'torch-{torch.__version__}-py{sys.version_info[0]}{sys.version_info[1]}')")
  house=$WHEELHOUSE/$key
  if ! ls "$house"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
    step "building mmcv from source (about 8 minutes on 2 cores) into $house"
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmcv-wheel.XXXXXX")
    env MAX_JOBS=${MAX_JOBS:-2} CFLAGS="-DNDEBUG -fwrapv -O3 -Wall -g0" \
      "${PIP[@]}" wheel -q --no-build-isolation --no-deps --no-cache-dir mmcv==2.1.0 -w "$tmp"
    mkdir -p "$house"
    mv "$tmp"/mmcv-2.1.0-*.whl "$house"/
    rm -rf "$tmp"
  fi
  "${PIP[@]}" install -q --no-build-isolation --find-links "$house" mmcv==2.1.0
  "$VENV/bin/python" -c "from mmcv.ops import nms, batched_nms, RoIAlign" \
    || { echo "install_env.sh: mmcv was installed without its compiled ops (mmcv._ext)" >&2; exit 1; }
fi

step "mmdet, mmsegmentation (+ ftfy, regex: undeclared mmseg imports)"
"${PIP[@]}" install -q mmdet==3.3.0 mmsegmentation==1.2.2 ftfy regex

step "mmlowlight (editable, with test extras)"
"${PIP[@]}" install -q --no-build-isolation -e "$ROOT[tests]"

# numba compiles the CPU runtime's kernels on first use (about 11 s on 2 cores for uint8 frames,
# mostly the default model's low-resolution kernels) and caches them: done here once, so that the first image a user
# enhances does not wait for it.
step "compiling the CPU runtime's kernels into numba's cache"
"$VENV/bin/python" -m mmlowlight.warmup

echo "$want" > "$STAMP"
step "done"
