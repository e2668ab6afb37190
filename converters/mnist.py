"""The MNIST source: the four idx .gz files to PNG examples (research/slim's layout).

    source = mnist.MnistSource(source_dir='/tmp/mnist_raw')    # or None: download
    pipeline.convert(source, dataset_dir='/data/mnist')          # mnist_{train,test}.tfrecord

The files are read from `source_dir` when they are there (taken as given, so
the embedded sample works), else downloaded from `base_url` (default: the CVDF
mirror; yann.lecun.com refuses downloads) and checked against the published
sha256 sums. `prepare()` reads every file once and checks magic numbers,
dimensions, lengths and label counts, so a bad file stops the run, naming it,
before any shard is written. Examples keep the files' order.
"""
import gzip
import io
import logging
import struct
import zlib

import numpy as np
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from PIL import Image

from converters import download
from converters import errors
from converters import sources
from descriptors import mnist as mnist_descriptor
from descriptors import schema

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
FILES = {
    'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
    'test': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'),
}
# Published sha256 sums of the official files.
SHA256 = {
    'train-images-idx3-ubyte.gz':
        '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
    'train-labels-idx1-ubyte.gz':
        '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
    't10k-images-idx3-ubyte.gz':
        '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
    't10k-labels-idx1-ubyte.gz':
        'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
}
DEFAULT_BASE_URL = 'https://storage.googleapis.com/cvdf-datasets/mnist/'
_RAW = CompressionTypes.UNCOMPRESSED


def _read_gzip(path, limit=-1):
  """The decompressed content of the gzip file at `path` (at most `limit` bytes)."""
  try:
    with FileSystems.open(path, compression_type=_RAW) as raw:
      with gzip.GzipFile(fileobj=raw, mode='rb') as f:
        return f.read(limit)
  except (EOFError, OSError, zlib.error) as e:
    raise errors.SourceFormatError(
        f'{path}: cannot decompress ({e}); the file is truncated or not gzip: delete it and '
        'download it again') from None


def parse_idx_header(data, *, path, magic):
  """`(count, dims)` from an idx header, checking the magic number and the length.

  idx: a big-endian uint32 magic (0x0000 08 NN, NN = number of dimensions),
  one big-endian uint32 per dimension, then the uint8 data.
  """
  if len(data) < 4:
    raise errors.SourceFormatError(f'{path}: too short for an idx header ({len(data)} bytes)')
  (found,) = struct.unpack('>I', data[:4])
  if found != magic:
    raise errors.SourceFormatError(
        f'{path}: magic number {found}, expected {magic}; not an MNIST '
        f'{"image" if magic == IMAGES_MAGIC else "label"} file (were two files swapped?)')
  ndim = magic & 0xFF
  header = 4 + 4 * ndim
  if len(data) < header:
    raise errors.SourceFormatError(f'{path}: truncated idx header')
  dims = struct.unpack(f'>{ndim}I', data[4:header])
  expected = header + int(np.prod(dims, dtype=np.int64))
  if len(data) != expected:
    raise errors.SourceFormatError(
        f'{path}: {len(data)} bytes after decompression, its header {dims} promises '
        f'{expected}; the file is {"truncated" if len(data) < expected else "too long"}')
  return dims[0], dims[1:]


def encode_png(pixels):
  """PNG bytes of a uint8 [h, w] grayscale image (PIL: deterministic, 4x faster than TF)."""
  out = io.BytesIO()
  Image.fromarray(np.ascontiguousarray(pixels, np.uint8), mode='L').save(out, format='PNG')
  return out.getvalue()


class MnistSource(sources.Source):
  """MNIST's idx files; records are indices into a split's files."""
  name = 'mnist'
  spec = mnist_descriptor.SPEC
  default_base_url = DEFAULT_BASE_URL

  def __init__(self, **common):
    super().__init__(**common)
    self.paths = {}   # file name -> path; set by prepare()
    self.sizes = {}   # split -> number of examples

  def _locate(self, file):
    if self.source_dir:
      path = FileSystems.join(self.source_dir, file)
      if FileSystems.exists(path):
        return path
    cache = self.cache_dir or sources.default_cache_dir(self.name)
    base = self.base_url if self.base_url.endswith('/') else self.base_url + '/'
    return download.fetch(base + file, directory=cache, sha256=SHA256[file])

  def prepare(self):
    checksums = {}
    for split, (images_file, labels_file) in sorted(FILES.items()):
      counts = {}
      for file, magic in ((images_file, IMAGES_MAGIC), (labels_file, LABELS_MAGIC)):
        path = self._locate(file)
        self.paths[file] = path
        with FileSystems.open(path, compression_type=_RAW) as f:
          checksums[file] = sources.sha256_stream(f)
        data = _read_gzip(path)
        counts[file], dims = parse_idx_header(data, path=path, magic=magic)
        if magic == IMAGES_MAGIC and tuple(dims) != (28, 28):
          raise errors.SourceFormatError(f'{path}: images are {dims}, MNIST images are 28x28')
        if magic == LABELS_MAGIC:
          labels = np.frombuffer(data, np.uint8, offset=8)
          if labels.size and labels.max() > 9:
            raise errors.SourceFormatError(
                f'{path}: label {int(labels.max())} at index {int(labels.argmax())} is not a '
                'digit 0-9')
      if counts[images_file] != counts[labels_file]:
        raise errors.SourceFormatError(
            f'{self.paths[labels_file]}: {counts[labels_file]} labels for '
            f'{counts[images_file]} images in {self.paths[images_file]}; the two files must '
            'come from the same release')
      self.sizes[split] = counts[images_file]
    official = all(checksums[f] == SHA256[f] for f in checksums)
    if not official:
      logging.info('mnist: the source files are not the official release (a sample?)')
    return {'files': checksums, 'base_url': self.base_url, 'official': official}

  def label_names(self):
    return mnist_descriptor.LABEL_NAMES

  def plan(self):
    # Splits are fixed by the files; keep their order, as research/slim did.
    return {split: range(self.sizes[split]) for split in FILES}

  def read(self, split, records):
    images_file, labels_file = FILES[split]
    indices = np.asarray(records, np.int64)
    if not indices.size:
      return
    end = int(indices.max()) + 1
    # Decompress only up to the last record this shard needs.
    pixels = np.frombuffer(_read_gzip(self.paths[images_file], 16 + end * 784), np.uint8,
                           offset=16).reshape(-1, 28, 28)
    labels = np.frombuffer(_read_gzip(self.paths[labels_file], 8 + end), np.uint8, offset=8)
    if len(pixels) < end or len(labels) < end:
      raise errors.SourceFormatError(
          f'{self.paths[images_file]}: fewer than {end} examples; the file changed since '
          'the run was planned')
    for i in indices:
      yield f'{images_file}:{i}', {
          schema.ENCODED: encode_png(pixels[i]),
          schema.FORMAT: b'png',
          schema.LABEL: int(labels[i]),
          schema.HEIGHT: 28,
          schema.WIDTH: 28,
      }
