"""Muxing a scene (and optionally its sound) into an MP4 that browsers play.

H.264 yuv420p video and AAC-LC audio, the pair every browser decodes (Debian's Chromium
included), with ``movflags=faststart`` so playback can begin before the whole file arrives.
"""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np
from PIL import Image

from ._audio import CHANNELS, SAMPLE_RATE, synthesize
from ._scene import Scene

CRF = "26"
PRESET = "veryfast"
AUDIO_BITRATE = 48_000
_AUDIO_CHUNK = 1024  # AAC's frame size
LAYOUT = {1: "mono", 2: "stereo"}[CHANNELS]


class _ReadView:
    """A second, read-only cursor over the BytesIO the muxer is writing.

    ``movflags=faststart`` makes FFmpeg reopen its output for reading in order to move the moov
    atom to the front; for a file-like output PyAV routes that reopen through ``io_open``. The
    view keeps its own position and puts the writer's position back after every read, because
    the writing AVIOContext assumes nobody else moves the shared file offset.
    """

    def __init__(self, buf: io.BytesIO) -> None:
        self._buf = buf
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        writer_pos = self._buf.tell()
        try:
            self._buf.seek(self._pos)
            data = self._buf.read(size)
        finally:
            self._buf.seek(writer_pos)
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += len(self._buf.getbuffer())
        self._pos = offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        pass  # the BytesIO belongs to `encode`, which still needs it


def encode(scene: Scene, *, audio_seed: int | None) -> tuple[bytes, Image.Image]:
    """(MP4 bytes, the last frame drawn). `audio_seed` None makes a silent file."""
    buf = io.BytesIO()
    last: Image.Image | None = None
    with av.open(
        buf,
        "w",
        format="mp4",
        options={"movflags": "faststart"},
        io_open=lambda _url, _flags, _options: _ReadView(buf),
    ) as container:
        video = container.add_stream("libx264", rate=scene.fps)
        video.width = scene.width
        video.height = scene.height
        video.pix_fmt = "yuv420p"  # the only chroma format every browser decodes
        video.options = {"crf": CRF, "preset": PRESET}
        sound = None
        samples = None
        if audio_seed is not None:
            sound = container.add_stream("aac", rate=SAMPLE_RATE, layout=LAYOUT)
            sound.bit_rate = AUDIO_BITRATE
            samples = synthesize(audio_seed, scene.n_frames / scene.fps)
        sent = 0  # audio samples encoded so far
        time_base = Fraction(1, scene.fps)
        for i in range(scene.n_frames):
            last = scene.frame(i)
            frame = av.VideoFrame.from_ndarray(np.asarray(last), format="rgb24")
            frame.pts = i
            frame.time_base = time_base
            container.mux(video.encode(frame))
            if sound is not None and samples is not None:
                # Keep the two streams interleaved in time, as players expect.
                upto = min(samples.shape[1], round((i + 1) * SAMPLE_RATE / scene.fps))
                sent = _encode_audio(container, sound, samples, sent, upto)
        if sound is not None and samples is not None:
            _encode_audio(container, sound, samples, sent, samples.shape[1])
            container.mux(sound.encode(None))
        container.mux(video.encode(None))  # flush the frames x264 holds back for B-frames
    assert last is not None
    return buf.getvalue(), last


def _encode_audio(container: av.container.OutputContainer, stream: av.AudioStream,
                  samples: np.ndarray, sent: int, upto: int) -> int:
    while sent + _AUDIO_CHUNK <= upto or (upto == samples.shape[1] and sent < upto):
        chunk = np.ascontiguousarray(samples[:, sent : sent + _AUDIO_CHUNK])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=LAYOUT)
        frame.sample_rate = SAMPLE_RATE
        frame.pts = sent
        frame.time_base = Fraction(1, SAMPLE_RATE)
        container.mux(stream.encode(frame))
        sent += chunk.shape[1]
    return sent

