"""Enhance a video file: decode -> temporal denoise -> enhance -> encode, overlapped in threads.

Three stages run at once, joined by short queues: a reader thread demuxes and decodes (FFmpeg
frame threads), denoises the dark YUV frame over time
(:class:`~mmlowlight.models.video_denoisers.MotionAdaptiveTemporalDenoiser`) and converts it to
RGB; the calling thread enhances batches of frames (:func:`~mmlowlight.apis.enhance_batch`,
the fast CPU path where it applies); a writer thread converts back to YUV 4:2:0
(:func:`~mmlowlight.ops.rgb_to_yuv420`), encodes (H.264 by default, FFmpeg's own
threads) and muxes, copying the audio, subtitle and data packets as they come. PyAV, numba and
torch release the GIL in their heavy calls, so the stages share the cores.

Nothing is lost on the way (see :mod:`.video_io`), and the output is written to a temporary
file renamed into place only when complete.
"""
import itertools
import os.path as osp
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, List, Mapping, Optional, Union

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from tqdm import tqdm

from mmlowlight.models.enhancers import SGZEnhancer
from mmlowlight.models.video_denoisers import MotionAdaptiveTemporalDenoiser
from mmlowlight.ops import rgb_to_yuv420, yuv420_to_rgb
from mmlowlight.registry import MODELS
from mmlowlight.utils.fileio import atomic_output
from .inference import enhance_batch
from .video_io import (Item, VideoReader, VideoReadError, VideoWriteError, VideoWriter,
                       frame_planes, is_full_range, to_yuv420)

__all__ = ['VIDEO_EXTENSIONS', 'VideoSummary', 'enhance_video', 'mean_frame_change',
           'build_temporal_denoiser', 'NightLevelSmoother']

#: Extensions treated as videos by the batch tools (FFmpeg reads many more; pass those
#: files to :func:`enhance_video` directly).
VIDEO_EXTENSIONS = ('.mp4', '.mov', '.m4v', '.mkv', '.webm', '.avi', '.mts', '.m2ts', '.ts',
                    '.3gp', '.wmv', '.flv', '.mpg', '.mpeg', '.ogv', '.vob')
_QUEUE_DEPTH = 3
_POLL_S = 0.1

DenoiserLike = Union[None, bool, Mapping, MotionAdaptiveTemporalDenoiser]


