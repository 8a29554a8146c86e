#!/usr/bin/env bash
# What a user gets from a plain install: a fresh venv, torch pinned as the Makefile pins it, the
# package WITHOUT the dev extra, the --no-deps package the README names (aisfx), then `bgtai embed`
# of a sound, a picture and a sentence made here, with each modality's default encoder.
# Fails if any of that fails, or if librosa (dev extra only) got installed and could hide a bad import.
#
#   scripts/check_clean_install.sh          # KEEP=1 keeps the temporary folder; PYTHON=python3.11 by default
#
# Kept fast: no pip inside the new venv, pip reuses its download cache (~/.cache/pip), no bytecode
# compiling. Nothing else is shared with the checkout's .venv, and the feature cache (with the
# exported aiSFX ONNX model) is a fresh one, so every encoder really loads and runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3.11}
# the same pins as `make setup`, read from the Makefile so the two cannot drift apart
TORCH=$(grep -o '"torch==[0-9.]*"' Makefile | head -1 | tr -d '"')
AISFX=$(grep -o '"aisfx==[0-9.]*"' Makefile | head -1 | tr -d '"')
[ -n "$TORCH" ] && [ -n "$AISFX" ] || { echo "check_clean_install: torch or aisfx pin not found in Makefile" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bgtai-clean-install.XXXXXX")
[ "${KEEP:-0}" = 1 ] && echo "keeping $work" || trap 'rm -rf "$work"' EXIT
started=$SECONDS
step() { echo "[$((SECONDS - started)) s] $*"; }

step "venv ($PYTHON) in $work"
# no pip inside it (ensurepip alone takes ~30 s): $PYTHON's own pip installs into it (--python, pip >= 22.3)
"$PYTHON" -m venv --without-pip "$work/venv"
pip=("$PYTHON" -m pip --python "$work/venv/bin/python" -q --disable-pip-version-check install --no-compile)
step "pip install $TORCH (first and pinned: the CPU build, as make setup does)"
"${pip[@]}" "$TORCH"
# a copy of the package sources, so the build writes nothing into the checkout
mkdir "$work/pkg"
tar -C "$ROOT" --exclude=__pycache__ --exclude='*.egg-info' -cf - pyproject.toml README.md src | tar -C "$work/pkg" -xf -
step "pip install the package (no extras)"
"${pip[@]}" "$work/pkg"
step "pip install --no-deps $AISFX"
"${pip[@]}" --no-deps "$AISFX"

py="$work/venv/bin/python"
if "$py" -c "import librosa" 2>/dev/null; then
  echo "check_clean_install: librosa is installed without the dev extra; this check could not catch a librosa import" >&2
  exit 1
fi

mkdir "$work/run"
cd "$work/run"  # away from the checkout: only the installed package can be imported
export BGTAI_CACHE="$work/cache" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
"$py" - <<'EOF'
import numpy as np, soundfile as sf
from PIL import Image
t = np.arange(44100 * 3) / 44100
sf.write("tone.wav", (0.3 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32), 44100)
y, x = np.mgrid[0:96, 0:128]
Image.fromarray(np.stack([x * 2, y * 2, (x + y) % 256], axis=-1).astype(np.uint8)).save("picture.png")
EOF
bgtai="$work/venv/bin/bgtai"
step "bgtai embed audio tone.wav"
"$bgtai" embed audio tone.wav --out sound.npy
step "bgtai embed image picture.png"
"$bgtai" embed image picture.png --out picture.npy
step "bgtai embed text"
"$bgtai" embed text "a dog barks in the rain" --out sentence.npy
"$py" - <<'EOF'
import json
import numpy as np
for name in ("sound", "picture", "sentence"):
    vectors = np.load(f"{name}.npy")
    encoder = json.load(open(f"{name}.json"))["encoder"]
    assert vectors.shape[0] == 1 and np.isfinite(vectors).all(), (name, vectors.shape)
    assert abs(float(np.linalg.norm(vectors[0])) - 1) < 1e-4, name
    print(f"  {name}: 1 x {vectors.shape[1]} ({encoder})")
EOF
step "clean install OK"
