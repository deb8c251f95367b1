"""Video files through PyAV (FFmpeg): decode anything FFmpeg reads, encode H.264, keep the rest.

:class:`VideoReader` demuxes a file and yields, in file order, the decoded pictures of its first
video stream and the untouched packets of every other stream worth keeping (audio, subtitles,
data such as timecodes). :class:`VideoWriter` encodes pictures (libx264, yuv420p by default)
and copies those packets into the output container without re-encoding; only a stream the
output container cannot hold is re-encoded (audio) or left out (other streams), and the writer
says which in :attr:`VideoWriter.notes`. Kept as they were: every frame's timestamp (a
variable frame rate stays variable; no frame is dropped or duplicated), the display matrix
(rotation), colour range, matrix, primaries and transfer tags, and the container and stream
metadata (creation time, title, language, ...).
"""
from fractions import Fraction
from typing import Dict, Iterator, List, Optional, Tuple, Union

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from mmlowlight.ops import yuv420_to_rgb

__all__ = [
    'VideoReadError', 'VideoWriteError', 'VideoReader', 'VideoWriter', 'DEFAULT_CODEC',
    'CONTAINER_VIDEO_CODEC', 'DEFAULT_CRF', 'DEFAULT_PRESET', 'CONTAINER_AUDIO_CODEC',
    'frame_planes', 'is_full_range', 'to_yuv420', 'frame_to_rgb', 'read_rgb_frames'
]

DEFAULT_CODEC = 'libx264'
#: The encoder for containers that cannot hold H.264 (WebM takes VP8, VP9 and AV1 only, Ogg
#: Theora and VP8; this FFmpeg build has no Theora encoder).
CONTAINER_VIDEO_CODEC = {'webm': 'libvpx-vp9', 'ogg': 'libvpx', 'ogv': 'libvpx'}
#: libvpx-vp9 at constant quality (``b`` 0: no bitrate target) with its real-time speed settings
#: (720p, 2 cores: 12 ms a frame, PSNR 40.5 dB to the input; ``deadline good``: 50 ms, 40.9 dB).
VP9_OPTIONS = {'crf': '20', 'b': '0', 'deadline': 'realtime', 'cpu-used': '8', 'row-mt': '1'}
#: x264's constant rate factor: 18 is commonly taken as visually transparent.
DEFAULT_CRF = 18
#: The fastest preset that keeps x264's efficiency tools that matter at this quality; real time
#: at 1080p on two cores needs it (``medium`` encodes about 3x slower).
DEFAULT_PRESET = 'veryfast'
#: Audio codec for re-encoding a track the output container cannot hold as it is.
CONTAINER_AUDIO_CODEC = {'mp4': 'aac', 'mov': 'aac', 'matroska': 'libopus', 'webm': 'libopus'}
#: Container metadata the muxer writes itself (copying it would describe the old file).
_OWN_METADATA = {'major_brand', 'minor_version', 'compatible_brands', 'encoder', 'duration'}
_MUXER_OPTIONS = {'mp4': {'movflags': '+faststart'}, 'mov': {'movflags': '+faststart'}}


def _encoder_options(codec: str, crf: Optional[int], preset: Optional[str]) -> Dict[str, str]:
    """The encoder's options: its defaults here (quality, speed), ``crf`` and ``preset`` over
    them."""
    options: Dict[str, str] = {}
    if codec in ('libx264', 'libx265'):
        options = {'crf': str(DEFAULT_CRF), 'preset': DEFAULT_PRESET}
        if codec == 'libx265':  # x265 prints a page of settings otherwise
            options['x265-params'] = 'log-level=error'
    elif codec in ('libvpx-vp9', 'libvpx'):  # VP8's libvpx takes the same options
        options = dict(VP9_OPTIONS)
    if crf is not None:
        options['crf'] = str(crf)
    if preset is not None:
        options['preset'] = preset
    return options


class VideoReadError(ValueError):
    """A file cannot be read as a video; the message names the file and the reason."""


class VideoWriteError(OSError):
    """An output video cannot be written; the message names the file and the reason."""


def _codec_hint(container, format_name: str, codec: str) -> str:
    """A hint for write errors where the container's list of codecs lacks the encoder's (FFmpeg
    only refuses such a stream when the first packet is written; the list is incomplete for some
    muxers, MPEG-TS among them, so it is a hint, not a check)."""
    try:
        canonical = av.codec.Codec(codec, 'w').canonical_name
    except (ValueError, av.FFmpegError):  # an unknown encoder fails with its own message
        return ''
    supported = container.supported_codecs
    if not supported or canonical in supported or codec in supported:
        return ''
    return (f'; a {format_name} file may not hold {canonical} video: choose another encoder '
            f'(--codec) or another extension')


