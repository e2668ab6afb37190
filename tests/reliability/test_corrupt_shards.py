"""Damaged shards at read time: the provider names the shard (or skips and counts exactly), and
tools/verify.py names the file.

tests/providers/test_corrupt_data.py already proves a flipped byte in a record's data,
a shard cut inside its last record and undecodable images (eager and graph errors
naming the shard and record; `skip_corrupt` counts). These add the cases it leaves
out: a flipped byte in each other part of a record's framing, a shard cut at a
record boundary, an empty shard, a shard that vanishes after the provider was
built, and verify.py's verdict on each. docs/RELIABILITY.md lists the whole matrix.

The split: 3 shards of 8 PNG records (labels 0..23, shard-major) with a manifest
holding their true counts, sha256 and sizes, as the converters write it.
"""
import hashlib
import os
import shutil

import pytest
import tensorflow as tf

from descriptors import manifest as manifest_lib
from descriptors import schema
from providers import dataset_data_provider as ddp
from providers import errors
from tests.providers import providers_testlib as lib
from tests.reliability import bounded
from tools import verify as verify_tool

PER_SHARD = 8
NUM_SHARDS = 3
ALL = set(range(PER_SHARD * NUM_SHARDS))
NAME = 'toy'
# A bound against hanging (a regression once spun forever on a vanished shard), not a timing.
HANG_BOUND_S = 120


def _shard_name(i):
  return f'{NAME}_train_{i:05d}-of-{NUM_SHARDS:05d}.tfrecord'


def _write_manifest(directory, files):
  shards = []
  for f in files:
    data = open(f, 'rb').read()
    shards.append(manifest_lib.Shard(file=os.path.basename(f), num_examples=PER_SHARD,
                                     sha256=hashlib.sha256(data).hexdigest(), bytes=len(data)))
  manifest = manifest_lib.Manifest(name=NAME, splits={'train': manifest_lib.Split(tuple(shards))},
                                   label_names=tuple(f'c{i}' for i in ALL),
                                   slimdata_version='test')
  with open(os.path.join(directory, schema.manifest_name(NAME)), 'w') as f:
    f.write(manifest.to_json())
  return manifest


@pytest.fixture(scope='module')
def clean(tmp_path_factory):
  """(folder, records of each shard): a converted split with its manifest."""
  root = str(tmp_path_factory.mktemp('clean'))
  files, _, records = lib.write_shards(root, NUM_SHARDS, PER_SHARD, name='unused')
  shard_records = []
  for i, f in enumerate(files):
    os.rename(f, os.path.join(root, _shard_name(i)))
    shard_records.append([records[i * PER_SHARD + j] for j in range(PER_SHARD)])
  _write_manifest(root, [os.path.join(root, _shard_name(i)) for i in range(NUM_SHARDS)])
  return root, shard_records


def _damaged(clean, tmp_path, damage):
  """A copy of the clean folder with `damage(path of shard 1, its records)` applied."""
  root, shard_records = clean
  target = str(tmp_path / 'data')
  shutil.copytree(root, target)
  damage(os.path.join(target, _shard_name(1)), shard_records[1])
  return target


def _files(folder):
  return [os.path.join(folder, _shard_name(i)) for i in range(NUM_SHARDS)]


def _dataset(folder, with_manifest=True):
  ds = lib.dataset(_files(folder), fixed_shape=False)
  ds.manifest = manifest_lib.Manifest.from_json(
      open(os.path.join(folder, schema.manifest_name(NAME))).read()) if with_manifest else None
  return ds


def _flip(offset_in_record):
  """Damage: flips one byte of record 3 at `offset_in_record` (framing: 8-byte length,
  4-byte length CRC, data, 4-byte data CRC; negative counts from the record's end)."""
  def damage(path, records):
    start = lib.record_offsets(records)[3]
    end = start + len(records[3]) + 16
    data = bytearray(open(path, 'rb').read())
    data[(start if offset_in_record >= 0 else end) + offset_in_record] ^= 0x5A
    open(path, 'wb').write(bytes(data))
  return damage


