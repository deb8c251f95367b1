"""Enhance many files: image files, folders (tree mirrored), globs and videos; resumable.

An output that exists is skipped unless ``overwrite`` (every output is written to a temporary
file and renamed, so an existing output is always complete and an interrupted run resumes where
it stopped). A file that cannot be read or written is reported with its path and the reason and
the batch goes on. Decoding runs ahead and encoding behind the network in threads.
"""
import glob
import os
import os.path as osp
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Deque, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from tqdm import tqdm

from mmlowlight.models.enhancers import SGZEnhancer
from .image_io import IMAGE_EXTENSIONS, DecodedImage, atomic_write_bytes, encode_image, read_image
from .inference import enhance_batch
from .video import VIDEO_EXTENSIONS, DenoiserLike, VideoSummary, enhance_video

__all__ = ['FileTask', 'BatchReport', 'collect_tasks', 'enhance_files']

MEDIA_EXTENSIONS = IMAGE_EXTENSIONS + VIDEO_EXTENSIONS


@dataclass
class FileTask:
    """One input file and where its output goes. ``kind`` is ``'image'`` or ``'video'``."""

    src: str
    dst: str
    kind: str


@dataclass
class BatchReport:
    """Outcome of a run: outputs written, outputs already present, failures with reasons,
    files in the input folders that were not images or videos, and what each video run did.

    ``matched`` counts the image and video files the inputs resolved to (0: nothing to do,
    which is an error: a mistyped folder or pattern should not look like success)."""

    done: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    failed: List[Tuple[str, str]] = field(default_factory=list)
    ignored: List[str] = field(default_factory=list)
    videos: List[Tuple[str, VideoSummary]] = field(default_factory=list)
    matched: int = 0

    @property
    def exit_code(self) -> int:
        """0 when something matched and nothing failed, 1 otherwise."""
        return 1 if self.failed or not self.matched else 0

    def format(self, max_listed: int = 5) -> str:
        """A human-readable summary: counts, every failure with its reason, a line per video
        (frames, speed, streams kept), ignored files."""
        lines = ['nothing matched: the inputs hold no image or video file'] \
            if not self.matched else []
        skipped = f'skipped {len(self.skipped)}' + (
            ' (output exists; --overwrite redoes them)' if self.skipped else '')
        lines.append(f'done {len(self.done)}, {skipped}, failed {len(self.failed)}')
        lines += [f'  FAILED {path}: {reason}' for path, reason in self.failed]
        lines += [f'  {path}: {summary.format()}' for path, summary in self.videos]
        if self.ignored:
            listed = ', '.join(self.ignored[:max_listed])
            more = f' and {len(self.ignored) - max_listed} more' \
                if len(self.ignored) > max_listed else ''
            lines.append(f'ignored {len(self.ignored)} files that are neither images nor '
                         f'videos by extension: {listed}{more}')
        return '\n'.join(lines)


def _kind(path: str) -> str:
    return 'video' if osp.splitext(path)[1].lower() in VIDEO_EXTENSIONS else 'image'


def _walk(root: str, skip_dir: str, report: BatchReport) -> Iterator[str]:
    """Media files under ``root`` in sorted order; hidden entries and ``skip_dir`` (the output
    folder, when inside the input) are left out."""
    for folder, dirs, files in os.walk(root):
        kept = []
        for name in sorted(dirs):
            path = osp.join(folder, name)
            if name.startswith('.') or osp.realpath(path) == skip_dir:
                continue
            if osp.splitext(name)[1].lower() in MEDIA_EXTENSIONS:
                report.failed.append((path, 'is a directory, not an image or video file'))
                continue
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            if name.startswith('.'):
                continue
            path = osp.join(folder, name)
            if osp.splitext(name)[1].lower() in MEDIA_EXTENSIONS:
                yield path
            else:
                report.ignored.append(path)


def _static_prefix(pattern: str) -> str:
    """The leading directories of a glob pattern that contain no wildcard."""
    parts = pattern.split(os.sep)
    static = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        static.append(part)
    return os.sep.join(static) if static else '.'


