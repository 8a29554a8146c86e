"""Concept bridges: pretrained label knowledge that puts every modality into the text space.

A classifier head that names what it hears or sees (YAMNet's 521 AudioSet classes,
EfficientNet-Lite0's 1000 ImageNet classes) is a bridge to language: embed each class name
once with the text encoder, and a sound or picture becomes the score-weighted mix of the
names it was recognised as. Speech crosses by its transcript. The result lives in the text
encoder's sentence space (MiniLM, 384-d), so it needs no training, and a trained model can
start from it (`bgtai.model.grounded`).
"""

from bgtai.bridges.concepts import concept_mix
from bgtai.bridges.space import BridgeSpace
from bgtai.bridges.vocabulary import VOCABULARIES, Vocabulary, label_vectors

__all__ = ["VOCABULARIES", "BridgeSpace", "Vocabulary", "concept_mix", "label_vectors"]
