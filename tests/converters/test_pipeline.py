"""The generic pipeline: sharding, Beam runners, manifest, atomic writes, reruns, bad images."""
import hashlib
import io
import json
import os
import pickle

import numpy as np
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from PIL import Image

from converters import errors
from converters import mnist
from converters import pipeline
from converters import shards
from converters import sources
from converters import tfrecord
from descriptors import manifest as manifest_lib
from descriptors import mnist as mnist_descriptor
from descriptors import schema
from tests.conftest import ROOT
from tests.converters.conftest import NUM_TEST, NUM_TRAIN

SHARDS = ['mnist_test-00000-of-00002.tfrecord', 'mnist_test-00001-of-00002.tfrecord',
          'mnist_train-00000-of-00002.tfrecord', 'mnist_train-00001-of-00002.tfrecord']


def _convert(raw, out, **kwargs):
  return pipeline.convert(mnist.MnistSource(source_dir=raw), dataset_dir=out, **kwargs)


def _records(path):
  with open(path, 'rb') as f:
    return list(tfrecord.read_records(f, path=path))


@pytest.fixture(scope='module')
def two_runs(mnist_sample, tmp_path_factory):
  """The sample converted into 2 shards per split, in-process and by 2 worker processes."""
  in_process = str(tmp_path_factory.mktemp('in_process'))
  multi = str(tmp_path_factory.mktemp('multi_process'))
  _convert(mnist_sample, in_process, num_shards=2)
  with pytest.MonkeyPatch.context() as mp:
    # Worker processes import converters/ from the repository.
    mp.setenv('PYTHONPATH', os.pathsep.join([ROOT, os.environ.get('PYTHONPATH', '')]))
    options = PipelineOptions(['--direct_running_mode=multi_processing',
                               '--direct_num_workers=2'])
    _convert(mnist_sample, multi, num_shards=2, pipeline_options=options)
  return in_process, multi


def test_num_shards_names_every_shard_and_leaves_nothing_else(two_runs):
  for out in two_runs:
    assert sorted(os.listdir(out)) == sorted(SHARDS + ['labels.txt', 'mnist_manifest.json'])


def test_multi_process_run_writes_byte_identical_shards(two_runs):
  in_process, multi = two_runs
  for name in SHARDS + ['labels.txt']:
    assert open(os.path.join(in_process, name), 'rb').read() == \
        open(os.path.join(multi, name), 'rb').read(), name


def test_manifest_counts_and_checksums_match_the_files(two_runs):
  out = two_runs[0]
  m = manifest_lib.Manifest.from_json(open(os.path.join(out, 'mnist_manifest.json')).read())
  assert {s: m.splits[s].num_examples for s in m.splits} == {'train': NUM_TRAIN,
                                                             'test': NUM_TEST}
  for split in m.splits.values():
    assert len(split.shards) == 2 and split.skipped == ()
    for shard in split.shards:
      data = open(os.path.join(out, shard.file), 'rb').read()
      assert shard.sha256 == hashlib.sha256(data).hexdigest()
      assert shard.bytes == len(data)
      assert shard.num_examples == len(_records(os.path.join(out, shard.file)))
  assert m.name == 'mnist' and m.label_names == mnist_descriptor.LABEL_NAMES
  assert m.seed == 0 and m.schema_version == schema.SCHEMA_VERSION and m.slimdata_version
  assert m.image_format == 'png' and m.options['num_shards'] == {'train': 2, 'test': 2}
  assert set(m.source['files']) == set(mnist.SHA256)
  assert set(m.options['shard_fingerprints']) == set(SHARDS)


def test_shards_split_each_idx_file_in_order(two_runs, mnist_sample):
  out = two_runs[0]
  source = mnist.MnistSource(source_dir=mnist_sample)
  source.prepare()
  want = [schema.IMAGE.encode_example(values) for _, values in source.read('train', range(300))]
  got = (_records(os.path.join(out, 'mnist_train-00000-of-00002.tfrecord')) +
         _records(os.path.join(out, 'mnist_train-00001-of-00002.tfrecord')))
  assert got == want


