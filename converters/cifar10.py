"""CIFAR-10's binary version to PNG examples (research/slim's cifar10_{train,test}.tfrecord).

    source = cifar10.Cifar10Source(source_dir='/tmp/cifar-10-binary.tar.gz')   # or None: download
    pipeline.convert(source, dataset_dir='/data/cifar10')

Input: `cifar-10-binary.tar.gz` (the archive, a folder holding it, a folder
holding its extracted `cifar-10-batches-bin/`, or that folder itself), with
`data_batch_{1..5}.bin`, `test_batch.bin` and `batches.meta.txt`. Each batch
is a run of 3,073-byte records: one label byte, then 1,024 red, 1,024 green
and 1,024 blue bytes of a 32x32 image, row by row. Label names are the lines
of `batches.meta.txt`. Examples keep the batches' order (train: batches 1-5).

The python version (`cifar-10-python.tar.gz`, pickled batches) is refused,
never unpickled: unpickling runs whatever code the file names.
"""
import hashlib
import io
import logging
import os
import tarfile

import numpy as np
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from PIL import Image

from converters import download
from converters import errors
from converters import raw_files
from converters import sources
from descriptors import cifar10 as cifar10_descriptor
from descriptors import schema

ARCHIVE = 'cifar-10-binary.tar.gz'
TOP = 'cifar-10-batches-bin'
DEFAULT_BASE_URL = 'https://www.cs.toronto.edu/~kriz/'
# TensorFlow Datasets' recorded sha256 (tensorflow_datasets/url_checksums/cifar10.txt,
# 170052171 bytes); the CIFAR page publishes the md5 c32a1d4ab5d03f1284b67883e8d87530.
SHA256 = 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd'
BATCHES = {
    'train': tuple(f'data_batch_{i}.bin' for i in range(1, 6)),
    'test': ('test_batch.bin',),
}
META = 'batches.meta.txt'
RECORD_BYTES = 1 + 32 * 32 * 3
NUM_CLASSES = 10
_RAW = CompressionTypes.UNCOMPRESSED
_PYTHON_HINT = (
    "is CIFAR-10's python version (pickled batches), which slimdata never unpickles; download "
    f'the binary version {ARCHIVE} from {DEFAULT_BASE_URL}{ARCHIVE} and pass that')


def _read(path):
  with FileSystems.open(path, compression_type=_RAW) as f:
    return f.read()


def _refuse_python_archive(archive):
  """Raises if the archive's first member belongs to the python version."""
  if 'python' in os.path.basename(archive).lower():
    raise errors.SourceFormatError(f'{archive} {_PYTHON_HINT}')
  try:
    with tarfile.open(archive, 'r:*') as tar:
      first = tar.next()
  except (tarfile.TarError, OSError, EOFError) as e:
    raise errors.SourceFormatError(f'{archive}: not a readable tar archive ({e})') from None
  if first is not None and 'batches-py' in first.name:
    raise errors.SourceFormatError(f'{archive} {_PYTHON_HINT}')


def encode_png(record):
  """PNG bytes of one 3,072-byte channel-major CIFAR image."""
  pixels = np.frombuffer(record, np.uint8).reshape(3, 32, 32).transpose(1, 2, 0)
  out = io.BytesIO()
  Image.fromarray(np.ascontiguousarray(pixels), mode='RGB').save(out, format='PNG')
  return out.getvalue()