def _cut_after(num_records):
  def damage(path, records):
    with open(path, 'r+b') as f:
      f.truncate(lib.record_offsets(records + [b''])[num_records])
  return damage


# fault: (damage to shard 1, labels lost). TensorFlow cannot read past a bad record, so a
# bad record in shard 1 loses records 3..7 (labels 11..15).
FAULTS = {
    'flipped length': (_flip(2), set(range(11, 16))),
    'flipped length crc': (_flip(9), set(range(11, 16))),
    'flipped data crc': (_flip(-2), set(range(11, 16))),
    'cut at a record boundary': (_cut_after(5), set(range(13, 16))),
    'empty': (_cut_after(0), set(range(8, 16))),
}


def _bounded(fn):
  """fn()'s result or exception, failing the test if it does not return within the bound."""
  value, error = bounded.run_bounded(fn, HANG_BOUND_S, 'reading')
  if error is not None:
    raise error
  return value


def _eager_labels_until_error(provider):
  labels = []
  with pytest.raises(errors.CorruptDataError) as info:
    while True:
      labels.append(int(provider.get(['label'])[0]))
  return labels, info.value


@pytest.mark.parametrize('fault', sorted(FAULTS))
def test_eager_error_names_the_shard_and_skip_counts_exactly(clean, tmp_path, fault):
  damage, lost = FAULTS[fault]
  folder = _damaged(clean, tmp_path, damage)
  bad = _files(folder)[1]
  provider = ddp.DatasetDataProvider(_dataset(folder), shuffle=False, num_epochs=1)
  labels, error = _bounded(lambda: _eager_labels_until_error(provider))
  assert error.file == bad
  assert labels == list(range(min(lost)))   # everything before the damage, in order

  skipping = ddp.DatasetDataProvider(_dataset(folder), shuffle=True, num_readers=2,
                                     num_epochs=1, skip_corrupt=True)
  got = _bounded(lambda: lib.drain_eager(skipping, ['label']))
  assert sorted(int(l) for [l] in got) == sorted(ALL - lost)
  assert skipping.num_skipped == len(lost)


@pytest.mark.parametrize('fault', ['flipped length', 'cut at a record boundary', 'empty'])
def test_graph_error_names_the_shard(clean, tmp_path, fault):
  folder = _damaged(clean, tmp_path, FAULTS[fault][0])
  with tf.Graph().as_default():
    provider = ddp.DatasetDataProvider(_dataset(folder), shuffle=True, num_readers=3,
                                       num_epochs=1)
    [label] = provider.get(['label'])
    with tf.compat.v1.Session() as sess:
      with pytest.raises(tf.errors.InvalidArgumentError) as info:
        _bounded(lambda: lib.drain_session(sess, label))
  assert f'shard {_files(folder)[1]} is corrupt' in info.value.message


def test_graph_truncated_last_record_names_the_shard(clean, tmp_path):
  """A shard cut inside its last record (eager: test_corrupt_data.py), in a session."""
  records = clean[1][1]   # shard 1's
  folder = _damaged(clean, tmp_path, lambda path, _: open(path, 'r+b').truncate(
      lib.record_offsets(records)[-1] + 20))
  with tf.Graph().as_default():
    provider = ddp.DatasetDataProvider(_dataset(folder, with_manifest=False), shuffle=False,
                                       num_epochs=1)
    [label] = provider.get(['label'])
    with tf.compat.v1.Session() as sess:
      with pytest.raises(tf.errors.InvalidArgumentError) as info:
        _bounded(lambda: lib.drain_session(sess, label))
  offset = lib.record_offsets(records)[-1]
  assert f'{_files(folder)[1]}:{offset}' in info.value.message


