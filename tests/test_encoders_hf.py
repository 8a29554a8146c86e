"""The transformers adapter on tiny random models saved to a folder (offline, seconds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bgtai.encoders.hf import HFEncoder, build_hf_encoder, hf_modality, split_name
from bgtai.encoders.registry import get_encoder
from bgtai.errors import BadInputError

WORDS = ["a", "dog", "barks", "cat", "sleeps", "on", "the", "mat", "red", "car"]


def _tokenizer(eos_last: bool = True) -> object:
    """A word-level fast tokenizer built in memory: [BOS] words [EOS], padded with [PAD]."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"[PAD]": 0, "[UNK]": 1, "[BOS]": 2, "[EOS]": 3} | {w: i + 4 for i, w in enumerate(WORDS)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.post_processor = processors.TemplateProcessing(
        single="[BOS] $A [EOS]", special_tokens=[("[BOS]", 2), ("[EOS]", 3)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="[UNK]", pad_token="[PAD]", bos_token="[BOS]", eos_token="[EOS]"
    )


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    folder = tmp_path_factory.mktemp("tiny-clip")
    torch.manual_seed(0)
    small = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37)
    config = CLIPConfig(
        text_config=dict(
            small, vocab_size=len(WORDS) + 4, max_position_embeddings=16, eos_token_id=3, pad_token_id=0, bos_token_id=2
        ),
        vision_config=dict(small, image_size=32, patch_size=8),
        projection_dim=24,
    )
    CLIPModel(config).save_pretrained(folder)
    _tokenizer().save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def wav2vec2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

    folder = tmp_path_factory.mktemp("tiny-wav2vec2")
    torch.manual_seed(0)
    config = Wav2Vec2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        conv_dim=(16, 16, 16),
        conv_stride=(5, 4, 16),
        conv_kernel=(10, 8, 16),  # 320 samples per frame
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
    )
    Wav2Vec2Model(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(sampling_rate=16000, do_normalize=True).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(WORDS) + 4,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=32,
    )
    BertModel(config).save_pretrained(folder)
    _tokenizer().save_pretrained(folder)
    return folder


def test_split_name_reads_the_fragment() -> None:
    assert split_name("hf:org/model#text") == ("org/model", "text")
    assert split_name("hf:/some/dir") == ("/some/dir", None)
    with pytest.raises(ValueError, match="text, audio or image"):
        split_name("hf:org/model#video")


def test_clip_modalities_and_defaults(clip_dir: Path) -> None:
    assert hf_modality(f"hf:{clip_dir}") == "image"
    assert hf_modality(f"hf:{clip_dir}#text") == "text"
    with pytest.raises(ValueError, match="not audio"):
        hf_modality(f"hf:{clip_dir}#audio")


def test_clip_text_matches_get_text_features(clip_dir: Path) -> None:
    from transformers import CLIPModel

    encoder = build_hf_encoder(f"{clip_dir}#text", None)
    assert encoder.modality == "text" and encoder.dim == 24
    texts = ["a dog barks", "the cat sleeps on the mat"]
    seqs = encoder.encode_prepared([encoder.prepare(t) for t in texts])
    model = CLIPModel.from_pretrained(clip_dir).eval()
    tokens = _tokenizer()(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        output = model.get_text_features(**tokens)
    expected = (output if isinstance(output, torch.Tensor) else output.pooler_output).numpy()
    for i, seq in enumerate(seqs):
        assert seq.shape == (1, 24)
        np.testing.assert_allclose(encoder.pool(seq), expected[i], atol=1e-5)
    assert not np.allclose(seqs[0], seqs[1])


def test_clip_image_matches_get_image_features(clip_dir: Path) -> None:
    from transformers import CLIPImageProcessor, CLIPModel

    encoder = build_hf_encoder(str(clip_dir), "image")
    assert encoder.image_size == 32
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (40, 50, 3), dtype=np.uint8), rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)]
    seqs = encoder.encode_prepared([encoder.prepare(im) for im in images])
    model = CLIPModel.from_pretrained(clip_dir).eval()
    pixels = CLIPImageProcessor.from_pretrained(clip_dir)(
        images=[encoder.prepare(im) for im in images], return_tensors="pt"
    )
    with torch.inference_mode():
        output = model.get_image_features(**pixels)
    expected = (output if isinstance(output, torch.Tensor) else output.pooler_output).numpy()
    for i, seq in enumerate(seqs):
        np.testing.assert_allclose(encoder.pool(seq), expected[i], atol=1e-5)


def test_wav2vec2_frames_follow_real_length(wav2vec2_dir: Path) -> None:
    encoder = get_encoder(f"hf:{wav2vec2_dir}")
    assert isinstance(encoder, HFEncoder) and encoder.modality == "audio" and encoder.sample_rate == 16000
    rng = np.random.default_rng(1)
    two_seconds = rng.standard_normal(32000).astype(np.float32) * 0.1
    seq = encoder.encode_prepared([encoder.prepare((two_seconds, 16000))])[0]
    assert seq.shape[1] == 32 and abs(seq.shape[0] - 100) <= 1  # 50 frames per second
    short = encoder.encode_prepared([encoder.prepare((two_seconds[:160], 16000))])[0]
    assert short.shape == (1, 32)  # 10 ms: padded to run, one frame kept
    stereo = np.stack([two_seconds, -two_seconds * 0.5])
    mono = encoder.encode_prepared([encoder.prepare((two_seconds * 0.25, 16000))])[0]
    np.testing.assert_allclose(encoder.encode_prepared([encoder.prepare((stereo, 16000))])[0], mono, atol=1e-5)
    again = encoder.encode_prepared([encoder.prepare((two_seconds, 16000))])[0]
    np.testing.assert_array_equal(seq, again)