def _sources(item: str, skip_dir: str, report: BatchReport) -> Iterator[Tuple[str, str]]:
    """(file, path relative to the output folder) for one input argument."""
    if osp.isdir(item):
        found = False
        for path in _walk(item, skip_dir, report):
            found = True
            yield path, osp.relpath(path, item)
        if not found:
            report.failed.append((item, 'the folder holds no image or video file'))
    elif osp.isfile(item):
        yield item, osp.basename(item)
    elif glob.has_magic(item):
        matches = sorted(glob.glob(item, recursive=True))
        if not matches:
            report.failed.append((item, 'the pattern matches no file'))
        elif not any(osp.isdir(m) or osp.splitext(m)[1].lower() in MEDIA_EXTENSIONS
                     for m in matches):
            report.failed.append((item, f'the pattern matches {len(matches)} files, none of '
                                        'them an image or video'))
        root = _static_prefix(item)
        for match in matches:
            if osp.isdir(match):
                for path in _walk(match, skip_dir, report):
                    yield path, osp.relpath(path, root)
            elif osp.isfile(match) and not osp.basename(match).startswith('.'):
                if osp.splitext(match)[1].lower() in MEDIA_EXTENSIONS:
                    yield match, osp.relpath(match, root)
                else:  # as in folders: a pattern picks media files
                    report.ignored.append(match)
    else:
        report.failed.append((item, 'no such file or directory'))


def collect_tasks(inputs: Sequence[str], out_dir: str, ext: Optional[str] = None
                  ) -> Tuple[List[FileTask], BatchReport]:
    """Resolve the inputs into tasks and a report holding the problems found on the way.

    Args:
        inputs (Sequence[str]): Files, folders (searched recursively; the tree is mirrored
            under ``out_dir``) and glob patterns (``**`` allowed; mirrored from the pattern's
            first wildcard).
        out_dir (str): Output folder.
        ext (str, optional): Image output extension (``'png'`` or ``'.png'``); by default each
            image keeps its own. Videos keep theirs.

    Returns:
        tuple[list[FileTask], BatchReport]: The tasks, and a report with the failures
        (missing inputs, directories named like media files, colliding outputs) and the
        ignored non-media files.
    """
    report = BatchReport()
    if ext is not None and not ext.startswith('.'):
        ext = '.' + ext
    if ext is not None and ext.lower() not in IMAGE_EXTENSIONS:
        raise ValueError(f'--ext {ext!r} is not one of {IMAGE_EXTENSIONS}')
    skip_dir = osp.realpath(out_dir)
    tasks: List[FileTask] = []
    claimed: Dict[str, str] = {}
    for item in inputs:
        for src, rel in _sources(item, skip_dir, report):
            kind = _kind(src)
            if kind == 'image' and ext is not None:
                rel = osp.splitext(rel)[0] + ext
            dst = osp.join(out_dir, rel)
            key = osp.realpath(dst)
            if key == osp.realpath(src):
                report.failed.append((src, f'the output {dst} would overwrite the input'))
            elif key in claimed:
                if claimed[key] != osp.realpath(src):
                    report.failed.append(
                        (src, f'its output {dst} is already the output of {claimed[key]}'))
            else:
                claimed[key] = osp.realpath(src)
                tasks.append(FileTask(src, dst, kind))
    report.matched = len(tasks)
    return tasks, report


def _side_by_side(original: DecodedImage, enhanced: np.ndarray) -> DecodedImage:
    alpha = None if original.alpha is None else np.concatenate([original.alpha] * 2, axis=1)
    return DecodedImage(np.concatenate([original.rgb, enhanced], axis=1), alpha,
                        original.grayscale, original.format)


def _encode_and_write(task: FileTask, image: DecodedImage) -> None:
    atomic_write_bytes(task.dst, encode_image(image, osp.splitext(task.dst)[1]))