@dataclass
class VideoSummary:
    """What :func:`enhance_video` wrote.

    Attributes:
        frames (int): Frames written.
        fps (float): The source's average frame rate.
        width, height (int): Output frame size.
        seconds (float): Wall time of the whole run.
        streams (list[str]): What happened to each stream besides the picture (copied,
            re-encoded, left out) and any other change (e.g. a crop to even size).
        scene_cuts (int): Scene cuts at which the temporal denoiser restarted.
        codec (str): The video encoder.
    """

    frames: int
    fps: float
    width: int
    height: int
    seconds: float = 0.0
    streams: List[str] = field(default_factory=list)
    scene_cuts: int = 0
    codec: str = ''

    @property
    def speed(self) -> float:
        """Average frames per second of the run."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def format(self) -> str:
        """One line: frames, speed, output, and the streams kept."""
        kept = '; '.join(self.streams) if self.streams else 'no other streams'
        return (f'{self.frames} frames written ({self.width}x{self.height} {self.codec}) in '
                f'{self.seconds:.1f} s, {self.speed:.1f} frames/s; {kept}')


def mean_frame_change(frames: np.ndarray) -> float:
    """Flicker figure: mean absolute change between consecutive frames (grey levels).

    Args:
        frames (np.ndarray): T x H x W (x C) frames, T >= 2.
    """
    frames = np.asarray(frames, dtype=np.float32)
    return float(np.abs(np.diff(frames, axis=0)).mean())


class NightLevelSmoother:
    """Lets the night level's weight (``SGZEnhancer.scene_light``) of consecutive video frames
    change by at most ``max_step`` per frame.

    The weight follows the lamps in the frame: in a pan that brings a lamp in or takes it out,
    it can go from 0 to 1 within two or three frames, and the exposure with it (with a night
    level of 0.26 the level moves between 0.41 and 0.26: up to 15 grey levels from one frame to
    the next, measured on 256 px crops of the darkened night photos panned by 8 px per frame,
    against at most 5 without the night level). Limited to 0.05 per frame, a full swing takes
    20 frames (under a second at 24-30 fps), as a camera's auto exposure eases in.

    Args:
        max_step (float): Largest change per frame, > 0. Defaults to 0.05.
    """

    def __init__(self, max_step: float = 0.05) -> None:
        if not max_step > 0:
            raise ValueError(f'max_step must be > 0, got {max_step!r}')
        self.max_step = float(max_step)
        self.previous: Optional[float] = None

    def __call__(self, weights: np.ndarray) -> np.ndarray:
        """The weights (N,) of the next N frames, each within ``max_step`` of the one before
        (the first frame of the video keeps its own)."""
        out = np.empty(len(weights), np.float32)
        for i, weight in enumerate(np.asarray(weights, np.float32)):
            if self.previous is not None:
                weight = self.previous + np.clip(weight - self.previous, -self.max_step,
                                                 self.max_step)
            out[i] = self.previous = float(weight)
        return out


def build_temporal_denoiser(denoiser: DenoiserLike) -> Optional[MotionAdaptiveTemporalDenoiser]:
    """None or True: the default denoiser; False: none; a config dict: built through the
    registry; a module: used as it is."""
    if denoiser is False:
        return None
    if denoiser is None or denoiser is True:
        return MotionAdaptiveTemporalDenoiser()
    if isinstance(denoiser, Mapping):
        cfg = dict(denoiser)
        cfg.setdefault('type', 'MotionAdaptiveTemporalDenoiser')
        cfg.setdefault('_scope_', 'mmlowlight')  # whatever default scope the caller has set
        return MODELS.build(cfg)
    return denoiser


def _new_frame(width: int, height: int, like: av.VideoFrame) -> av.VideoFrame:
    frame = av.VideoFrame(width, height, 'yuv420p')
    frame.colorspace, frame.color_range = like.colorspace, like.color_range
    frame.color_primaries, frame.color_trc = like.color_primaries, like.color_trc
    return frame


class _Stop(Exception):
    """Another stage failed; this one stops quietly."""


class _Pipeline:
    """Bounded queues between threads that give up when any stage has failed."""

    def __init__(self) -> None:
        self.failed = threading.Event()
        self.errors: List[BaseException] = []

    def put(self, q: 'queue.Queue', item: Any) -> None:
        while True:
            if self.failed.is_set():
                raise _Stop
            try:
                q.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def get(self, q: 'queue.Queue') -> Any:
        while True:
            if self.failed.is_set():
                raise _Stop
            try:
                return q.get(timeout=_POLL_S)
            except queue.Empty:
                continue

    def run(self, target: Callable[[], None]) -> threading.Thread:
        def guarded() -> None:
            try:
                target()
            except _Stop:
                pass
            except BaseException as exc:  # re-raised in the calling thread
                self.fail(exc)

        thread = threading.Thread(target=guarded, daemon=True)
        thread.start()
        return thread

    def fail(self, exc: BaseException) -> None:
        self.errors.append(exc)
        self.failed.set()


_END = object()


class _Decoder:
    """Reader stage: frames -> (pts, denoised RGB, raw RGB for side by side) batches."""

    def __init__(self, items: Iterator[Item],
                 denoiser: Optional[MotionAdaptiveTemporalDenoiser], batch_size: int,
                 side_by_side: bool) -> None:
        self.items, self.denoiser = items, denoiser
        self.batch_size, self.side_by_side = batch_size, side_by_side
        self._to_420 = VideoReformatter()  # for sources not in 8-bit 4:2:0

    def prepare(self, frame: av.VideoFrame):
        full_range, colorspace = is_full_range(frame), int(frame.colorspace)
        frame = to_yuv420(frame, self._to_420)
        raw = yuv420_to_rgb(frame_planes(frame), None, colorspace, full_range) \
            if self.side_by_side else None
        if self.denoiser is not None:
            clean = _new_frame(frame.width, frame.height, frame)
            self.denoiser(frame_planes(frame), frame_planes(clean))
            frame = clean
        return yuv420_to_rgb(frame_planes(frame), None, colorspace, full_range), raw

    def run(self, pipeline: _Pipeline, out: 'queue.Queue') -> None:
        batch: List[tuple] = []
        for item in self.items:
            if isinstance(item, av.Packet):
                pipeline.put(out, item)
                continue
            rgb, raw = self.prepare(item)
            batch.append((item.pts, rgb, raw))
            if len(batch) == self.batch_size:
                pipeline.put(out, batch)
                batch = []
        if batch:
            pipeline.put(out, batch)
        pipeline.put(out, _END)


class _Encoder:
    """Writer stage: enhanced RGB -> YUV 4:2:0 frames -> encoder; packets copied."""

    def __init__(self, writer: VideoWriter, template: av.VideoFrame, bar: tqdm) -> None:
        self.writer, self.template, self.bar = writer, template, bar

    def run(self, pipeline: _Pipeline, inbox: 'queue.Queue') -> None:
        width, height = self.writer.video.width, self.writer.video.height
        colorspace, full_range = self.writer.colour
        while (item := pipeline.get(inbox)) is not _END:
            if isinstance(item, av.Packet):
                self.writer.write_packet(item)
                continue
            pts_list, frames = item
            for pts, rgb in zip(pts_list, frames):
                frame = _new_frame(width, height, self.template)
                rgb_to_yuv420(rgb[:height, :width], frame_planes(frame), colorspace, full_range)
                self.writer.write_frame(frame, pts)
                self.bar.update(1)


def enhance_video(model: SGZEnhancer,
                  src: str,
                  dst: str,
                  batch_size: int = 1,
                  temporal_denoiser: DenoiserLike = None,
                  side_by_side: bool = False,
                  codec: Optional[str] = None,
                  crf: Optional[int] = None,
                  preset: Optional[str] = None,
                  progress: bool = True) -> VideoSummary:
    """Enhance a video file into ``dst`` (H.264 by default, VP9 in WebM), keeping every other
    stream.

    Args:
        model (SGZEnhancer): From :func:`~mmlowlight.apis.init_enhancer`.
        src (str): Input video: anything FFmpeg reads.
        dst (str): Output path; its extension picks the container (mp4, mov, mkv, ...).
        batch_size (int): Frames per :func:`enhance_batch` call. Defaults to 1 (lowest
            latency; larger batches do not pay on a CPU).
        temporal_denoiser: None (default) or True: the default
            :class:`~mmlowlight.models.video_denoisers.MotionAdaptiveTemporalDenoiser`;
            False: off; a config dict (registry) or a module instance.
        side_by_side (bool): Write input | enhanced, twice as wide. Defaults to False.
        codec (str, optional): Video encoder (``libx264``, ``libx265``, ``libvpx-vp9``,
            ``libsvtav1``, ...). Defaults to the container's: ``'libx264'``, ``'libvpx-vp9'``
            for WebM (which cannot hold H.264).
        crf (int, optional): Constant rate factor; default 18 for x264/x265, 20 for VP9.
        preset (str, optional): Encoder preset; default ``'veryfast'`` for x264/x265.
        progress (bool): Show a progress bar (frames, frames/s, ETA). Defaults to True.

    Returns:
        VideoSummary: Frames written, sizes, speed and what happened to the other streams.

    Raises:
        VideoReadError: ``src`` is not a readable video, has no video stream or no frame, or
            is truncated or damaged.
        VideoWriteError: ``dst`` cannot be written.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    start = time.perf_counter()
    denoiser = build_temporal_denoiser(temporal_denoiser)
    if denoiser is not None:
        denoiser.reset()
    reader = VideoReader(str(src))
    try:
        try:
            with atomic_output(str(dst)) as temporary:
                summary = _run(model, reader, denoiser, str(src), temporary, str(dst),
                               batch_size, side_by_side, codec, crf, preset, progress)
        except OSError as exc:
            if isinstance(exc, VideoWriteError):
                raise
            raise VideoWriteError(f'{dst}: cannot write ({exc.strerror or exc})') from exc
    finally:
        reader.close()
    summary.seconds = time.perf_counter() - start
    return summary


