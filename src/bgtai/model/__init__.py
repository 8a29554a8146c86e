"""Trainable parts: the language encoder (text and speech), and the joint-space model built on it."""
