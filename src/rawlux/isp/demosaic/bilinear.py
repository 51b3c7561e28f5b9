"""Bilinear demosaicing: the simplest correct method, fast, reference for the others."""
from __future__ import annotations

import numpy as np

from ...frame import BAYER_PATTERNS


def bilinear(cfa: np.ndarray, pattern: str) -> np.ndarray:
    import cv2

    h, w = cfa.shape
    code = BAYER_PATTERNS[pattern]
    masks = np.zeros((3, h, w), dtype=np.float32)
    for i, c in enumerate(code):
        masks[c, i // 2::2, i % 2::2] = 1.0
    k_g = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], np.float32) / 4.0
    k_rb = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 4.0
    out = np.empty((h, w, 3), dtype=np.float32)
    for c in range(3):
        k = k_g if c == 1 else k_rb
        num = cv2.filter2D(cfa * masks[c], -1, k, borderType=cv2.BORDER_REFLECT_101)
        den = cv2.filter2D(masks[c], -1, k, borderType=cv2.BORDER_REFLECT_101)
        out[..., c] = num / np.maximum(den, 1e-6)
        sel = masks[c] > 0
        out[..., c][sel] = cfa[sel]
    return out
