"""Gloss decoding: cached keys and values (`bgtai.gloss.decode`) against re-running the whole prefix each step.

Usage: python benchmarks/gloss_decode.py --model runs/gloss-phoenix-clean/best [--corpus phoenix] [--split dev]
       [--threads 1] [--beams 1 4]

Both ways decode the same sentences with the same checkpoint, one after the other in one process
(compare the ratio, not the seconds: the machine is shared); the outputs must be identical.
"""

from __future__ import annotations

import argparse
import time

import torch

from bgtai.gloss.checkpoint import load_checkpoint
from bgtai.gloss.decode import _repeat, _strip, decode
from bgtai.gloss.model import Langue2Gloss
from bgtai.gloss.translator import collate, source_features
from bgtai.gloss.vocab import BOS_ID, EOS_ID, PAD_ID
from bgtai.model.language_encoder import LanguageEncoding
from bgtai.train.gloss import load_pairs


@torch.no_grad()
def full_prefix_decode(model: Langue2Gloss, encoding: LanguageEncoding, beam: int, max_length: int) -> list[list[int]]:
    """The reference: every step runs the decoder over the whole prefix (length penalty 1)."""
    batch = encoding.o.shape[0]
    expanded = _repeat(encoding, beam)
    sequences = torch.full((batch * beam, 1), BOS_ID, dtype=torch.long)
    scores = torch.full((batch, beam), float("-inf"))
    scores[:, 0] = 0.0
    finished = torch.zeros(batch, beam, dtype=torch.bool)
    lengths = torch.zeros(batch, beam)
    for _ in range(max_length):
        log_probs = torch.log_softmax(model.decode_logits(expanded, sequences)[:, -1], dim=-1)
        vocab = log_probs.shape[-1]
        log_probs = log_probs.view(batch, beam, vocab)
        carry = torch.full((vocab,), float("-inf"))
        carry[PAD_ID] = 0.0
        log_probs = torch.where(finished[..., None], carry, log_probs)
        scores, flat = (scores[..., None] + log_probs).view(batch, beam * vocab).topk(beam, dim=-1)
        source_beam, token = flat // vocab, flat % vocab
        rows = (source_beam + torch.arange(batch)[:, None] * beam).view(-1)
        sequences = torch.cat([sequences[rows], token.view(-1, 1)], dim=1)
        was_finished = finished.gather(1, source_beam)
        lengths = lengths.gather(1, source_beam) + (~was_finished).float()
        finished = was_finished | (token == EOS_ID)
        if bool(finished.all()):
            break
    best = (scores / lengths.clamp_min(1.0)).argmax(dim=-1)
    chosen = sequences.view(batch, beam, -1)[torch.arange(batch), best]
    return [_strip(row) for row in chosen.tolist()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--corpus", default="phoenix")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    checkpoint = load_checkpoint(args.model)
    model = checkpoint.model.eval()
    frontend = str(checkpoint.meta["text_frontend"])
    sentences, _ = load_pairs(args.corpus, args.split)
    sources = source_features(frontend, sentences, checkpoint.source_vocab, progress=False)
    batches = [collate(sources[i : i + args.batch_size]) for i in range(0, len(sources), args.batch_size)]
    print(f"{len(sentences)} {args.corpus} {args.split} sentences, {args.threads} thread(s), batch {args.batch_size}")
    print("| beam | cached K/V s | full prefix s | speed-up | identical |")
    print("|---|---|---|---|---|")
    for beam in args.beams:
        seconds, outputs = {}, {}
        for way in ("cached", "full"):
            started = time.perf_counter()
            out = []
            with torch.no_grad():
                for features, mask in batches:
                    encoding = model.encode(features, mask, frontend)
                    limit = min(model.config.decoder.max_length, 2 * features.shape[1] + 10)
                    if way == "cached":
                        out += decode(model, encoding, beam, 1.0, limit)
                    else:
                        out += full_prefix_decode(model, encoding, beam, limit)
            seconds[way], outputs[way] = time.perf_counter() - started, out
        same = outputs["cached"] == outputs["full"]
        print(
            f"| {beam} | {seconds['cached']:.2f} | {seconds['full']:.2f} | {seconds['full'] / seconds['cached']:.1f}x | {same} |"
        )


if __name__ == "__main__":
    main()
