"""Checks a converted dataset against its manifest: counts, sha256, record framing, images, labels.

    report = verification.verify_dataset(dataset_dir='/data/flowers')
    report.ok                           # False
    [str(p) for p in report.problems]   # ['flowers_train_00001-of-00005.tfrecord:17: label 9 ...']

Every shard the manifest lists is read once, in full: its bytes are hashed, each
record's framing CRCs are checked, and each record is parsed as a
`tf.train.Example` whose image must decode to the stored height and width and
whose label must be one the manifest names. Files that look like shards but
that no manifest in the folder lists are reported too. TensorFlow is imported
only by the functions that decode images.
"""
import concurrent.futures
import dataclasses
import hashlib
import logging
import os
import re

from converters import errors as converter_errors
from converters import tfrecord
from descriptors import loading
from descriptors import schema

# What a shard file name looks like, for finding files the manifest does not list:
# every slimdata and research/slim template ends in `-of-NNNNN` or `.tfrecord`.
_SHARD_NAME = re.compile(r'(-of-\d+(\.tfrecords?)?|\.tfrecords?)$')

# Leading bytes of the formats images are stored in; `image/format` must agree.
_MAGIC = (
    (b'\xff\xd8\xff', 'jpeg'),
    (b'\x89PNG\r\n\x1a\n', 'png'),
    (b'GIF87a', 'gif'),
    (b'GIF89a', 'gif'),
    (b'BM', 'bmp'),
)
_FORMAT_ALIASES = {'jpg': 'jpeg'}
_RAW_CHANNELS = (1, 3, 4)


@dataclasses.dataclass(frozen=True)
class Problem:
  """One thing wrong: in a file, and when known in its record `record` (counted from 0)."""
  file: str
  message: str
  record: int = None

  def __str__(self):
    if self.record is None:
      return f'{self.file}: {self.message}'
    return f'{self.file}:{self.record}: {self.message}'


@dataclasses.dataclass(frozen=True)
class ShardResult:
  """What reading one listed shard found.

  `actual_count` is the number of records read before the end of the file or,
  when `crc_ok` is False, before the first framing error, after which the file
  cannot be cut into records (None when the file is missing); `bad_records`
  counts records with any problem, a framing error included.
  """
  file: str
  split: str
  expected_count: int
  actual_count: int
  sha256_ok: bool
  crc_ok: bool
  bad_records: int
  problems: tuple = ()
  missing: bool = False

  @property
  def ok(self):
    return not self.problems


@dataclasses.dataclass(frozen=True)
class Report:
  """The whole check: one `ShardResult` per listed shard, plus folder-level problems."""
  dataset_name: str
  manifest_file: str
  shards: tuple
  unlisted_files: tuple = ()
  dataset_problems: tuple = ()
  labels_checked: bool = True

  @property
  def problems(self):
    """Every problem found: the folder's first, then each shard's in manifest order."""
    return self.dataset_problems + tuple(p for s in self.shards for p in s.problems)

  @property
  def ok(self):
    return not self.problems

  @property
  def num_examples(self):
    return sum(s.actual_count or 0 for s in self.shards)


def verify_dataset(*, dataset_dir, dataset_name=None, check_records=True, num_threads=4,
                   max_problems_per_shard=20):
  """Checks every shard the manifest in `dataset_dir` lists; returns a `Report`.

  Args:
    dataset_dir: the folder `tools/convert.py` wrote (local or `gs://`).
    dataset_name: which manifest, when the folder holds more than one.
    check_records: also parse each record, decode its image and check its label
      and size; with False only counts, sha256 and framing are checked.
    num_threads: shards checked at once.
    max_problems_per_shard: problems kept per shard; `bad_records` counts them all.

  Raises:
    DescriptorError: no manifest in the folder, or several and no `dataset_name`
      (`MissingFilesError`), or one that cannot be read (`ManifestError`).
  """
  if num_threads < 1:
    raise ValueError(f'num_threads must be at least 1, got {num_threads}')
  if max_problems_per_shard < 1:
    raise ValueError(f'max_problems_per_shard must be at least 1, got {max_problems_per_shard}')
  manifest = loading.find_manifest(dataset_dir, dataset_name)
  path = _join(dataset_dir, schema.manifest_name(manifest.name))
  label_names = manifest.labels_to_names
  label_range = (min(label_names), max(label_names)) if label_names else None
  image_format = _FORMAT_ALIASES.get(manifest.image_format, manifest.image_format)

  jobs = [(split_name, shard) for split_name, split in sorted(manifest.splits.items())
          for shard in split.shards]

  def check(job):
    split_name, shard = job
    return verify_shard(
        _join(dataset_dir, shard.file), split=split_name, expected=shard,
        check_records=check_records, label_range=label_range, image_format=image_format,
        max_problems=max_problems_per_shard)

  with concurrent.futures.ThreadPoolExecutor(max_workers=num_threads) as pool:
    shards = tuple(pool.map(check, jobs))

  dataset_problems = list(_check_labels_file(dataset_dir, manifest))
  unlisted = _unlisted_shards(dataset_dir)
  dataset_problems += [Problem(name, 'looks like a shard but no manifest in the folder lists it; '
                                     'delete it or convert again') for name in unlisted]
  if label_range is None:
    logging.warning('%s lists no label names: labels were not range-checked', path)
  return Report(dataset_name=manifest.name, manifest_file=path, shards=shards,
                unlisted_files=tuple(unlisted), dataset_problems=tuple(dataset_problems),
                labels_checked=label_range is not None)