def _tag_seconds(tag: str) -> Optional[float]:
    """Seconds of a Matroska ``DURATION`` tag (``HH:MM:SS.fraction``), None if it is not one."""
    try:
        hours, minutes, seconds = tag.split(':')
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return None


def _reason(exc: BaseException) -> str:
    """FFmpeg's message without PyAV's errno prefix and the path it repeats."""
    if isinstance(exc, av.FFmpegError):
        return exc.strerror or str(exc)
    return str(exc)


Item = Union[av.VideoFrame, av.Packet]
_PLANAR_420 = ('yuv420p', 'yuvj420p')


def frame_planes(frame: av.VideoFrame) -> List[np.ndarray]:
    """The frame's planes as writable uint8 views, no copy (padding columns cut off)."""
    return [np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, :plane.width]
            for plane in frame.planes]


def is_full_range(frame: av.VideoFrame) -> bool:
    """Full (JPEG) range by the tag, or by FFmpeg's older ``yuvj`` pixel formats."""
    return int(frame.color_range) == 2 or frame.format.name.startswith('yuvj')


def to_yuv420(frame: av.VideoFrame, reformatter: Optional[VideoReformatter] = None
              ) -> av.VideoFrame:
    """The frame in 8-bit 4:2:0 (itself when it is), colour matrix and range kept."""
    if frame.format.name in _PLANAR_420:
        return frame
    return (reformatter or VideoReformatter()).reformat(
        frame, format='yuv420p', src_colorspace=frame.colorspace,
        dst_colorspace=frame.colorspace, src_color_range=frame.color_range,
        dst_color_range=frame.color_range)


def frame_to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """H x W x 3 uint8 RGB of a decoded frame by its colour tags, through the exact
    :func:`~mmlowlight.ops.yuv420_to_rgb` (swscale's conversion darkens by about 1 level)."""
    full_range = is_full_range(frame)
    return yuv420_to_rgb(frame_planes(to_yuv420(frame)), None, int(frame.colorspace), full_range)


def read_rgb_frames(path: str) -> np.ndarray:
    """Every frame of a video file as T x H x W x 3 uint8 RGB (:func:`frame_to_rgb`)."""
    with av.open(path) as container:
        return np.stack([frame_to_rgb(frame) for frame in container.decode(video=0)])


class VideoReader:
    """Demux and decode a video file (FFmpeg frame threading on).

    Args:
        path (str): The file.
        threads (int): Decoder threads (0: FFmpeg's choice). Defaults to 0.

    Raises:
        VideoReadError: Not a file FFmpeg reads, or no video stream in it.
    """

    def __init__(self, path: str, threads: int = 0) -> None:
        self.path = path
        try:
            self.container = av.open(path, metadata_errors='ignore')
        except (av.FFmpegError, UnicodeDecodeError) as exc:
            raise VideoReadError(f'{path}: not a video file FFmpeg can read '
                                 f'({_reason(exc)})') from exc
        if not self.container.streams.video:
            self.container.close()
            raise VideoReadError(f'{path}: has no video stream')
        self.video = self.container.streams.video[0]
        self.video.thread_type = 'AUTO'
        self.video.codec_context.thread_count = threads
        #: The streams whose packets are passed on: everything but the picture (cover art
        #: and further video streams, which an encoder would need, are left out).
        self.others = [s for s in self.container.streams
                       if s.type in ('audio', 'subtitle', 'data', 'attachment')]
        self.decoded = 0

    @property
    def expected_frames(self) -> Optional[int]:
        """Frame count from the container (exact in mp4/mov), else estimated from its duration
        and frame rate, else None."""
        if self.video.frames:
            return int(self.video.frames)
        rate = self.video.average_rate or self.video.guessed_rate
        seconds = self.duration
        if not (seconds and rate):
            return None
        return max(int(round(seconds * float(rate))), 1)

    @property
    def duration(self) -> Optional[float]:
        """Length of the video stream in seconds when recorded (its duration, or the
        ``DURATION`` tag Matroska and WebM files give each stream), else the container's
        (which an audio track longer than the picture extends), else None."""
        if self.video.duration and self.video.time_base:
            return float(self.video.duration * self.video.time_base)
        tagged = _tag_seconds(self.video.metadata.get('DURATION', ''))
        if tagged:
            return tagged
        if self.container.duration:
            return self.container.duration / av.time_base
        return None

    def items(self) -> Iterator[Item]:
        """Decoded video frames and the packets of :attr:`others`, in file order.

        Raises:
            VideoReadError: The data cannot be demuxed or decoded (a truncated or damaged
                file), naming the file and the frame.
        """
        try:
            for packet in self.container.demux(self.video, *self.others):
                if packet.stream is self.video:
                    for frame in packet.decode():
                        self.decoded += 1
                        yield frame
                elif packet.size or packet.pts is not None:
                    yield packet
        except av.FFmpegError as exc:
            raise VideoReadError(f'{self.path}: damaged or truncated: cannot read past frame '
                                 f'{self.decoded} ({_reason(exc)})') from exc

    def close(self) -> None:
        """Release the file."""
        self.container.close()


