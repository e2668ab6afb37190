"""Shard plans and single-shard writes, without Beam."""
import os

import pytest

from converters import errors
from converters import shards
from converters import sources
from descriptors import mnist as mnist_descriptor
from descriptors import schema


class ListSource(sources.Source):
  """Records are label ints; `None` stands for an image that cannot be read."""
  name = 'list'
  spec = mnist_descriptor.SPEC

  def read(self, split, records):
    for r in records:
      if r is None:
        yield sources.Skipped('broken.png', 'truncated')
      else:
        yield f'{split}/{r}', {schema.ENCODED: b'x' * r, schema.LABEL: r}


def _plan(records, **kwargs):
  return shards.plan_shards(spec=mnist_descriptor.SPEC, split_records={'train': records},
                            num_shards={'train': 1}, identity={}, **kwargs)[0]


def test_write_shard_writes_a_final_file_and_its_stats(tmp_path):
  plan = _plan((1, 2, 3))
  stats = shards.write_shard(source=ListSource(), plan=plan, dataset_dir=str(tmp_path))
  assert (stats['file'], stats['num_examples'], stats['kept']) == ('mnist_train.tfrecord', 3,
                                                                   False)
  assert shards.verify_shard(str(tmp_path / 'mnist_train.tfrecord'), num_examples=3,
                             sha256=stats['sha256'])
  assert shards.read_json(str(tmp_path / shards.INCOMPLETE_DIR / 'mnist_train.tfrecord.json')) \
      == stats
  again = shards.write_shard(source=ListSource(), plan=plan, dataset_dir=str(tmp_path))
  assert again['kept'] and again['sha256'] == stats['sha256']


def test_verify_shard_rejects_wrong_count_wrong_sha_and_missing_files(tmp_path):
  plan = _plan((1, 2))
  stats = shards.write_shard(source=ListSource(), plan=plan, dataset_dir=str(tmp_path))
  path = str(tmp_path / stats['file'])
  assert not shards.verify_shard(path, num_examples=3)
  assert not shards.verify_shard(path, num_examples=2, sha256='0' * 64)
  assert not shards.verify_shard(str(tmp_path / 'missing.tfrecord'), num_examples=0)


def test_a_source_that_loses_records_is_an_error_and_leaves_no_file(tmp_path):
  class Lossy(ListSource):
    def read(self, split, records):
      yield from list(super().read(split, records))[:-1]

  with pytest.raises(errors.ConversionError, match='returned 2 items for the 3 records'):
    shards.write_shard(source=Lossy(), plan=_plan((1, 2, 3)), dataset_dir=str(tmp_path))
  assert not (tmp_path / 'mnist_train.tfrecord').exists()
  assert os.listdir(tmp_path / shards.INCOMPLETE_DIR) == []


def test_keys_outside_the_schema_name_the_record(tmp_path):
  class Extra(ListSource):
    def read(self, split, records):
      for key, values in super().read(split, records):
        yield key, dict(values, **{'image/unknown': 1})

  with pytest.raises(errors.ConversionError, match="train/1: keys not in the schema"):
    shards.write_shard(source=Extra(), plan=_plan((1,)), dataset_dir=str(tmp_path))


def test_numpy_records_are_fingerprinted_by_every_element():
  np = pytest.importorskip('numpy')
  a = np.arange(10000)
  b = a.copy()
  b[5000] = -1
  assert _plan(a).fingerprint != _plan(b).fingerprint
  assert _plan(a).records == tuple(range(10000))