class Cifar10Source(sources.Source):
  """The binary batches; records are indices into a split's batches, in order."""
  name = 'cifar10'
  spec = cifar10_descriptor.SPEC
  default_base_url = DEFAULT_BASE_URL

  def __init__(self, **common):
    super().__init__(**common)
    self._given_cache = common.get('cache_dir')
    self.folder = None   # the batches' folder; set by prepare()
    self.counts = {}     # batch file -> number of records
    self._names = ()

  def _from_archive(self, archive, directory):
    _refuse_python_archive(archive)
    archive = raw_files.local_copy(archive, directory)
    sha256 = download.sha256_of(archive)
    if sha256 != SHA256:
      logging.info('%s is not the published %s (a sample?)', archive, ARCHIVE)
    folder = raw_files.extract_once(archive, directory, top=TOP, sha256=sha256)
    return folder, {'files': {ARCHIVE: sha256}, 'official': sha256 == SHA256}

  def _locate(self):
    given = self.source_dir
    if given and raw_files.is_archive(given):
      directory = self._given_cache or (os.path.dirname(os.path.abspath(given))
                                        if '://' not in given
                                        else sources.default_cache_dir(self.name))
      return self._from_archive(given, directory)
    if given:
      given = given.rstrip('/')
      for folder in (FileSystems.join(given, TOP), given):
        if FileSystems.exists(FileSystems.join(folder, BATCHES['test'][0])):
          return folder, {}
      if FileSystems.exists(FileSystems.join(given, ARCHIVE)):
        directory = self._given_cache or (given if '://' not in given
                                          else sources.default_cache_dir(self.name))
        return self._from_archive(FileSystems.join(given, ARCHIVE), directory)
      # No binary version here: if it holds the python version, say so instead of downloading.
      for python in ('cifar-10-batches-py', 'cifar-10-python.tar.gz', 'data_batch_1'):
        if FileSystems.exists(FileSystems.join(given, python)):
          raise errors.SourceFormatError(f'{FileSystems.join(given, python)} {_PYTHON_HINT}')
    directory = self.cache_dir or sources.default_cache_dir(self.name)
    base = self.base_url if self.base_url.endswith('/') else self.base_url + '/'
    archive = download.fetch(base + ARCHIVE, directory=directory, sha256=SHA256)
    return self._from_archive(archive, directory)

  def prepare(self):
    self.folder, info = self._locate()
    checksums = {}
    meta = FileSystems.join(self.folder, META)
    try:
      text = _read(meta).decode('utf-8')
    except UnicodeDecodeError as e:
      raise errors.SourceFormatError(
          f'{meta}: not UTF-8 text ({e}); it should list the 10 class names, one a line') from None
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if len(names) != NUM_CLASSES:
      raise errors.SourceFormatError(
          f'{meta}: {len(names)} label names, CIFAR-10 has '
          f'{NUM_CLASSES}')
    self._names = tuple(names)
    for split in sorted(BATCHES):
      for file in BATCHES[split]:
        path = FileSystems.join(self.folder, file)
        if not FileSystems.exists(path):
          raise errors.SourceFormatError(
              f'{path} is missing; {ARCHIVE} holds {", ".join(sum(BATCHES.values(), ()))}')
        data = _read(path)
        if data[:1] == b'\x80':
          raise errors.SourceFormatError(f'{path} {_PYTHON_HINT}')
        if not data or len(data) % RECORD_BYTES:
          raise errors.SourceFormatError(
              f'{path}: {len(data)} bytes is not a whole number of {RECORD_BYTES}-byte records; '
              'the file is truncated or not a CIFAR-10 binary batch')
        labels = np.frombuffer(data, np.uint8)[::RECORD_BYTES]
        if labels.max() >= NUM_CLASSES:
          raise errors.SourceFormatError(
              f'{path}: label {int(labels.max())} in record {int(labels.argmax())} is not '
              f'0-{NUM_CLASSES - 1}')
        self.counts[file] = len(data) // RECORD_BYTES
        checksums[file] = hashlib.sha256(data).hexdigest()
    info = dict(info)
    info.setdefault('files', checksums)
    info['batches'] = checksums
    return info

  def label_names(self):
    return self._names

  def plan(self):
    return {split: range(sum(self.counts[f] for f in files)) for split, files in BATCHES.items()}

  def read(self, split, records):
    # The plan's records are ascending ranges, so batch order is record order.
    indices = np.asarray(records, np.int64)
    start = 0
    for file in BATCHES[split]:
      end = start + self.counts[file]
      mine = indices[(indices >= start) & (indices < end)] - start
      if mine.size:
        path = FileSystems.join(self.folder, file)
        data = _read(path)
        if len(data) != self.counts[file] * RECORD_BYTES:
          raise errors.SourceFormatError(f'{path}: the file changed since the run was planned')
        for i in mine:
          record = data[i * RECORD_BYTES:(i + 1) * RECORD_BYTES]
          yield f'{file}:{i}', {
              schema.ENCODED: encode_png(record[1:]),
              schema.FORMAT: b'png',
              schema.LABEL: record[0],
              schema.HEIGHT: 32,
              schema.WIDTH: 32,
          }
      start = end