def _enhance_images(model: SGZEnhancer, tasks: List[FileTask], report: BatchReport,
                    batch_size: int, side_by_side: bool, bar: tqdm) -> None:
    """Decode ahead and encode behind (a thread each), enhance equal-size runs as batches."""
    with ThreadPoolExecutor(1) as readers, ThreadPoolExecutor(1) as writers:
        pending: Deque[Tuple[FileTask, Future]] = deque()
        writes: Deque[Tuple[FileTask, Future]] = deque()
        queue_iter = iter(tasks)

        def refill() -> None:
            while len(pending) < 2 * batch_size:
                task = next(queue_iter, None)
                if task is None:
                    return
                pending.append((task, readers.submit(read_image, task.src)))

        def collect_writes(block: bool) -> None:
            while writes and (block or writes[0][1].done()):
                task, future = writes.popleft()
                try:
                    future.result()
                    report.done.append(task.dst)
                except Exception as exc:
                    report.failed.append((task.src, f'cannot write {task.dst}: {exc}'))
                bar.update(1)

        refill()
        while pending:
            batch: List[Tuple[FileTask, DecodedImage]] = []
            while pending and len(batch) < batch_size:
                task, future = pending[0]
                try:
                    image = future.result()
                except Exception as exc:
                    pending.popleft()
                    report.failed.append((task.src, _reason(task.src, exc)))
                    bar.update(1)
                    refill()
                    continue
                if batch and (image.rgb.shape, image.rgb.dtype) != (
                        batch[0][1].rgb.shape, batch[0][1].rgb.dtype):
                    break
                pending.popleft()
                batch.append((task, image))
                refill()
            if not batch:
                continue
            try:
                enhanced = enhance_batch(model, np.stack([image.rgb for _, image in batch]))
            except (RuntimeError, ValueError) as exc:  # e.g. out of memory: report, go on
                report.failed.extend((task.src, f'enhancement failed: {exc}')
                                     for task, _ in batch)
                bar.update(len(batch))
                continue
            for (task, image), result in zip(batch, enhanced):
                out = _side_by_side(image, result) if side_by_side else DecodedImage(
                    result, image.alpha, image.grayscale, image.format)
                writes.append((task, writers.submit(_encode_and_write, task, out)))
            collect_writes(block=False)
        collect_writes(block=True)


def enhance_files(model: SGZEnhancer,
                  inputs: Sequence[str],
                  out_dir: str,
                  batch_size: int = 4,
                  ext: Optional[str] = None,
                  overwrite: bool = False,
                  side_by_side: bool = False,
                  temporal_denoiser: DenoiserLike = None,
                  codec: Optional[str] = None,
                  crf: Optional[int] = None,
                  preset: Optional[str] = None,
                  progress: bool = True) -> BatchReport:
    """Enhance image files, folders, globs and videos into ``out_dir``.

    Images keep their size, mode (grey, RGB, alpha), bit depth (16-bit PNG/TIFF stay 16-bit)
    and format (JPEG at quality 95) unless ``ext`` says otherwise; EXIF orientation is applied.

    Args:
        model (SGZEnhancer): From :func:`~mmlowlight.apis.init_enhancer`.
        inputs (Sequence[str]): See :func:`collect_tasks`.
        out_dir (str): Output folder (created).
        batch_size (int): Images (of equal size) per forward pass (videos go frame by frame).
        ext (str, optional): Output extension for images. Defaults to the input's.
        overwrite (bool): Redo outputs that exist. Defaults to False (skip them: resume).
        side_by_side (bool): Write input | enhanced panels. Defaults to False.
        temporal_denoiser: Videos: see :func:`~mmlowlight.apis.enhance_video` (default: on).
        codec, crf, preset: Videos' encoder settings, see :func:`enhance_video`.
        progress (bool): Show progress bars: one for the images, one per video (frames,
            frames/s, ETA).

    Returns:
        BatchReport: Done, skipped, failed (with reasons) and ignored files.
    """
    tasks, report = collect_tasks(inputs, out_dir, ext)
    todo = []
    for task in tasks:
        if not overwrite and osp.exists(task.dst):
            report.skipped.append(task.dst)
        else:
            todo.append(task)
    images = [task for task in todo if task.kind == 'image']
    if images:
        with tqdm(total=len(images), unit='image', desc='images',
                  disable=not progress) as bar:
            _enhance_images(model, images, report, batch_size, side_by_side, bar)
    for task in (task for task in todo if task.kind == 'video'):
        try:
            summary = enhance_video(model, task.src, task.dst, temporal_denoiser=temporal_denoiser,
                                    side_by_side=side_by_side, codec=codec, crf=crf,
                                    preset=preset, progress=progress)
        except Exception as exc:  # the message names the file and the problem; go on
            report.failed.append((task.src, _reason(task.src, exc)))
            continue
        report.done.append(task.dst)
        report.videos.append((task.dst, summary))
    return report


def _reason(src: str, exc: BaseException) -> str:
    """The problem an exception states, without the ``'<src>: '`` its message starts with
    (the report's ``FAILED <src>:`` line names the file already)."""
    reason = str(exc)
    return reason[len(src) + 2:] if reason.startswith(f'{src}: ') else reason