def verify_shard(path, *, split, expected, check_records=True, label_range=None,
                 image_format=None, max_problems=20):
  """Reads one shard in full against its manifest entry `expected` (a `manifest.Shard`).

  The file's sha256 covers every byte, even past a framing error, so a flipped
  byte is caught by both checks.
  """
  import tensorflow as tf
  name = expected.file
  if not tf.io.gfile.exists(path):
    return ShardResult(
        file=name, split=split, expected_count=expected.num_examples, actual_count=None,
        sha256_ok=False, crc_ok=False, bad_records=0, missing=True,
        problems=(Problem(name, f'listed in the manifest (split {split!r}) but missing; '
                                'convert again'),))
  problems = []
  bad_records = 0
  count = 0
  crc_ok = True
  with tf.io.gfile.GFile(path, 'rb') as f:
    reader = _HashingReader(f)
    try:
      for count, record in enumerate(tfrecord.read_records(reader, path=name), 1):
        if not check_records:
          continue
        messages = check_record(record, label_range=label_range, image_format=image_format)
        if messages:
          bad_records += 1
          if len(problems) < max_problems:
            problems.append(Problem(name, '; '.join(messages), record=count - 1))
    except converter_errors.CorruptRecordError as e:
      crc_ok = False
      bad_records += 1
      message = str(e).removeprefix(f'{name}: ')
      problems.append(Problem(name, f'{message} (records after it were not read)', record=count))
    reader.drain()
  if bad_records > len(problems):
    problems.append(Problem(name, f'{bad_records - len(problems)} more bad records not shown'))
  # After a framing error the rest of the file cannot be split into records: count unknown.
  if crc_ok and count != expected.num_examples:
    problems.append(Problem(
        name, f'holds {count} records, the manifest says {expected.num_examples}'))
  sha256_ok = reader.sha256.hexdigest() == expected.sha256
  if not sha256_ok:
    problems.append(Problem(
        name, f'sha256 {reader.sha256.hexdigest()} differs from the manifest\'s '
              f'{expected.sha256}: the file changed after conversion'))
  if expected.bytes and reader.num_bytes != expected.bytes:
    problems.append(Problem(
        name, f'is {reader.num_bytes} bytes, the manifest says {expected.bytes}'))
  return ShardResult(file=name, split=split, expected_count=expected.num_examples,
                     actual_count=count, sha256_ok=sha256_ok, crc_ok=crc_ok,
                     bad_records=bad_records, problems=tuple(problems))


def check_record(record, *, label_range=None, image_format=None):
  """What is wrong with one serialized Example: a list of messages, empty when it is sound.

  Args:
    record: the serialized `tf.train.Example`.
    label_range: `(lowest, highest)` valid label, both included; None skips the check.
    image_format: the format the manifest promises ('png', 'jpeg', 'raw'), or None.
  """
  import tensorflow as tf
  from google.protobuf import message as protobuf_message
  try:
    features = tf.train.Example.FromString(record).features.feature
  except protobuf_message.DecodeError as e:
    return [f'not a tf.train.Example: {e}']
  messages = []
  label = _scalar(features, schema.LABEL)
  if label is None:
    messages.append(f'no label ({schema.LABEL} missing)')
  elif label_range and not label_range[0] <= label <= label_range[1]:
    messages.append(f'label {label} is outside {label_range[0]}..{label_range[1]}')

  height = _scalar(features, schema.HEIGHT)
  width = _scalar(features, schema.WIDTH)
  encoded = _scalar(features, schema.ENCODED)
  if not encoded:
    messages.append(f'no image ({schema.ENCODED} missing or empty)')
    return messages
  stored_format = _scalar(features, schema.FORMAT)
  stored_format = stored_format.decode('utf-8', 'replace').lower() if stored_format else None
  stored_format = _FORMAT_ALIASES.get(stored_format, stored_format)
  if image_format and stored_format and stored_format != image_format:
    messages.append(f'{schema.FORMAT} is {stored_format!r}, the manifest says {image_format!r}')
  if stored_format == 'raw':
    messages.extend(_check_raw(encoded, height, width))
    return messages
  actual_format = sniff_format(encoded)
  if stored_format and actual_format and stored_format != actual_format:
    messages.append(f'{schema.FORMAT} is {stored_format!r} but the bytes are {actual_format}')
  try:
    shape = tf.io.decode_image(encoded, expand_animations=False).shape
  except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as e:
    messages.append(f'image does not decode ({len(encoded)} bytes): {_op_error_text(e)}')
    return messages
  if height is not None and height != shape[0]:
    messages.append(f'{schema.HEIGHT} is {height} but the image is {shape[0]} high')
  if width is not None and width != shape[1]:
    messages.append(f'{schema.WIDTH} is {width} but the image is {shape[1]} wide')
  return messages