def _display_matrix(frame: av.VideoFrame) -> Optional[List[int]]:
    """The frame's display matrix (rotation/flip) as 9 integers, or None."""
    for side_data in frame.side_data:
        if side_data.type == av.sidedata.sidedata.Type.DISPLAYMATRIX:
            matrix = np.frombuffer(bytes(side_data), np.int32)
            return [int(v) for v in matrix[:9]] if matrix.size >= 9 else None
    return None


def _copy_metadata(source: Dict[str, str], target) -> None:
    for key, value in source.items():
        if key.lower() not in _OWN_METADATA and not key.startswith('DURATION'):
            target[key] = value


class VideoWriter:
    """Encode pictures to a new file and copy the other streams of a :class:`VideoReader`.

    The video stream comes first, as in most sources, then a copy of each of the reader's
    other streams.

    Args:
        path (str): Output file (the container follows its extension); write to a temporary
            name and rename (:func:`mmlowlight.utils.fileio.atomic_output`).
        reader (VideoReader): The source, for its streams, timing and metadata.
        template (av.VideoFrame): A decoded source frame: its colour tags and display matrix
            go to the output.
        width, height (int): Size of the encoded pictures.
        codec (str, optional): Video encoder. Defaults to the container's: :data:`DEFAULT_CODEC`
            (H.264), VP9 for WebM (:data:`CONTAINER_VIDEO_CODEC`).
        crf (int, optional): Constant rate factor (x264/x265/VP9/AV1). Defaults to
            :data:`DEFAULT_CRF` for x264/x265, 20 for VP9 (:data:`VP9_OPTIONS`), the encoder's
            own default otherwise.
        preset (str, optional): Encoder speed preset. Defaults to :data:`DEFAULT_PRESET` for
            x264/x265.
        pix_fmt (str): Encoded pixel format. Defaults to ``'yuv420p'`` (what players expect).
        threads (int): Encoder threads (0: FFmpeg's choice). Defaults to 0.
        display_path (str, optional): The name to use in messages (the final name when
            ``path`` is a temporary one). Defaults to ``path``.

    Raises:
        VideoWriteError: The file cannot be created or the container does not take the codec.
    """

    def __init__(self, path: str, reader: VideoReader, template: av.VideoFrame, width: int,
                 height: int, codec: Optional[str] = None,
                 crf: Optional[int] = None, preset: Optional[str] = None,
                 pix_fmt: str = 'yuv420p', threads: int = 0,
                 display_path: Optional[str] = None) -> None:
        self.path = display_path or path
        self.reader = reader
        self.pix_fmt, self.threads = pix_fmt, threads
        #: What happened to each stream besides the picture, for the summary.
        self.notes: List[str] = []
        self.frames = 0
        try:
            self.container = av.open(path, 'w')
        except (av.FFmpegError, OSError) as exc:
            raise VideoWriteError(f'{path}: cannot create the output ({_reason(exc)})') from exc
        self.format = self.container.format.name.split(',')[0]
        self.codec = codec or CONTAINER_VIDEO_CODEC.get(self.format, DEFAULT_CODEC)
        self.options = _encoder_options(self.codec, crf, preset)
        self.container.options.update(_MUXER_OPTIONS.get(self.format, {}))
        _copy_metadata(reader.container.metadata, self.container.metadata)
        self.video = self._add_video(template, width, height)
        self._copies: Dict[int, av.stream.Stream] = {}
        self._transcoders: Dict[int, Tuple[av.stream.Stream, av.stream.Stream]] = {}
        for stream in reader.others:
            self._add_copy(stream)
        self._reformatter = VideoReformatter()
        self._last_pts: Optional[int] = None

    def _describe(self, stream) -> str:
        name = stream.codec_context.name if stream.codec_context else (
            stream.metadata.get('mimetype') or stream.type)
        language = stream.metadata.get('language')
        return f'{stream.type} {name}' + (f' ({language})' if language and
                                          language != 'und' else '')

    def _add_copy(self, stream) -> None:
        try:
            out = self.container.add_stream_from_template(stream)
        except ValueError as exc:  # the container does not take this codec as it is
            if stream.type == 'audio' and self.format in CONTAINER_AUDIO_CODEC:
                self._add_audio_transcoder(stream, str(exc))
            else:
                self.notes.append(f'{self._describe(stream)} left out: {exc}')
            return
        _copy_metadata(stream.metadata, out.metadata)
        out.disposition = stream.disposition
        self._copies[stream.index] = out
        self.notes.append(f'{self._describe(stream)} copied')

    def _add_audio_transcoder(self, stream, reason: str) -> None:
        codec = CONTAINER_AUDIO_CODEC[self.format]
        context = stream.codec_context
        out = self.container.add_stream(codec, rate=context.sample_rate or 48000)
        if context.layout is not None:
            out.layout = context.layout
        _copy_metadata(stream.metadata, out.metadata)
        self._transcoders[stream.index] = (stream, out)
        self.notes.append(f'{self._describe(stream)} re-encoded to {codec} ({reason})')

    @property
    def colour(self) -> Tuple[int, bool]:
        """(AVColorSpace, full range) of the encoded video."""
        context = self.video.codec_context
        return int(context.colorspace), int(context.color_range) == 2

    def _add_video(self, frame: av.VideoFrame, width: int, height: int):
        source = self.reader.video
        rate = source.average_rate or source.guessed_rate or Fraction(25)
        try:
            stream = self.container.add_stream(self.codec, rate=rate, options=self.options)
        except (ValueError, av.FFmpegError) as exc:
            raise VideoWriteError(f'{self.path}: cannot encode {self.codec!r} into a '
                                  f'{self.format} file ({_reason(exc)})') from exc
        stream.width, stream.height = width, height
        stream.pix_fmt = self.pix_fmt
        stream.time_base = source.time_base
        context = stream.codec_context
        context.time_base = source.time_base
        context.thread_count = self.threads
        context.thread_type = 'AUTO'
        for tag in ('color_range', 'colorspace', 'color_primaries', 'color_trc'):
            setattr(context, tag, getattr(frame, tag))
        if frame.format.name.startswith('yuvj'):  # FFmpeg's old way of saying full range
            context.color_range = 2
        if source.sample_aspect_ratio:
            stream.sample_aspect_ratio = source.sample_aspect_ratio
        matrix = _display_matrix(frame)
        if matrix is not None:
            stream.set_display_matrix(matrix)
        _copy_metadata(source.metadata, stream.metadata)
        stream.disposition = source.disposition
        return stream

    def write_frame(self, frame: av.VideoFrame, pts: Optional[int]) -> None:
        """Encode one picture at ``pts`` (in the source video stream's time base).

        The frame is converted to :attr:`pix_fmt` keeping its colour matrix and range (a
        no-op when it is already). A missing or non-increasing ``pts`` (broken files) is
        replaced by the previous one plus one tick, so that no frame is dropped.
        """
        if frame.format.name != self.pix_fmt:
            frame = self._reformatter.reformat(
                frame, format=self.pix_fmt, src_colorspace=frame.colorspace,
                dst_colorspace=frame.colorspace, src_color_range=frame.color_range,
                dst_color_range=frame.color_range)
        if pts is None or (self._last_pts is not None and pts <= self._last_pts):
            pts = 0 if self._last_pts is None else self._last_pts + 1
        self._last_pts = pts
        frame.pts = pts
        frame.time_base = self.reader.video.time_base
        self._mux(self.video.encode(frame))
        self.frames += 1

    def write_packet(self, packet: av.Packet) -> None:
        """Copy (or, for an audio track the container cannot hold, re-encode) a packet of one
        of the reader's other streams."""
        index = packet.stream.index
        if index in self._copies:
            packet.stream = self._copies[index]
            self._mux(packet)
        elif index in self._transcoders:
            source, out = self._transcoders[index]
            for audio in source.codec_context.decode(packet):
                audio.pts = None  # the encoder counts samples from the first one
                self._mux(out.encode(audio))

    def _mux(self, packets) -> None:
        try:
            self.container.mux(packets)
        except (av.FFmpegError, OSError) as exc:
            hint = _codec_hint(self.container, self.format, self.codec)
            raise VideoWriteError(f'{self.path}: cannot write ({_reason(exc)}){hint}') from exc

    def close(self) -> None:
        """Flush the encoders and finish the file (call only after a complete write)."""
        self._mux(self.video.encode(None))
        for source, out in self._transcoders.values():
            for audio in source.codec_context.decode(None):
                audio.pts = None
                self._mux(out.encode(audio))
            self._mux(out.encode(None))
        self.abort()

    def abort(self) -> None:
        """Close the file without flushing (it is deleted by the caller)."""
        try:
            self.container.close()
        except (av.FFmpegError, OSError) as exc:
            raise VideoWriteError(f'{self.path}: cannot finish the file '
                                  f'({_reason(exc)})') from exc
