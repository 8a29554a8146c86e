"""Speech frames against the words spoken: the Result Filter's setting, with word times to score it.

For each utterance (an Asterisk prompt as recorded, or its transcript spoken by espeak-ng):

- **source** R: Whisper-tiny-en encoder frames of the speech, averaged over `POOL` frames
  (5 x 20 ms = 100 ms steps), T steps;
- **target** h: the words Whisper hears in it (its own transcript), each embedded alone by
  MiniLM (384-d), Q steps. A different space from the frames: no cosine between them means
  anything without a bridge. With `target="gloss"` the tokens are the gloss of those words
  (`bgtai.gloss.view`'s conventions: lemmas in capitals, articles, copulas and auxiliaries
  dropped), each keeping the time of the word it came from;
- **gold**: the source step holding each word's midpoint, from faster-whisper's word
  timestamps (cross-attention alignment inside Whisper: a silver standard, made by another
  mechanism than the aligners scored, not by hand);
- **bridge**: each word spoken alone by espeak-ng, the words joined by silence into one clip
  whose word spans are known, then DTW between that clip and the speech on cepstra (MFCC from
  Whisper's own log-mel, mean-normalised per utterance: speaker and channel differ). Each
  word's step is the median speech step its TTS span is matched to. That path is the
  label-free supervision A* of the Result Filter (BGTAI eq. 5), and a baseline that needs TTS
  at test time. (DTW on the Whisper encoder frames themselves did worse than uniform as a
  bridge in an exploratory check that is not kept as a command; the encoder's outputs carry
  absolute position, so frames of two recordings match by time in the window more than by sound.)

Word timings are kept per audio content under `<cache_dir>/word-timings/whisper-tiny-en/`
(transcribing costs about a second per clip on a CPU); frames come through the feature cache.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bgtai.config import cache_dir

SPEECH_ENCODER = "whisper-tiny-en"
WORD_ENCODER = "minilm"
POOL = 5  # Whisper frames per source step
FRAME_S = 0.02
STEP_S = POOL * FRAME_S


@dataclass
class SpeechWords:
    """One utterance: pooled frames (T, 384), word vectors (Q, 384), gold and bridge steps (Q,) in [0, T)."""

    source: str  # the audio file
    words: list[str]  # the target tokens: words, or gloss tokens
    frames: np.ndarray
    word_vectors: np.ndarray
    gold: np.ndarray
    bridge: np.ndarray


def normalise_word(word: str) -> str:
    return re.sub(r"[^\w']+", "", word.lower())


def word_timings(
    paths: Sequence[str | Path],
    progress: Callable[[str], None] | None = None,
    status: Callable[[str], None] | None = None,
) -> list[list[tuple[str, float, float]]]:
    """(word, start, end) per file from Whisper tiny.en, cached by file content.

    `progress` hears a count every 25 files; `status` hears each slow step as it starts (loading
    Whisper, transcribing a file), for a command that times one file and should not sit silent.
    """
    import functools

    from bgtai.cache import text_per_file
    from bgtai.encoders.registry import get_encoder

    say = status or (lambda message: None)

    @functools.cache  # loaded on the first miss only
    def whisper() -> Any:
        say(f"loading Whisper ({SPEECH_ENCODER}) ...")
        return get_encoder(SPEECH_ENCODER, "audio")

    def transcribe(path: str | Path) -> str:
        model = whisper()
        say(f"transcribing {Path(path).name} with word timestamps ...")
        return json.dumps(model.transcribe_words(str(path)))

    folder = cache_dir() / "word-timings" / SPEECH_ENCODER
    out = []
    for number, path in enumerate(paths):
        stored = text_per_file(path, folder, ".json", lambda path=path: transcribe(path))
        out.append([tuple(w) for w in json.loads(stored)])
        if progress is not None and (number + 1) % 25 == 0:
            progress(f"word timings: {number + 1}/{len(paths)}")
    return out


def pool_frames(frames: np.ndarray, pool: int = POOL) -> np.ndarray:
    """(ceil(T/pool), D): the mean of each run of `pool` frames (the last run may be shorter)."""
    steps = -(-len(frames) // pool)
    return np.stack([frames[i * pool : (i + 1) * pool].mean(axis=0) for i in range(steps)]).astype(np.float32)


def gold_steps(timings: Sequence[tuple[str, float, float]], steps: int) -> np.ndarray:
    """The pooled step of each word's midpoint, clipped to the sequence."""
    middles = np.array([(start + end) / 2 for _, start, end in timings])
    return np.clip((middles / STEP_S).astype(np.int64), 0, steps - 1)


