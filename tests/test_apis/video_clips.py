"""Small test videos made with PyAV: dark noisy pictures, an audio track, a subtitle, a rotation,
variable frame timing and container metadata, so that round trips can check each survives."""
from fractions import Fraction
from typing import Dict, List, Optional, Sequence

import av
import numpy as np

#: Frame times of :func:`make_clip` in milliseconds: irregular (variable frame rate).
VFR_TIMES_MS = (0, 40, 80, 160, 193, 233, 353, 393, 433, 473, 513, 553)
CREATION_TIME = '2024-05-06T07:08:09.000000Z'
SUBTITLE_CODECS = {'mp4': 'mov_text', 'mov': 'mov_text', 'mkv': 'subrip'}


def dark_frames(count: int, height: int = 48, width: int = 64, seed: int = 0,
                noise: float = 3.0) -> List[np.ndarray]:
    """A static dark scene (a blocky pattern) with fresh Gaussian noise in every frame."""
    rng = np.random.default_rng(seed)
    base = np.kron(rng.integers(8, 60, (height // 8 + 1, width // 8 + 1, 3)),
                   np.ones((8, 8, 1)))[:height, :width]
    return [np.clip(base + rng.normal(0, noise, base.shape), 0, 255).round().astype(np.uint8)
            for _ in range(count)]


def _subtitle_packet(stream, codec: str, text: bytes, start_ms: int, duration_ms: int):
    payload = text if codec == 'subrip' else len(text).to_bytes(2, 'big') + text
    packet = av.Packet(payload)
    packet.stream = stream
    packet.time_base = stream.time_base
    packet.pts = packet.dts = start_ms
    packet.duration = duration_ms
    return packet


def make_clip(path: str, frames: Optional[Sequence[np.ndarray]] = None,
              times_ms: Sequence[int] = VFR_TIMES_MS, rotation: int = 90,
              audio_codec: Optional[str] = 'aac', audio_seconds: float = 0.6,
              subtitle: bool = True, full_range: bool = False, codec: str = 'libx264') -> None:
    """Write an H.264 clip (container by extension) with the given frames at ``times_ms``.

    Args:
        path (str): ``.mp4``, ``.mov`` or ``.mkv``.
        frames: RGB uint8 frames (default: :func:`dark_frames` of ``len(times_ms)``).
        times_ms: Presentation time of each frame in ms.
        rotation (int): Display rotation, counter-clockwise degrees (0: none).
        audio_codec (str, optional): A stereo 48 kHz sine track of ``audio_seconds``; None:
            no audio.
        subtitle (bool): Add one subtitle cue.
        full_range (bool): Full-range (JPEG) YUV instead of limited.
    """
    frames = dark_frames(len(times_ms)) if frames is None else frames
    ext = path.rsplit('.', 1)[-1]
    out = av.open(path, 'w')
    out.metadata['creation_time'] = CREATION_TIME
    out.metadata['title'] = 'night walk'
    video = out.add_stream(codec, rate=25, options={'crf': '20', 'preset': 'ultrafast'}
                           if codec == 'libx264' else {})
    video.height, video.width = frames[0].shape[:2]
    video.pix_fmt = 'yuv420p'
    millisecond = Fraction(1, 1000)
    video.time_base = millisecond
    context = video.codec_context
    context.time_base = millisecond  # else frame times are rounded to 1/25 s
    context.colorspace, context.color_primaries, context.color_trc = 1, 1, 1
    context.color_range = 2 if full_range else 1
    if rotation:
        video.set_display_rotation(rotation)
    audio = None
    if audio_codec:
        audio = out.add_stream(audio_codec, rate=48000)
        audio.layout = 'stereo'
        audio.metadata['language'] = 'eng'
    cue = None
    if subtitle:
        cue = out.add_mux_stream(SUBTITLE_CODECS[ext])
        cue.time_base = millisecond
    for rgb, ms in zip(frames, times_ms):
        frame = av.VideoFrame.from_ndarray(rgb, format='rgb24').reformat(
            format='yuv420p', dst_colorspace=1, dst_color_range=2 if full_range else 1)
        # (not video.time_base: the muxer changes it when it writes the header)
        frame.pts, frame.time_base = int(ms), millisecond
        out.mux(video.encode(frame))
    out.mux(video.encode(None))
    if audio is not None:
        samples = int(48000 * audio_seconds)
        tone = (0.1 * np.sin(2 * np.pi * 440 * np.arange(samples) / 48000)).astype(np.float32)
        step = 1024
        for start in range(0, samples, step):
            chunk = tone[start:start + step]
            frame = av.AudioFrame.from_ndarray(np.stack([chunk, chunk]), format='fltp',
                                               layout='stereo')
            frame.sample_rate, frame.pts, frame.time_base = 48000, start, Fraction(1, 48000)
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    if cue is not None:
        out.mux(_subtitle_packet(cue, SUBTITLE_CODECS[ext], b'hello night', 100, 300))
    out.close()


def probe(path: str) -> Dict:
    """What a round trip must keep: per stream type the codec and duration (s), the video's
    frame times (s), rotation, colour range, the decoded frames, and the container metadata."""
    with av.open(path) as container:
        info: Dict = {'format': container.format.name, 'metadata': dict(container.metadata)}
        for stream in container.streams:
            seconds = float(stream.duration * stream.time_base) if stream.duration else None
            info.setdefault(stream.type, []).append(
                {'codec': stream.codec_context.name if stream.codec_context else None,
                 'duration': seconds, 'language': stream.metadata.get('language')})
        frames = list(container.decode(video=0))
        info['times'] = [float(f.pts * f.time_base) for f in frames]
        info['rotation'] = frames[0].rotation if frames else None
        info['color_range'] = int(frames[0].color_range) if frames else None
        info['rgb'] = np.stack([f.to_ndarray(format='rgb24') for f in frames]) if frames \
            else None
    with av.open(path) as container:  # decoded audio length: what a player plays
        if container.streams.audio:
            samples = sum(f.samples for f in container.decode(audio=0))
            info['audio_seconds'] = samples / container.streams.audio[0].sample_rate
    return info