def _run(model: SGZEnhancer, reader: VideoReader,
         denoiser: Optional[MotionAdaptiveTemporalDenoiser], src: str, temporary: str,
         dst: str, batch_size: int, side_by_side: bool, codec: Optional[str],
         crf: Optional[int], preset: Optional[str], progress: bool) -> VideoSummary:
    items = reader.items()
    # The first picture sets up the encoder (size, colour tags, rotation); the packets of other
    # streams before it wait with it.
    head: List[Item] = []
    for item in items:
        head.append(item)
        if not isinstance(item, av.Packet):
            break
    first = head[-1] if head and not isinstance(head[-1], av.Packet) else None
    if first is None:
        raise VideoReadError(f'{src}: has no video frames')
    # H.264 4:2:0 needs even sizes: an odd last row / column is cut off (and said so).
    width, height = first.width - first.width % 2, first.height - first.height % 2
    notes = [] if (width, height) == (first.width, first.height) else [
        f'cropped {first.width}x{first.height} to {width}x{height} (4:2:0 needs even sizes)']
    out_width = 2 * width if side_by_side else width
    writer = VideoWriter(temporary, reader, first, out_width, height, codec=codec, crf=crf,
                         preset=preset, display_path=dst)
    night_level = NightLevelSmoother()
    pipeline = _Pipeline()
    decoded: 'queue.Queue' = queue.Queue(_QUEUE_DEPTH)
    enhanced: 'queue.Queue' = queue.Queue(_QUEUE_DEPTH)
    decoder = _Decoder(itertools.chain(head, items), denoiser, batch_size, side_by_side)
    with tqdm(total=reader.expected_frames, unit='frame', desc=osp.basename(src),
              disable=not progress, dynamic_ncols=True) as bar:
        encoder = _Encoder(writer, first, bar)
        threads = [pipeline.run(lambda: decoder.run(pipeline, decoded)),
                   pipeline.run(lambda: encoder.run(pipeline, enhanced))]
        try:
            while (item := pipeline.get(decoded)) is not _END:
                if isinstance(item, av.Packet):
                    pipeline.put(enhanced, item)
                    continue
                pts_list, frames, raws = zip(*item)
                out = enhance_batch(model, np.stack(frames) if len(frames) > 1
                                    else frames[0][None], light_transform=night_level)
                if side_by_side:
                    out = np.concatenate([np.stack(raws), out], axis=2)
                pipeline.put(enhanced, (pts_list, out[:, :height, :out_width]))
            pipeline.put(enhanced, _END)
        except _Stop:
            pass
        except BaseException as exc:
            pipeline.fail(exc)
        for thread in threads:
            thread.join()
        if not pipeline.errors:  # the container's count was an estimate: end at 100 %
            bar.total = bar.n
            bar.refresh()
    try:
        if pipeline.errors:
            raise pipeline.errors[0]
        _check_complete(reader, src)
    except BaseException:
        writer.abort()
        raise
    writer.close()
    return VideoSummary(writer.frames, float(reader.video.average_rate or 0), out_width, height,
                        streams=writer.notes + notes,
                        scene_cuts=denoiser.scene_cuts if denoiser is not None else 0,
                        codec=writer.codec)


def _check_complete(reader: VideoReader, src: str) -> None:
    """A file that ends before its header says it does was cut off (a copy that stopped, a
    camera that lost power): say so instead of writing a shorter video."""
    if reader.video.frames and reader.decoded < reader.video.frames:
        raise VideoReadError(f'{src}: truncated: {reader.decoded} of the '
                             f'{reader.video.frames} frames its header lists are readable')
    duration = reader.duration
    rate = float(reader.video.average_rate or reader.video.guessed_rate or 0)
    if duration and rate and reader.decoded < 0.9 * duration * rate - 2:
        raise VideoReadError(f'{src}: truncated: {reader.decoded} frames readable, its header '
                             f'gives {duration:.2f} s at {rate:.3g} frames/s')