def _op_error_text(error):
  """An op error's first line, without TensorFlow's `{{function_node ...}}` and `[Op:...]`."""
  text = (error.message or str(error)).strip().splitlines()[0]
  return re.sub(r'\s*\[Op:\w+\]', '', re.sub(r'\{\{[^}]*\}\}\s*', '', text)).strip()


def sniff_format(data):
  """'jpeg', 'png', 'gif' or 'bmp' from the leading bytes of `data`; None when unknown."""
  for magic, name in _MAGIC:
    if data.startswith(magic):
      return name
  return None


def _check_raw(encoded, height, width):
  """Raw uint8 pixels must fill height x width x (1, 3 or 4) exactly."""
  if not height or not width:
    return [f'raw image without {schema.HEIGHT} and {schema.WIDTH}']
  if len(encoded) not in [height * width * c for c in _RAW_CHANNELS]:
    return [f'raw image of {len(encoded)} bytes does not fill {height}x{width} pixels '
            f'with {"/".join(map(str, _RAW_CHANNELS))} channels']
  return []


def _scalar(features, key):
  """The first value of feature `key`, or None when absent or empty."""
  if key not in features:
    return None
  kind = schema.IMAGENET.feature(key).kind
  values = getattr(features[key], f'{kind}_list').value
  return values[0] if values else None


def _check_labels_file(dataset_dir, manifest):
  """`labels.txt`, when present, must name the classes as the manifest does."""
  import tensorflow as tf
  path = _join(dataset_dir, schema.LABELS_FILENAME)
  if not manifest.label_names or not tf.io.gfile.exists(path):
    return
  with tf.io.gfile.GFile(path, 'rb') as f:
    text = f.read().decode('utf-8')
  try:
    labels = schema.parse_labels(text, filename=schema.LABELS_FILENAME)
  except ValueError as e:
    yield Problem(schema.LABELS_FILENAME, str(e).removeprefix(f'{schema.LABELS_FILENAME}:'))
    return
  # research/slim's ImageNet labels.txt may name the background class 0, below the offset.
  labels = {i: n for i, n in labels.items() if i >= manifest.label_offset}
  expected = manifest.labels_to_names
  if labels != expected:
    differing = sorted(i for i in set(labels) | set(expected) if labels.get(i) != expected.get(i))
    shown = ', '.join(f'{i}: {labels.get(i)!r} vs {expected.get(i)!r}' for i in differing[:5])
    yield Problem(schema.LABELS_FILENAME,
                  f'disagrees with the manifest\'s label names at {len(differing)} labels '
                  f'({shown})')


def _unlisted_shards(dataset_dir):
  """Shard-like files that no manifest in the folder lists, sorted."""
  import tensorflow as tf
  listed = set()
  for name in _manifest_names(dataset_dir):
    other = loading.read_manifest(dataset_dir, name)
    listed.update(s.file for split in other.splits.values() for s in split.shards)
  unlisted = []
  for entry in tf.io.gfile.listdir(dataset_dir):
    entry = entry.rstrip('/')
    # Hidden names are temporaries in progress (`.incomplete/`), never shards.
    if entry.startswith('.') or entry in listed or not _SHARD_NAME.search(entry):
      continue
    if not tf.io.gfile.isdir(_join(dataset_dir, entry)):
      unlisted.append(entry)
  return sorted(unlisted)


def _manifest_names(dataset_dir):
  import tensorflow as tf
  suffix = schema.manifest_name('')
  return sorted(entry[:-len(suffix)] for entry in tf.io.gfile.listdir(dataset_dir)
                if entry.endswith(suffix) and entry != suffix)


def _join(dataset_dir, name):
  return os.path.join(dataset_dir, name) if '://' not in dataset_dir else (
      dataset_dir.rstrip('/') + '/' + name)


class _HashingReader:
  """A read-only file wrapper that hashes and counts every byte read through it."""

  def __init__(self, fileobj):
    self._file = fileobj
    self.sha256 = hashlib.sha256()
    self.num_bytes = 0

  def read(self, n=-1):
    data = self._file.read(n)
    self.sha256.update(data)
    self.num_bytes += len(data)
    return data

  def drain(self):
    """Reads (and hashes) the rest of the file."""
    while self.read(1 << 20):
      pass
