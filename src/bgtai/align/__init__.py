"""Sequence alignment: DTW, DS-Net, the Result Filter and SP-Loss, self-paced pair selection."""