def cepstra(path: str | Path, coefficients: int = 20) -> np.ndarray:
    """(frames, coefficients) MFCC at 10 ms from Whisper's log-mel, with the utterance mean removed."""
    from faster_whisper.feature_extractor import FeatureExtractor
    from scipy.fft import dct

    from bgtai.io.audio import load_audio

    samples = load_audio(path, target_sr=16_000).samples
    log_mel = FeatureExtractor()(samples, padding=0)  # (80, frames)
    mfcc = dct(log_mel, type=2, axis=0, norm="ortho")[:coefficients].T
    return (mfcc - mfcc.mean(axis=0)).astype(np.float64)


def bridge_steps(speech: str | Path, spoken_words: str | Path, spans: np.ndarray, steps: int) -> np.ndarray:
    """Each word's source step by DTW of the speech against the words spoken alone (their `spans` in seconds)."""
    from bgtai.align.dtw import dtw

    mel_s = 0.01
    speech_cepstra, tts_cepstra = cepstra(speech), cepstra(spoken_words)
    path = dtw(tts_cepstra, speech_cepstra, metric="euclidean").path  # rows: TTS frames, columns: speech frames
    out = np.zeros(len(spans), dtype=np.int64)
    for q, (start, end) in enumerate(spans):
        # the span's TTS frames (at least one, inside the clip); the path visits every TTS frame
        first = min(int(start / mel_s), len(tts_cepstra) - 1)
        last = max(int(np.ceil(end / mel_s)), first + 1)
        matched = path[(path[:, 0] >= first) & (path[:, 0] < last), 1]
        out[q] = int(np.median(matched) * mel_s / STEP_S)
    return np.clip(out, 0, steps - 1)


def gloss_with_sources(words: list[str]) -> list[tuple[str, int]]:
    """Gloss tokens of a word list (the gloss view's conventions) and the word each came from."""
    from bgtai.gloss.view import gloss_view_with_sources

    return gloss_view_with_sources(words)


def speakable(token: str) -> str:
    """What TTS should say for a gloss token: the lemma without `DESC-`/`X-` markers."""
    return token.rsplit("-", 1)[-1].lower() if token not in ("X-POSS",) else "'s"


def build_speech_words(
    audio_paths: Sequence[str | Path], progress: Callable[[str], None] | None = None, target: str = "words"
) -> tuple[list[SpeechWords], dict[str, int]]:
    """The alignment items of these recordings (utterances with no word heard, or no gloss, are left out, and counted)."""
    if target not in ("words", "gloss"):
        raise ValueError(f"target must be 'words' or 'gloss', got {target!r}")
    import bgtai
    from bgtai.align.summary_features import spoken_summary

    timings = word_timings(audio_paths, progress)
    kept = [(path, [t for t in words if normalise_word(t[0])]) for path, words in zip(audio_paths, timings)]
    kept = [(path, words) for path, words in kept if words]
    skipped = {"no_words_heard": len(audio_paths) - len(kept)}
    frames = bgtai.encode_sequence("audio", [p for p, _ in kept], encoder=SPEECH_ENCODER, progress=progress is not None)
    words = [[normalise_word(w) for w, _, _ in timing] for _, timing in kept]
    # target tokens of each utterance and the word each comes from
    if target == "gloss":
        tokens = [gloss_with_sources(sentence) for sentence in words]
    else:
        tokens = [[(w, i) for i, w in enumerate(sentence)] for sentence in words]
    skipped["no_gloss"] = sum(1 for t in tokens if not t)
    vocabulary = sorted({t for sentence in tokens for t, _ in sentence})
    vectors = dict(zip(vocabulary, bgtai.encode("text", vocabulary, encoder=WORD_ENCODER, progress=False)))
    items = []
    for (path, timing), sentence, sequence in zip(kept, tokens, frames.features):
        if not sentence:
            continue
        pooled = pool_frames(sequence)
        said = [t if target == "words" else speakable(t) for t, _ in sentence]
        spoken, spans = spoken_summary(said)  # each token alone, joined by silence
        gold = gold_steps(timing, len(pooled))[[source for _, source in sentence]]
        items.append(
            SpeechWords(
                str(path),
                [t for t, _ in sentence],
                pooled,
                np.stack([vectors[t] for t, _ in sentence]).astype(np.float32),
                gold,
                bridge_steps(path, spoken, spans, len(pooled)),
            )
        )
    return items, skipped


