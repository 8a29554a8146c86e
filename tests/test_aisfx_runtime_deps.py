"""The default sound encoder runs on the declared dependencies: no librosa at run time, and a
missing aiSFX package gives the exact install command."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from bgtai.encoders import aisfx


def test_mel_filters_are_librosa_s_bit_for_bit() -> None:
    librosa = pytest.importorskip("librosa")  # dev extra: the reference, not a run-time need
    for sr, n_fft, n_mels, f_min, f_max in [
        (aisfx.SAMPLE_RATE, aisfx.N_FFT, aisfx.N_MELS, aisfx.F_MIN, aisfx.F_MAX),
        (16000, 512, 40, 50.0, 7000.0),
    ]:
        reference = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=f_min, fmax=f_max, htk=True, norm=1.0)
        ours = aisfx.htk_mel_filters(sr, n_fft, n_mels, f_min, f_max)
        assert ours.dtype == reference.dtype and np.array_equal(ours, reference)


_WITHOUT_LIBROSA = """
import sys
sys.modules["librosa"] = None  # any `import librosa` now fails
import numpy as np
from bgtai.encoders import aisfx
wave = np.random.default_rng(0).standard_normal(44100 * 3).astype(np.float32)
(logmel,) = aisfx.log_mel_batch([aisfx.peak_normalise(wave)])
assert logmel.shape == (1 + len(wave) // aisfx.HOP, aisfx.N_MELS), logmel.shape
if len(sys.argv) > 1:  # the whole encoder, on its real weights
    import bgtai
    vector = bgtai.encode("audio", [(wave, 44100)], encoder="aisfx", cache=False)
    assert vector.shape == (1, 512) and np.isfinite(vector).all()
"""


def test_preprocessing_runs_without_librosa() -> None:
    subprocess.run([sys.executable, "-c", _WITHOUT_LIBROSA], check=True)


@pytest.mark.integration
def test_the_encoder_runs_without_librosa_on_real_weights() -> None:
    if not aisfx.AisfxEncoder().weights_present():
        pytest.skip("aiSFX weights not installed")
    subprocess.run([sys.executable, "-c", _WITHOUT_LIBROSA, "full"], check=True)


def test_missing_weights_name_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import bgtai

    monkeypatch.setattr(aisfx, "checkpoint_path", lambda: None)
    encoder = aisfx.AisfxEncoder()
    assert not encoder.weights_present()
    with pytest.raises(FileNotFoundError, match=r'pip install --no-deps "aisfx==0\.1\.2"'):
        bgtai.encode("audio", [(np.zeros(44100, np.float32), 44100)], encoder=encoder, cache=False)
