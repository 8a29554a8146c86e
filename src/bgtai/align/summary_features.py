"""Sentence vectors of BBC alignment pairs: article as text, summary as text or as speech.

Text: `bgtai.encode("text", sentences, encoder="minilm")` (cached by the feature cache).

Speech: each summary sentence is spoken by espeak-ng (`bgtai.io.tts`), the sentences of one
summary are joined with `GAP_S` of silence into one recording (cached under
`<cache_dir>/tts/summaries/`), the recording goes through the Whisper-tiny-en encoder
once (20 ms frames), and each sentence's vector is the mean of the frames of its own time
span. One recording per summary instead of one per sentence: Whisper pads every input to
a 30 s window, so this is several times cheaper and the sentence boundaries are exact
(they are where the synthesiser's files were joined).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import soundfile as sf

from bgtai.align.bbc import AlignmentPair
from bgtai.atomic import atomic_path
from bgtai.config import cache_dir
from bgtai.io.audio import load_audio
from bgtai.io.tts import DEFAULT_RATE, espeak_version, speak_cached

TEXT_ENCODER = "minilm"
SPEECH_ENCODER = "whisper-tiny-en"
GAP_S = 0.25
SPEECH_RATE = 16_000
FRAME_S = 0.02  # one Whisper encoder frame


def text_vectors(sentence_lists: list[list[str]], encoder: str = TEXT_ENCODER) -> list[np.ndarray]:
    """(len(list), D) unit vectors for every list of sentences, in one encoder call."""
    import bgtai

    flat = [s for sentences in sentence_lists for s in sentences]
    vectors = bgtai.encode("text", flat, encoder=encoder, progress=len(flat) > 200)
    bounds = np.cumsum([0] + [len(s) for s in sentence_lists])
    return [vectors[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def spoken_summary(sentences: list[str], voice: str = "en-us", rate: int = DEFAULT_RATE) -> tuple[Path, np.ndarray]:
    """The recording of the sentences joined by silence (16 kHz WAV) and each sentence's (start, end) in seconds."""
    key = hashlib.sha256("\0".join([espeak_version(), voice, str(rate), str(GAP_S), *sentences]).encode()).hexdigest()
    path = cache_dir() / "tts" / "summaries" / key[:2] / f"{key}.wav"
    gap = np.zeros(int(GAP_S * SPEECH_RATE), dtype=np.float32)
    pieces, spans, clock = [], [], 0.0
    for sentence in sentences:
        samples = load_audio(speak_cached(sentence, voice=voice, rate=rate), target_sr=SPEECH_RATE).samples
        pieces += [samples, gap]
        spans.append((clock, clock + len(samples) / SPEECH_RATE))
        clock += (len(samples) + len(gap)) / SPEECH_RATE
    if not path.is_file():
        with atomic_path(path) as temporary:  # named .tmp: soundfile is told the format
            sf.write(temporary, np.concatenate(pieces), SPEECH_RATE, format="WAV", subtype="PCM_16")
    return path, np.array(spans)


def speech_vectors(pairs: list[AlignmentPair], encoder: str = SPEECH_ENCODER) -> list[np.ndarray]:
    """(Q, D) unit vectors of each pair's spoken summary sentences."""
    import bgtai

    recordings = [spoken_summary(pair.summary) for pair in pairs]
    frames = bgtai.encode_sequence("audio", [path for path, _ in recordings], encoder=encoder, progress=True)
    return [span_vectors(sequence, spans) for (_, spans), sequence in zip(recordings, frames.features)]


def span_vectors(sequence: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """(len(spans), D) unit vectors: the mean of the Whisper frames inside each (start, end) span in seconds."""
    rows = []
    for start, end in spans:
        first = min(int(start / FRAME_S), len(sequence) - 1)
        last = max(first + 1, min(int(np.ceil(end / FRAME_S)), len(sequence)))
        vector = sequence[first:last].mean(axis=0)
        rows.append(vector / max(float(np.linalg.norm(vector)), 1e-12))
    return np.stack(rows).astype(np.float32)
