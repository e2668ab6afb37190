"""Shards: plans that say which records go into each file, and the atomic, verifiable writes.

    plans = shards.plan_shards(spec=SPEC, split_records={'train': range(6000)},
                               num_shards={'train': 2}, identity={...})
    stats = shards.write_shard(source=source, plan=plans[0], dataset_dir='/data/mnist')

A worker writes a shard to `<dir>/.incomplete/<file>.<uuid>.tmp`, records its
stats (count, sha256, bytes, skipped) in `<dir>/.incomplete/<file>.json`, and
only then renames the shard to its final name; the hidden folder keeps
temporaries out of every reader's glob (`train-*` would match `train-1.tmp`).
A rerun keeps a shard whose final file reads back with valid CRCs and the
count and sha256 recorded for the same plan fingerprint (in the stats file or
the previous manifest); anything else is written again. No Beam here: the
pipeline (converters/pipeline.py) calls `write_shard` from its DoFn.
"""
import dataclasses
import hashlib
import json
import logging
import uuid

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from converters import errors
from converters import sources as sources_lib
from converters import tfrecord

INCOMPLETE_DIR = '.incomplete'
_RAW = CompressionTypes.UNCOMPRESSED


@dataclasses.dataclass(frozen=True)
class ShardPlan:
  """Which records go into one shard; a Beam element, so small and picklable."""
  split: str
  index: int
  num_shards: int
  file: str                 # final name, relative to the dataset directory
  records: object           # a sequence of the source's record references
  fingerprint: str
  # Stats of this very plan from a previous manifest, for reruns (a dict: not hashed).
  expected: dict = dataclasses.field(default=None, hash=False)


def _join(*parts):
  return FileSystems.join(*parts)


def _fingerprint(*parts):
  return hashlib.sha256(repr(parts).encode('utf-8')).hexdigest()


def _identity_fingerprint(identity):
  return hashlib.sha256(json.dumps(identity, sort_keys=True, default=repr).encode('utf-8')
                        ).hexdigest()


def num_shards_per_split(spec, splits, num_shards=None):
  """`{split: n}` from an int for every split, a dict, or None (the spec's defaults)."""
  result = {}
  for split in splits:
    if num_shards is None:
      n = spec.num_shards.get(split, 1)
    elif isinstance(num_shards, dict):
      n = num_shards.get(split, spec.num_shards.get(split, 1))
    else:
      n = num_shards
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
      raise ValueError(f'num_shards for split {split!r} must be a positive int, got {n!r}')
    result[split] = n
  return result