def test_rerun_keeps_complete_shards_and_redoes_damaged_ones(mnist_sample, tmp_path):
  out = str(tmp_path)
  _convert(mnist_sample, out, num_shards=2)
  before = {name: open(os.path.join(out, name), 'rb').read() for name in SHARDS}
  os.remove(os.path.join(out, SHARDS[0]))
  corrupted = bytearray(before[SHARDS[2]])
  corrupted[len(corrupted) // 2] ^= 0xFF
  open(os.path.join(out, SHARDS[2]), 'wb').write(bytes(corrupted))
  # Back-date the good shards: a rewrite would give them a new modification time.
  for name in (SHARDS[1], SHARDS[3]):
    os.utime(os.path.join(out, name), ns=(10**18, 10**18))

  result = _convert(mnist_sample, out, num_shards=2)

  assert (result.shards_kept, result.shards_written) == (2, 2)
  for name in (SHARDS[1], SHARDS[3]):
    assert os.stat(os.path.join(out, name)).st_mtime_ns == 10**18
  for name in SHARDS:
    assert open(os.path.join(out, name), 'rb').read() == before[name], name
  assert not os.path.exists(os.path.join(out, pipeline.INCOMPLETE_DIR))


def test_rerun_with_other_records_rewrites_same_named_shards(mnist_sample, tmp_path):
  out = str(tmp_path / 'out')
  _convert(mnist_sample, out, num_shards=2)
  os.utime(os.path.join(out, SHARDS[3]), ns=(10**18, 10**18))
  other = str(tmp_path / 'other')
  from converters import samples  # pylint: disable=import-outside-toplevel
  samples.write_mnist_sample(other, num_train=NUM_TRAIN, num_test=NUM_TEST, seed=1)
  result = _convert(other, out, num_shards=2)
  assert result.shards_kept == 0
  assert os.stat(os.path.join(out, SHARDS[3])).st_mtime_ns != 10**18


def test_rerun_with_another_layout_removes_the_old_shards(mnist_sample, tmp_path):
  out = str(tmp_path)
  _convert(mnist_sample, out, num_shards=2)
  _convert(mnist_sample, out, num_shards=1)
  assert sorted(os.listdir(out)) == [
      'labels.txt', 'mnist_manifest.json', 'mnist_test.tfrecord', 'mnist_train.tfrecord']


def test_plan_shards_cuts_contiguous_balanced_chunks():
  plans = shards.plan_shards(spec=mnist_descriptor.SPEC,
                               split_records={'train': range(10), 'test': list('abcdefg')},
                               num_shards={'train': 3, 'test': 2}, identity={'x': 1})
  assert [(p.split, p.index, p.file) for p in plans] == [
      ('test', 0, 'mnist_test-00000-of-00002.tfrecord'),
      ('test', 1, 'mnist_test-00001-of-00002.tfrecord'),
      ('train', 0, 'mnist_train-00000-of-00003.tfrecord'),
      ('train', 1, 'mnist_train-00001-of-00003.tfrecord'),
      ('train', 2, 'mnist_train-00002-of-00003.tfrecord')]
  assert [list(p.records) for p in plans] == [
      list('abc'), list('defg'), [0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]
  again = shards.plan_shards(spec=mnist_descriptor.SPEC,
                               split_records={'train': range(10), 'test': list('abcdefg')},
                               num_shards={'train': 3, 'test': 2}, identity={'x': 1})
  other = shards.plan_shards(spec=mnist_descriptor.SPEC,
                               split_records={'train': range(10), 'test': list('abcdefg')},
                               num_shards={'train': 3, 'test': 2}, identity={'x': 2})
  fingerprints = [p.fingerprint for p in plans]
  assert fingerprints == [p.fingerprint for p in again]
  assert not set(fingerprints) & {p.fingerprint for p in other}
  assert len(set(fingerprints)) == 5


def test_invalid_arguments_fail_before_any_work(mnist_sample, tmp_path):
  source = mnist.MnistSource(source_dir=mnist_sample)
  for kwargs, message in (({'num_shards': 0}, 'num_shards'),
                          ({'on_bad_image': 'ignore'}, 'on_bad_image'),
                          ({'num_shards': NUM_TEST + 1}, 'fewer than')):
    with pytest.raises(ValueError, match=message):
      pipeline.convert(source, dataset_dir=str(tmp_path / 'out'), **kwargs)
  assert not os.path.exists(tmp_path / 'out' / 'mnist_train.tfrecord')


# --- A folder-of-PNGs source, as a new source would plug in. ---------------------------------

class PngFolderSource(sources.Source):
  """`<source_dir>/<split>/<label>_<n>.png`; a file that is not a PNG is a bad image."""
  name = 'pngs'
  spec = mnist_descriptor.SPEC

  def prepare(self):
    return {'files': sorted(os.listdir(self.source_dir))}

  def label_names(self):
    return mnist_descriptor.LABEL_NAMES

  def plan(self):
    return {split: sorted(os.listdir(os.path.join(self.source_dir, split)))
            for split in ('train', 'test')}

  def read(self, split, records):
    for name in records:
      path = os.path.join(self.source_dir, split, name)
      data = open(path, 'rb').read()
      try:
        width, height = Image.open(io.BytesIO(data)).size
      except OSError as e:
        yield sources.Skipped(path, f'not an image: {e}')
        continue
      yield path, {schema.ENCODED: data, schema.FORMAT: b'png', schema.LABEL: int(name[0]),
                   schema.HEIGHT: height, schema.WIDTH: width}


@pytest.fixture
def png_folder(tmp_path):
  for split, count in (('train', 6), ('test', 3)):
    os.makedirs(tmp_path / 'raw' / split)
    for n in range(count):
      out = io.BytesIO()
      Image.fromarray(np.full((4, 5), n * 10, np.uint8)).save(out, format='PNG')
      (tmp_path / 'raw' / split / f'{n % 10}_{n}.png').write_bytes(out.getvalue())
  (tmp_path / 'raw' / 'train' / '7_broken.png').write_bytes(b'not a png at all')
  return str(tmp_path / 'raw')


def test_bad_image_fails_by_default_naming_the_file(png_folder, tmp_path):
  out = tmp_path / 'out'
  with pytest.raises(errors.BadImageError, match=r'7_broken\.png.*--on_bad_image=skip'):
    pipeline.convert(PngFolderSource(source_dir=png_folder), dataset_dir=str(out))
  assert not (out / 'mnist_train.tfrecord').exists()
  assert not (out / 'mnist_manifest.json').exists()
  assert not [f for f in os.listdir(out / pipeline.INCOMPLETE_DIR) if f.endswith('.tmp')]


def test_skipped_images_are_listed_in_the_manifest(png_folder, tmp_path):
  out = str(tmp_path / 'out')
  result = pipeline.convert(PngFolderSource(source_dir=png_folder), dataset_dir=out,
                            on_bad_image='skip')
  train = result.manifest.splits['train']
  assert train.num_examples == 6 and len(_records(os.path.join(out, 'mnist_train.tfrecord'))) == 6
  assert [s['source'] for s in train.skipped] == [os.path.join(png_folder, 'train', '7_broken.png')]
  on_disk = json.load(open(os.path.join(out, 'mnist_manifest.json')))
  assert on_disk['splits']['train']['skipped'][0]['reason'].startswith('not an image')
  # A rerun keeps the shard, and the manifest still lists what it left out.
  again = pipeline.convert(PngFolderSource(source_dir=png_folder), dataset_dir=out,
                           on_bad_image='skip')
  assert again.shards_kept == 2
  assert again.manifest.splits['train'].skipped == train.skipped


def test_failed_rerun_withdraws_the_manifest_and_the_next_keeps_what_it_can(png_folder,
                                                                            tmp_path):
  out = str(tmp_path / 'out')
  pipeline.convert(PngFolderSource(source_dir=png_folder), dataset_dir=out, on_bad_image='skip')
  with pytest.raises(errors.BadImageError):
    pipeline.convert(PngFolderSource(source_dir=png_folder), dataset_dir=out)
  # The shards may be the old ones, but nothing claims the folder is complete.
  assert not os.path.exists(os.path.join(out, 'mnist_manifest.json'))
  result = pipeline.convert(PngFolderSource(source_dir=png_folder), dataset_dir=out,
                            on_bad_image='skip')
  assert result.shards_kept == 2
  assert os.path.exists(os.path.join(out, 'mnist_manifest.json'))


def test_dofns_sources_and_plans_survive_pickling(mnist_sample, tmp_path):
  source = mnist.MnistSource(source_dir=mnist_sample)
  source.prepare()
  plan = shards.plan_shards(spec=source.spec, split_records=source.plan(),
                              num_shards={'train': 1, 'test': 1}, identity={})[0]
  fn = pickle.loads(pickle.dumps(pipeline.WriteShardFn(source, str(tmp_path), 'skip')))
  assert (fn.dataset_dir, fn.on_bad_image) == (str(tmp_path), 'skip')
  assert fn.source.paths == source.paths
  assert pickle.loads(pickle.dumps(plan)) == plan
  transform = pickle.loads(pickle.dumps(pipeline.WriteShards(source, str(tmp_path))))
  assert transform.source.sizes == source.sizes
  copy = pickle.loads(pickle.dumps(source))
  assert list(copy.read('test', range(2))) == list(source.read('test', range(2)))
  skipped = pickle.loads(pickle.dumps(sources.Skipped('a.png', 'bad')))
  assert skipped.to_json() == {'source': 'a.png', 'reason': 'bad'}
  stats = next(fn.process(plan))
  assert stats['num_examples'] == NUM_TEST and stats['file'] == 'mnist_test.tfrecord'
