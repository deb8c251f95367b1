"""Video enhancement with OpenCV: streaming decode -> batched enhance -> encode.

Frames never touch the disk: a reader thread decodes batches ahead, the main thread enhances,
a writer thread encodes (OpenCV releases the GIL in both), so decoding and encoding overlap with
the network. The output keeps the source's frame size and rate and is written to a temporary
file that is renamed into place when complete.
"""
import os.path as osp
import queue
import threading
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional

import cv2
import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from mmlowlight.models.enhancers import SGZEnhancer, recurrent_enhance
from mmlowlight.models.enhancers.rie_inplace import recurrent_enhance_
from .image_io import atomic_output
from .inference import from_model_output, to_model_input

__all__ = ['VIDEO_EXTENSIONS', 'VideoSummary', 'FactorSmoother', 'enhance_video',
           'mean_frame_change']

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv')
#: Codecs that this OpenCV build's FFmpeg writes into each container (no H.264 in the wheels).
DEFAULT_FOURCC = {'.avi': 'XVID', '.mp4': 'mp4v', '.mov': 'mp4v', '.mkv': 'mp4v'}
_END = object()


@dataclass
class VideoSummary:
    """What :func:`enhance_video` wrote: frame count, rate and the output frame size."""

    frames: int
    fps: float
    width: int
    height: int


class FactorSmoother:
    """Exponential moving average of the factor map across frames, against flicker.

    ``r_t <- alpha * r_{t-1} + (1 - alpha) * r_t`` (with the smoothed ``r_{t-1}``). The factor
    depends on the frame's content, so sensor noise makes it jitter from frame to frame; the
    average damps that. It also lags behind real changes (about ``1 / (1 - alpha)`` frames), so
    keep alpha moderate for moving scenes and call :meth:`reset` at cuts.

    Args:
        alpha (float): Weight of the past, in [0, 1). 0 disables smoothing.
    """

    def __init__(self, alpha: float) -> None:
        if not 0 <= alpha < 1:
            raise ValueError(f'temporal smoothing alpha must be in [0, 1), got {alpha}')
        self.alpha = alpha
        self._previous: Optional[Tensor] = None

    def reset(self) -> None:
        """Forget the history (e.g. at a scene cut)."""
        self._previous = None

    def __call__(self, factor: Tensor) -> Tensor:
        """Smooth a batch of consecutive frames' factor maps (N, C, H, W) in place."""
        for frame in factor:
            if self._previous is not None and self._previous.shape == frame.shape:
                frame.mul_(1 - self.alpha).add_(self._previous, alpha=self.alpha)
            self._previous = frame
        return factor


def mean_frame_change(frames: np.ndarray) -> float:
    """Flicker figure: mean absolute change between consecutive frames (grey levels).

    Args:
        frames (np.ndarray): T x H x W x C frames, T >= 2.
    """
    frames = np.asarray(frames, dtype=np.float32)
    return float(np.abs(np.diff(frames, axis=0)).mean())


def _enhance_frames(model: SGZEnhancer, bgr: np.ndarray,
                    smoother: Optional[FactorSmoother]) -> np.ndarray:
    """N x H x W x 3 uint8 BGR frames -> enhanced BGR frames.

    ``SGZEnhancer.forward`` split in two, so that the factor maps can be smoothed in between;
    x is a fresh tensor of ours, so the RIE runs in place on it (no copy, unlike forward).
    """
    device = next(model.parameters()).device
    with torch.inference_mode():
        x = to_model_input(bgr, device, bgr=True)
        factor = model.estimate_factor(x).float()
        if smoother is not None:
            factor = smoother(factor)
        if model.shared_factor:
            # to_model_input gives channels-last x; estimate_factor keeps that layout, so this
            # is normally free (the in-place RIE needs both in one layout).
            factor = factor.contiguous(memory_format=torch.channels_last)
            out = recurrent_enhance_(x, factor, model.num_iterations)
        else:
            out = recurrent_enhance(x, factor, model.num_iterations)
        return from_model_output(out, bgr=True)