def plan_shards(*, spec, split_records, num_shards, identity, previous=None):
  """Cuts each split's records into contiguous, balanced shards.

  Args:
    spec: the dataset's `DatasetSpec` (names the files).
    split_records: `{split: sequence of record references}` from `Source.plan`.
    num_shards: `{split: n}`.
    identity: a JSON-able value naming the source, its checksums, seed and
      options; part of every fingerprint.
    previous: the previous run's `Manifest` or None; shards it lists under the
      same fingerprint carry their stats in `expected`.

  Returns:
    A list of `ShardPlan`, splits in sorted order, shards by index.
  """
  base = _identity_fingerprint(identity)
  old = _previous_shards(previous)
  plans = []
  for split in sorted(split_records):
    records = split_records[split]
    total, n = len(records), num_shards[split]
    for index in range(n):
      chunk = records[index * total // n:(index + 1) * total // n]
      if hasattr(chunk, 'tolist'):
        chunk = chunk.tolist()   # a NumPy array's repr elides its middle
      if isinstance(chunk, list):
        chunk = tuple(chunk)
      file = spec.shard_name(split, index, n)
      fingerprint = _fingerprint(base, split, index, n, file, chunk)
      expected = old.get(file)
      if expected is not None and expected.get('fingerprint') != fingerprint:
        expected = None
      plans.append(ShardPlan(split=split, index=index, num_shards=n, file=file, records=chunk,
                             fingerprint=fingerprint, expected=expected))
  return plans


def _previous_shards(previous):
  """`{file: stats}` from a previous manifest, for shards it recorded fingerprints of."""
  if previous is None:
    return {}
  fingerprints = previous.options.get('shard_fingerprints', {})
  result = {}
  for split in previous.splits.values():
    for shard in split.shards:
      if shard.file in fingerprints:
        result[shard.file] = {
            'file': shard.file, 'num_examples': shard.num_examples, 'sha256': shard.sha256,
            'bytes': shard.bytes, 'fingerprint': fingerprints[shard.file],
            'skipped': [s for s in split.skipped if s.get('shard') == shard.file]}
  return result


def read_json(path):
  """The JSON object at `path`, or None if it is missing or unreadable."""
  try:
    with FileSystems.open(path, compression_type=_RAW) as f:
      return json.loads(f.read().decode('utf-8'))
  except (IOError, OSError, ValueError):
    return None


def _output_error(path, error):
  # An OS error of a write or close (ENOSPC, EROFS) names no file: name it here.
  return errors.OutputError(
      f'{path}: cannot write it ({error}); free some space or make the folder writable, '
      'then run again (complete shards are kept)')


def guard_output(path, fn, *args, **kwargs):
  """`fn(*args, **kwargs)`, with an OS error turned into an OutputError naming `path`."""
  try:
    return fn(*args, **kwargs)
  except errors.ConversionError:
    raise
  except (IOError, OSError) as e:
    raise _output_error(path, e) from e


class _Output:
  """A file opened for writing through FileSystems whose every OS error names it."""

  def __init__(self, path):
    self.path = path
    self._file = guard_output(path, FileSystems.create, path, compression_type=_RAW)

  def write(self, data):
    guard_output(self.path, self._file.write, data)

  def close(self):
    guard_output(self.path, self._file.close)

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    if exc[0] is None:
      self.close()
    else:
      try:
        self._file.close()
      except (IOError, OSError):
        pass   # the first error is the one to report


def write_atomic(path, data, temp_dir):
  """Writes `data` under a temporary name in `temp_dir`, then renames it to `path`."""
  temp = _join(temp_dir, f'.{uuid.uuid4().hex}.tmp')
  try:
    with _Output(temp) as f:
      f.write(data)
  except errors.OutputError as e:
    _delete_quietly(temp)
    raise _output_error(path, e.__cause__ or e) from e
  replace(temp, path)


def replace(temp, final):
  """Renames `temp` to `final`, replacing an existing `final`; errors name `final`."""
  try:
    FileSystems.rename([temp], [final])
  except (IOError, OSError) as e:
    # Some file systems refuse to rename over an existing file.
    if not FileSystems.exists(final):
      raise _output_error(final, e) from e
    guard_output(final, FileSystems.delete, [final])
    guard_output(final, FileSystems.rename, [temp], [final])


def _delete_quietly(path):
  try:
    FileSystems.delete([path])
  except (IOError, OSError):
    pass   # best effort: the hidden folder is cleared by the next complete run


def verify_shard(path, *, num_examples, sha256=None):
  """True if the TFRecord file at `path` reads back with valid CRCs and matches the counts.

  A missing or corrupt file is not valid (False), never an error: it is redone.
  """
  digest = hashlib.sha256()
  try:
    if not FileSystems.exists(path):
      return False
    with FileSystems.open(path, compression_type=_RAW) as f:
      count = sum(1 for _ in tfrecord.read_records(f, path=path, digest=digest))
  except errors.CorruptRecordError as e:
    logging.warning('rewriting %s: %s', path, e)
    return False
  if count != num_examples:
    logging.warning('rewriting %s: it holds %d records, the plan says %d', path, count,
                    num_examples)
    return False
  if sha256 is not None and digest.hexdigest() != sha256:
    logging.warning('rewriting %s: its sha256 differs from the recorded one', path)
    return False
  return True


def write_shard(*, source, plan, dataset_dir, on_bad_image='fail'):
  """Writes one shard (or keeps a valid one from an earlier run) and returns its stats.

  The stats dict has `file, split, index, num_examples, sha256, bytes, skipped,
  fingerprint, kept`; it is also written to `<dir>/.incomplete/<file>.json`
  before the shard gets its final name.
  """
  final = _join(dataset_dir, plan.file)
  temp_dir = _join(dataset_dir, INCOMPLETE_DIR)
  stats_path = _join(temp_dir, plan.file + '.json')

  recorded = read_json(stats_path)
  if not recorded or recorded.get('fingerprint') != plan.fingerprint:
    recorded = plan.expected
  if recorded and verify_shard(final, num_examples=recorded['num_examples'],
                               sha256=recorded['sha256']):
    stats = dict(recorded, split=plan.split, index=plan.index, kept=True)
    write_atomic(stats_path, json.dumps(stats).encode('utf-8'), temp_dir)
    return stats

  encode = source.spec.schema.encode_example
  temp = _join(temp_dir, f'{plan.file}.{uuid.uuid4().hex}.tmp')
  skipped = []
  seen = 0
  try:
    with _Output(temp) as f:
      writer = tfrecord.TFRecordWriter(f)
      for item in source.read(plan.split, plan.records):
        seen += 1
        if isinstance(item, sources_lib.Skipped):
          if on_bad_image != 'skip':
            raise errors.BadImageError(
                f'{item.key}: {item.reason} (split {plan.split!r}); fix or remove the file, '
                'or pass --on_bad_image=skip to leave it out')
          logging.warning('skipping %s: %s', item.key, item.reason)
          skipped.append(dict(item.to_json(), shard=plan.file))
          continue
        key, values = item
        try:
          record = encode(values)
        except ValueError as e:
          raise errors.ConversionError(f'{key}: {e}') from None
        writer.write(record)
    if seen != len(plan.records):
      raise errors.ConversionError(
          f'source {source.name!r} returned {seen} items for the {len(plan.records)} records '
          f'of {plan.file}; a source must yield one example or Skipped per record')
  except BaseException:
    _delete_quietly(temp)
    raise
  stats = {'file': plan.file, 'split': plan.split, 'index': plan.index,
           'num_examples': writer.num_records, 'sha256': writer.hexdigest(),
           'bytes': writer.num_bytes, 'skipped': skipped, 'fingerprint': plan.fingerprint,
           'kept': False}
  write_atomic(stats_path, json.dumps(stats).encode('utf-8'), temp_dir)
  try:
    replace(temp, final)
  except errors.OutputError:
    _delete_quietly(temp)   # the stats alone keep nothing: a rerun verifies the final file
    raise
  return stats
