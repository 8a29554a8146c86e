"""Audio-driven image generation (UniBriVL's Task 2): generators behind one interface, and the rerank."""