def _read_batches(capture: cv2.VideoCapture, batch_size: int) -> Iterator[List[np.ndarray]]:
    batch: List[np.ndarray] = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        batch.append(frame)
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _run_in_thread(target: Callable[[], None], errors: list) -> threading.Thread:

    def guarded() -> None:
        try:
            target()
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)

    thread = threading.Thread(target=guarded, daemon=True)
    thread.start()
    return thread


def enhance_video(model: SGZEnhancer,
                  src: str,
                  dst: str,
                  batch_size: int = 4,
                  temporal_smoothing: float = 0.0,
                  side_by_side: bool = False,
                  fourcc: Optional[str] = None,
                  progress: bool = True) -> VideoSummary:
    """Enhance a video file frame by frame into ``dst``.

    Args:
        model (SGZEnhancer): From :func:`~mmlowlight.apis.init_enhancer`.
        src (str): Input video (anything this OpenCV build decodes: mp4, avi, mov, mkv, ...).
        dst (str): Output path; its extension picks the container.
        batch_size (int): Frames per forward pass. Defaults to 4.
        temporal_smoothing (float): ``alpha`` of :class:`FactorSmoother`; 0 (default) = off.
        side_by_side (bool): Write input | enhanced, twice as wide. Defaults to False.
        fourcc (str, optional): Codec; default by container (:data:`DEFAULT_FOURCC`).
        progress (bool): Show a progress bar counted in frames. Defaults to True.

    Returns:
        VideoSummary: Frames written, frame rate and output size.

    Raises:
        ValueError: ``src`` cannot be opened or has no decodable frame, or no writer for
            ``dst`` is available.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    smoother = FactorSmoother(temporal_smoothing) if temporal_smoothing > 0 else None
    capture = cv2.VideoCapture(str(src))
    if not capture.isOpened():
        raise ValueError(f'{src}: OpenCV cannot open this video')
    try:
        fps = capture.get(cv2.CAP_PROP_FPS)
        if not fps > 0:
            raise ValueError(f'{src}: the video reports no frame rate')
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        ext = osp.splitext(dst)[1].lower()
        code = fourcc or DEFAULT_FOURCC.get(ext, 'mp4v')
        out_size = (2 * width if side_by_side else width, height)
        decoded: 'queue.Queue' = queue.Queue(maxsize=2)
        encoded: 'queue.Queue' = queue.Queue(maxsize=2)
        errors: list = []
        with atomic_output(str(dst)) as temporary:
            writer = cv2.VideoWriter(temporary, cv2.VideoWriter_fourcc(*code), fps, out_size)
            if not writer.isOpened():
                raise ValueError(f'{dst}: OpenCV cannot write {code!r} into {ext!r} files')

            def read() -> None:
                try:
                    for batch in _read_batches(capture, batch_size):
                        decoded.put(batch)
                finally:
                    decoded.put(_END)

            def write() -> None:
                # Keeps draining after a failure so that the main thread never blocks on put().
                while (frames := encoded.get()) is not _END:
                    try:
                        for frame in frames:
                            if not errors:
                                writer.write(frame)
                    except Exception as exc:  # re-raised in the main thread
                        errors.append(exc)

            threads = [_run_in_thread(read, errors), _run_in_thread(write, errors)]
            count, reader_done = 0, False
            try:
                with tqdm(total=total, unit='frame', desc=osp.basename(str(src)),
                          disable=not progress, leave=False) as bar:
                    while True:
                        batch = decoded.get()
                        if batch is _END:
                            reader_done = True
                            break
                        bgr = np.stack(batch)
                        if bgr.shape[1:3] != (height, width):
                            raise ValueError(f'{src}: frame size {bgr.shape[2]}x{bgr.shape[1]} '
                                             f'differs from the header\'s {width}x{height}')
                        out = _enhance_frames(model, bgr, smoother)
                        if side_by_side:
                            out = np.concatenate([bgr, out], axis=2)
                        encoded.put(out)
                        count += len(batch)
                        bar.update(len(batch))
            finally:
                encoded.put(_END)
                while not reader_done:  # unblock the reader if we stopped early
                    reader_done = decoded.get() is _END
                for thread in threads:
                    thread.join()
                writer.release()
            if errors:
                raise errors[0]
            if count == 0:
                raise ValueError(f'{src}: no decodable frame')
    finally:
        capture.release()
    return VideoSummary(count, fps, *out_size)
