"""The emulator's sound: a steady tone (even seeds) or a rising chirp (odd seeds).

Seedance returns videos with sound by default (`output_audio`), so the emulator's files carry
an AAC track too: players, the panel and the tests can check that the sound is wired through
and that two seeds differ. The signal is a deterministic function of the seed and length.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# Mono at 24 kHz: plenty for a tone, and a quarter of the AAC encoding work of 48 kHz stereo.
SAMPLE_RATE = 24_000
CHANNELS = 1
AMPLITUDE = 0.25
_FADE_S = 0.02  # no click at either end
# A pentatonic scale from A3: any seed lands on a pleasant note.
_NOTES_HZ = (220.0, 246.94, 277.18, 329.63, 369.99, 440.0, 493.88, 554.37, 659.25, 739.99)


def kind_of(seed: int) -> str:
    """"tone" or "chirp": what `synthesize` makes for this seed."""
    return "tone" if seed % 2 == 0 else "chirp"


def tone_hz(seed: int) -> float:
    return _NOTES_HZ[(seed // 2) % len(_NOTES_HZ)]


def synthesize(seed: int, duration_s: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """float32 samples shaped (channels, n) in [-AMPLITUDE, AMPLITUDE]."""
    import numpy as np

    n = max(1, round(duration_s * sample_rate))
    t = np.arange(n, dtype=np.float64) / sample_rate
    if kind_of(seed) == "tone":
        freq = tone_hz(seed)
        phase = 2 * math.pi * freq * t
        # A slow tremolo makes the tone audibly "alive" without changing its pitch.
        signal = np.sin(phase) * (0.8 + 0.2 * np.sin(2 * math.pi * 2.0 * t))
    else:
        # One rising sweep per second, from a seed-chosen start, over one octave.
        f0 = _NOTES_HZ[(seed // 2) % 5]
        period = 1.0
        local = np.mod(t, period)
        # Phase of a linear sweep f(t) = f0 * (1 + local/period), integrated per sweep.
        phase = 2 * math.pi * f0 * (local + local**2 / (2 * period))
        signal = np.sin(phase)
    fade = min(n // 2, max(1, round(_FADE_S * sample_rate)))
    ramp = np.linspace(0.0, 1.0, fade)
    envelope = np.ones(n)
    envelope[:fade] = ramp
    envelope[n - fade :] = np.minimum(envelope[n - fade :], ramp[::-1])
    mono = (AMPLITUDE * signal * envelope).astype(np.float32)
    return np.repeat(mono[None, :], CHANNELS, axis=0)