def save_aligner(model: Any, path: str | Path, target: str) -> Path:
    """Write a trained speech-to-`target` aligner with the input recipe `bgtai align --dsnet` needs, atomically."""
    import dataclasses
    import io

    import torch

    from bgtai.atomic import write_bytes

    saved = {
        "config": dataclasses.asdict(model.config),
        "state": model.state_dict(),  # type: ignore[attr-defined]
        "inputs": {"audio": {"encoder": SPEECH_ENCODER, "pool": POOL}, "text": target},
    }
    buffer = io.BytesIO()
    torch.save(saved, buffer)
    write_bytes(path, buffer.getvalue())
    return Path(path)


def text_tokens(text: str, target: str) -> tuple[list[str], np.ndarray]:
    """The tokens of a text as the aligners see them (`words` or `gloss`) and their MiniLM vectors."""
    import bgtai

    words = [w for w in (normalise_word(w) for w in text.split()) if w]
    tokens = [t for t, _ in gloss_with_sources(words)] if target == "gloss" else words
    if not tokens:
        raise ValueError(f"no {target} tokens in {text!r}")
    return tokens, np.asarray(bgtai.encode("text", tokens, encoder=WORD_ENCODER, progress=False), dtype=np.float32)


def load_aligner(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """A speech aligner written by `save_aligner` (`bgtai eval align --save-model`): (DSNet, its input recipe).

    Raises `BadInputError` naming the file when it is missing, unreadable or not such an aligner.
    """
    import torch

    from bgtai.align.dsnet import DSNet, DSNetConfig
    from bgtai.errors import BadInputError

    path = Path(path)
    if not path.is_file():
        raise BadInputError(
            str(path), "no such file (write one with `bgtai eval align --dataset asterisk --save-model FILE`)"
        )
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # torch raises several types for a damaged or foreign file
        raise BadInputError(
            str(path), f"cannot be read as a saved aligner ({type(error).__name__}: {error})"
        ) from error
    inputs = saved.get("inputs") if isinstance(saved, dict) else None
    if not inputs or "config" not in saved or "state" not in saved:
        raise BadInputError(
            str(path),
            "not a speech aligner saved by `bgtai eval align --save-model` "
            "(it names no inputs, so its steps cannot be read as seconds)",
        )
    model = DSNet(DSNetConfig(**saved["config"]))
    model.load_state_dict(saved["state"])
    return model, inputs


def aligner_times(model: Any, inputs: dict[str, Any], audio: str | Path, text: str) -> tuple[list[str], np.ndarray]:
    """The aligner's tokens of `text` (its words, or gloss tokens) and the time (s) it gives each: its step's centre."""
    import bgtai
    from bgtai.align.dsnet import path_indices

    pool = int(inputs["audio"]["pool"])
    frames = bgtai.encode_sequence("audio", [audio], encoder=inputs["audio"]["encoder"], progress=False).features[0]
    source = pool_frames(frames, pool)
    tokens, vectors = text_tokens(text, inputs["text"])
    # one step per token, strictly increasing when there are enough steps (as it was scored)
    a_hat, _ = model.align(source, vectors, strict=len(source) >= len(tokens))
    return tokens, (path_indices(a_hat) + 0.5) * pool * FRAME_S