def test_wav2vec2_resamples_other_rates(wav2vec2_dir: Path) -> None:
    encoder = build_hf_encoder(str(wav2vec2_dir), "audio")
    tone = np.sin(2 * np.pi * 440 * np.arange(44100) / 44100).astype(np.float32)
    seq = encoder.encode_prepared([encoder.prepare((tone, 44100))])[0]
    assert abs(seq.shape[0] - 50) <= 1


def test_bert_text_states_of_real_tokens(bert_dir: Path) -> None:
    encoder = build_hf_encoder(str(bert_dir), None)
    assert encoder.modality == "text" and encoder.dim == 32
    seqs = encoder.encode_prepared([encoder.prepare("a dog barks"), encoder.prepare("the red car on the mat")])
    assert [s.shape for s in seqs] == [(5, 32), (8, 32)]  # BOS + words + EOS, no padding
    with pytest.raises(BadInputError):
        encoder.prepare("   ")


def test_settings_change_when_weights_change(bert_dir: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "bert"
    shutil.copytree(bert_dir, copy)
    before = build_hf_encoder(str(copy), None).settings()
    weights = next(copy.glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes() + b"\0")
    assert build_hf_encoder(str(copy), None).settings() != before


def test_wrong_modality_is_refused(bert_dir: Path) -> None:
    with pytest.raises(ValueError, match="not image"):
        build_hf_encoder(f"{bert_dir}#image", None)


@pytest.fixture(scope="module")
def clap_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel

    folder = tmp_path_factory.mktemp("tiny-clap")
    torch.manual_seed(0)
    config = ClapConfig(
        text_config=dict(
            vocab_size=len(WORDS) + 4,
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=37,
            max_position_embeddings=40,
            pad_token_id=0,
            projection_dim=16,
        ),
        audio_config=dict(
            spec_size=64,
            patch_size=4,
            patch_stride=(4, 4),
            num_mel_bins=16,
            depths=[1, 1],
            num_attention_heads=[2, 2],
            hidden_size=32,
            patch_embeds_hidden_size=16,
            window_size=4,
            projection_dim=16,
            enable_fusion=False,
        ),
        projection_dim=16,
    )
    ClapModel(config).save_pretrained(folder)
    _tokenizer().save_pretrained(folder)
    # a 1 s window at 48 kHz; "rand_trunc" would crop longer audio at random, which the adapter must avoid
    ClapFeatureExtractor(
        feature_size=16,
        sampling_rate=48000,
        hop_length=480,
        max_length_s=1,
        fft_window_size=1024,
        truncation="rand_trunc",
    ).save_pretrained(folder)
    return folder


def test_clap_audio_is_one_joint_vector_per_fixed_window(clap_dir: Path) -> None:
    from transformers import ClapFeatureExtractor, ClapModel

    encoder = build_hf_encoder(str(clap_dir), "audio")
    samples = np.random.default_rng(0).standard_normal(int(2.6 * 48000)).astype(np.float32) * 0.1
    first = encoder.encode_prepared([samples])[0]
    assert first.shape == (3, 16)  # windows at 0, 1 and 2 s; the 0.6 s tail is kept (more than half a window)
    assert np.array_equal(first, encoder.encode_prepared([samples])[0])  # no random crop
    model, extractor = ClapModel.from_pretrained(clap_dir).eval(), ClapFeatureExtractor.from_pretrained(clap_dir)
    with torch.no_grad():
        middle = model.get_audio_features(**extractor(samples[48000:96000], sampling_rate=48000, return_tensors="pt"))
    middle = middle if isinstance(middle, torch.Tensor) else middle.pooler_output
    np.testing.assert_allclose(first[1], middle[0].numpy(), rtol=1e-5, atol=1e-6)
    assert encoder.encode_prepared([samples[: int(1.3 * 48000)]])[0].shape == (1, 16)  # a 0.3 s tail is dropped


def test_clap_text_matches_get_text_features(clap_dir: Path) -> None:
    from transformers import ClapModel

    encoder = build_hf_encoder(str(clap_dir), "text")
    vectors = encoder.encode_prepared(["a dog barks", "the red car"])
    model = ClapModel.from_pretrained(clap_dir).eval()
    tokens = _tokenizer()(["a dog barks", "the red car"], padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = model.get_text_features(**tokens)
    expected = expected if isinstance(expected, torch.Tensor) else expected.pooler_output
    np.testing.assert_allclose(np.concatenate(vectors), expected.numpy(), rtol=1e-5, atol=1e-6)
