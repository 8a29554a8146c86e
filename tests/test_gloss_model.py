"""Langue2Gloss: causal decoder, beam 1 == greedy, a tiny model learns ten pairs, text and speech share the decoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bgtai.gloss.checkpoint import GlossCheckpoint, save_checkpoint
from bgtai.gloss.decode import beam_search, greedy_decode
from bgtai.gloss.incremental import IncrementalDecoder
from bgtai.gloss.model import GlossDecoderConfig, Langue2Gloss, Langue2GlossConfig
from bgtai.gloss.translator import GlossTranslator, collate
from bgtai.gloss.vocab import BOS_ID, EOS_ID, Vocab
from bgtai.model.language_encoder import LanguageEncoderConfig

SOURCES = [
    "the cat sleeps",
    "we are far away",
    "it rains today",
    "you did not go",
    "dogs bark loudly",
    "i will record it",
    "they meet the criteria",
    "the vote is next",
    "she sings well",
    "thank you very much",
]
GLOSSES = [
    "CAT SLEEP",
    "X-WE BE DESC-FAR DESC-AWAY",
    "X-IT RAIN TODAY",
    "X-YOU DO DESC-NOT GO",
    "DOG BARK DESC-LOUDLY",
    "X-I WILL RECORD X-IT",
    "X-Y MEET CRITERION",
    "VOTE BE NEXT",
    "X-SHE SING DESC-WELL",
    "THANK X-YOU DESC-VERY DESC-MUCH",
]


def _model(vocab_size: int = 20, source_vocab: int = 20, dropout: float = 0.0, smoothing: float = 0.1) -> Langue2Gloss:
    torch.manual_seed(0)
    encoder = LanguageEncoderConfig(
        feature_frontends={"minilm": 12, "whisper-tiny-en": 10},
        token_frontends={"en": source_vocab},
        width=32,
        layers=1,
        heads=2,
        ffn=64,
        dropout=dropout,
    )
    decoder = GlossDecoderConfig(vocab_size=vocab_size, layers=2, heads=2, ffn=64, dropout=dropout, max_length=12)
    return Langue2Gloss(Langue2GlossConfig(encoder, decoder, label_smoothing=smoothing)).eval()


def test_decoder_does_not_see_future_tokens() -> None:
    model = _model()
    encoding = model.encode(torch.randn(2, 5, 12), torch.ones(2, 5, dtype=torch.bool), "minilm")
    previous = torch.randint(4, 20, (2, 7))
    changed = previous.clone()
    changed[:, 4:] = torch.randint(4, 20, (2, 3))
    before = model.decode_logits(encoding, previous)
    after = model.decode_logits(encoding, changed)
    assert torch.allclose(before[:, :4], after[:, :4], atol=1e-5)
    assert not torch.allclose(before[:, 4:], after[:, 4:])


def test_incremental_decoding_gives_the_full_forward_logits_at_every_position() -> None:
    model = _model()
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])  # one padded source
    encoding = model.encode(torch.randn(2, 5, 12), mask, "minilm")
    previous = torch.randint(4, 20, (2, 8))
    full = model.decode_logits(encoding, previous)
    steps = IncrementalDecoder(model.decoder, encoding)
    stepped = torch.stack([steps.step(previous[:, m]) for m in range(previous.shape[1])], dim=1)
    assert torch.allclose(stepped, full, atol=1e-5)
    # beam search swaps rows between steps: the cache must follow them
    steps = IncrementalDecoder(model.decoder, encoding)
    steps.step(previous[:, 0])
    steps.reorder(torch.tensor([1, 0]))
    assert torch.allclose(steps.step(previous.flip(0)[:, 1]), full.flip(0)[:, 1], atol=1e-5)


def test_incremental_decoding_refuses_a_model_in_training_mode() -> None:
    model = _model(dropout=0.1)
    encoding = model.encode(torch.randn(1, 3, 12), torch.ones(1, 3, dtype=torch.bool), "minilm")
    with pytest.raises(ValueError, match="eval mode"):
        IncrementalDecoder(model.train().decoder, encoding)


def test_beam_one_equals_greedy() -> None:
    model = _model(vocab_size=9)
    with torch.no_grad():  # a sharper output distribution, so sequences end before max_length
        model.decoder.embedding.weight.mul_(8)
    encoding = model.encode(torch.randn(6, 4, 12), torch.ones(6, 4, dtype=torch.bool), "minilm")
    greedy = greedy_decode(model, encoding)
    assert greedy == beam_search(model, encoding, beam=1)
    assert any(len(g) > 0 for g in greedy)


def test_wider_beam_never_scores_worse_than_greedy() -> None:
    model = _model(vocab_size=9)
    encoding = model.encode(torch.randn(3, 4, 12), torch.ones(3, 4, dtype=torch.bool), "minilm")

    @torch.no_grad()
    def score(ids: list[int], row: int) -> float:
        sequence = torch.tensor([[BOS_ID, *ids, EOS_ID]])
        single = type(encoding)(encoding.o[row : row + 1], encoding.h[row : row + 1], encoding.mask[row : row + 1])
        log_probs = torch.log_softmax(model.decode_logits(single, sequence[:, :-1]), -1)[0]
        return float(log_probs.gather(1, sequence[0, 1:, None]).sum())

    greedy = greedy_decode(model, encoding, max_length=30)
    beamed = beam_search(model, encoding, beam=4, length_penalty=0.0, max_length=30)
    for row in range(3):
        assert score(beamed[row], row) >= score(greedy[row], row) - 1e-4


def test_tiny_model_learns_ten_pairs_exactly(tmp_path) -> None:
    source_vocab = Vocab.build(SOURCES, kind="word")
    target_vocab = Vocab.build(GLOSSES, kind="word")
    model = _model(vocab_size=len(target_vocab), source_vocab=len(source_vocab), smoothing=0.0)
    features, mask = collate([np.array(source_vocab.encode(s)) for s in SOURCES])
    rows = [[BOS_ID, *target_vocab.encode(g), EOS_ID] for g in GLOSSES]
    targets = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long)
    for i, row in enumerate(rows):
        targets[i, : len(row)] = torch.tensor(row)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(250):
        optimiser.zero_grad()
        model.loss(features, mask, "en", targets).backward()
        optimiser.step()
    model.eval()
    checkpoint = GlossCheckpoint(model, target_vocab, source_vocab, {"text_frontend": "en"})
    assert GlossTranslator(checkpoint, beam=1).translate(SOURCES) == GLOSSES
    # and it survives a round trip through the checkpoint folder
    save_checkpoint(tmp_path / "best", checkpoint)
    assert GlossTranslator.load(tmp_path / "best", beam=3).translate(SOURCES) == GLOSSES


def test_speech_and_text_reach_the_same_decoder_interface() -> None:
    model = _model()
    text = model.encode(torch.randn(1, 6, 12), torch.ones(1, 6, dtype=torch.bool), "minilm")
    speech = model.encode(torch.randn(1, 40, 10), torch.ones(1, 40, dtype=torch.bool), "whisper-tiny-en")
    assert type(text) is type(speech)
    assert text.o.shape[2] == speech.o.shape[2] and text.h.shape == speech.h.shape
    assert text.o.dtype == speech.o.dtype and text.mask.dtype == speech.mask.dtype
    previous = torch.tensor([[BOS_ID, 5, 6]])
    assert model.decode_logits(text, previous).shape == model.decode_logits(speech, previous).shape == (1, 3, 20)
    assert isinstance(greedy_decode(model, speech)[0], list)


def test_speech_cascade_glosses_an_unheard_recording_as_empty_and_says_which(monkeypatch: pytest.MonkeyPatch) -> None:
    import bgtai.gloss.translator as translator_module

    source_vocab, target_vocab = Vocab.build(SOURCES, kind="word"), Vocab.build(GLOSSES, kind="word")
    model = _model(vocab_size=len(target_vocab), source_vocab=len(source_vocab)).eval()
    translator = GlossTranslator(GlossCheckpoint(model, target_vocab, source_vocab, {"text_frontend": "en"}), beam=1)
    heard = {"a.wav": SOURCES[0], "silent.wav": "", "b.wav": SOURCES[1]}
    monkeypatch.setattr(translator_module, "transcribe", lambda paths, *asr: [heard[str(p)] for p in paths])
    with pytest.warns(UserWarning, match=r"heard no words in 1 of 3 files .*silent\.wav"):
        glosses = translator.translate_audio(["a.wav", "silent.wav", "b.wav"])
    assert glosses[1] == ""
    assert [glosses[0], glosses[2]] == translator.translate([SOURCES[0], SOURCES[1]])