def test_without_a_manifest_an_empty_shard_is_a_shard_of_no_records(clean, tmp_path):
  """TFRecord files of zero records are valid; only a manifest can say records are missing."""
  folder = _damaged(clean, tmp_path, _cut_after(0))
  provider = ddp.DatasetDataProvider(_dataset(folder, with_manifest=False), shuffle=False,
                                     num_epochs=1)
  got = lib.drain_eager(provider, ['label'])
  assert [int(l) for [l] in got] == sorted(ALL - set(range(8, 16)))


def test_a_missing_shard_fails_before_any_work(clean, tmp_path):
  """(A manifest listing a missing shard: tests/descriptors/test_get_split.py.)"""
  folder = _damaged(clean, tmp_path, lambda path, _: os.remove(path))
  with pytest.raises(FileNotFoundError, match=_shard_name(1)):
    ddp.DatasetDataProvider(_dataset(folder), num_epochs=1)


def test_a_shard_that_vanishes_after_the_graph_was_built_is_named_not_a_hang(clean, tmp_path):
  folder = _damaged(clean, tmp_path, lambda path, _: None)
  bad = _files(folder)[1]
  for skip_corrupt in (False, True):
    with tf.Graph().as_default():
      provider = ddp.DatasetDataProvider(_dataset(folder), shuffle=False, num_epochs=1,
                                         skip_corrupt=skip_corrupt)
      label, skipped = provider.get(['label']) + [provider.num_skipped]
      os.rename(bad, bad + '.moved')
      with tf.compat.v1.Session() as sess:
        if skip_corrupt:
          got = _bounded(lambda: lib.drain_session(sess, [label, skipped]))
        else:
          with pytest.raises(tf.errors.InvalidArgumentError) as info:
            _bounded(lambda: lib.drain_session(sess, label))
      os.rename(bad + '.moved', bad)
  assert f'shard {bad} is corrupt or truncated' in info.value.message
  assert [int(l) for l, _ in got] == sorted(ALL - set(range(8, 16)))
  assert int(got[-1][1]) == PER_SHARD


def test_a_shard_name_with_a_glob_escape_character_is_read_as_itself(tmp_path):
  """Vanished shards are found by matching each name as a pattern, escaped: `a\\b` must match
  only itself (unescaped, it would match `ab`)."""
  files, _, _ = lib.write_shards(str(tmp_path), 2, 3, name='back\\slash')
  provider = ddp.DatasetDataProvider(lib.dataset(files), shuffle=False, num_epochs=1)
  assert [int(l) for [l] in lib.drain_eager(provider, ['label'])] == list(range(6))


def _verify(folder, capsys):
  code = verify_tool.main(['--dataset_dir', folder])
  captured = capsys.readouterr()
  return code, captured.out + captured.err


@pytest.mark.parametrize('fault,problem', [
    ('flipped length', ':3: '),
    ('flipped length crc', ':3: '),
    ('flipped data crc', ':3: bad data checksum'),
    ('cut at a record boundary', ': holds 5 records, the manifest says 8'),
    ('empty', ': holds 0 records, the manifest says 8'),
])
def test_verify_names_the_file_and_exits_non_zero(clean, tmp_path, capsys, fault, problem):
  """(A flipped data byte and a missing shard: tests/tools/test_verify.py.)"""
  folder = _damaged(clean, tmp_path, FAULTS[fault][0])
  code, out = _verify(folder, capsys)
  assert code == 1, out
  assert f'{_shard_name(1)}{problem}' in out
  assert f'{_shard_name(1)}: sha256' in out
  assert _shard_name(0) + ':' not in out and _shard_name(2) + ':' not in out


def test_verify_names_a_shard_cut_inside_its_last_record(clean, tmp_path, capsys):
  records = clean[1][1]   # shard 1's
  folder = _damaged(clean, tmp_path, lambda path, _: open(path, 'r+b').truncate(
      lib.record_offsets(records)[-1] + 20))
  code, out = _verify(folder, capsys)
  assert code == 1, out
  assert f'{_shard_name(1)}:7: file ends inside' in out
