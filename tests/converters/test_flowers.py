"""Flowers: flower_photos.tgz to research/slim's shards, the same on every runner and machine."""
import functools
import http.server
import json
import os
import threading

import numpy as np
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from converters import download
from converters import errors
from converters import flowers
from converters import pipeline
from descriptors import flowers as flowers_descriptor
from descriptors import schema
from tests.conftest import ROOT
from tests.converters import image_fixtures as fx

CLASSES = ('daisy', 'dandelion', 'roses', 'sunflowers', 'tulips')
NUM_IMAGES = 30
VALIDATION = 6


def _photos():
  """`{member name: bytes}` of a small flower_photos.tgz: 6 photos per class, one of them a PNG."""
  files = {'flower_photos/LICENSE.txt': b'photos licensed CC-BY\n'}
  for i in range(NUM_IMAGES):
    files[f'flower_photos/{CLASSES[i % 5]}/{1000 + i}_photo.jpg'] = fx.jpeg(
        i, 32 + 2 * i % 33, 48 - i % 17, quality=85)
  files['flower_photos/roses/1002_photo.jpg'] = fx.png(77)   # a PNG named .jpg
  return files


@pytest.fixture(scope='module')
def archive(tmp_path_factory):
  directory = tmp_path_factory.mktemp('flowers_download')
  files = _photos()
  return fx.write_tar(directory / flowers.ARCHIVE, files), files


@pytest.fixture(scope='module')
def runs(archive, tmp_path_factory):
  """The archive converted in-process, and by 2 worker processes from the extracted folder."""
  path, _ = archive
  in_process = str(tmp_path_factory.mktemp('in_process'))
  multi = str(tmp_path_factory.mktemp('multi_process'))
  source = flowers.FlowersSource(source_dir=path, validation_size=VALIDATION)
  pipeline.convert(source, dataset_dir=in_process)
  extracted = os.path.join(os.path.dirname(path), 'flower_photos')
  with pytest.MonkeyPatch.context() as mp:
    mp.setenv('PYTHONPATH', os.pathsep.join([ROOT, os.environ.get('PYTHONPATH', '')]))
    options = PipelineOptions(['--direct_running_mode=multi_processing',
                               '--direct_num_workers=2'])
    pipeline.convert(flowers.FlowersSource(source_dir=extracted, validation_size=VALIDATION),
                     dataset_dir=multi, pipeline_options=options)
  return in_process, multi


def _shards(split):
  return [flowers_descriptor.SPEC.shard_name(split, i, 5) for i in range(5)]


def _examples(out, split, keys=None):
  examples = []
  for name in _shards(split):
    examples += fx.read_examples(os.path.join(out, name),
                                 keys or schema.IMAGE.keys_to_features())
  return examples


def test_shards_use_research_slim_names_and_split_sizes(runs):
  out, _ = runs
  assert sorted(os.listdir(out)) == sorted(
      _shards('train') + _shards('validation') + ['labels.txt', 'flowers_manifest.json'])
  manifest = json.load(open(os.path.join(out, 'flowers_manifest.json')))
  assert manifest['splits']['train']['num_examples'] == NUM_IMAGES - VALIDATION
  assert manifest['splits']['validation']['num_examples'] == VALIDATION
  assert len(_examples(out, 'validation')) == VALIDATION
  assert manifest['label_names'] == list(CLASSES)
  assert manifest['source']['official'] is False   # a sample, not the published archive
  assert open(os.path.join(out, 'labels.txt')).read().splitlines() == [
      f'{i}:{name}' for i, name in enumerate(CLASSES)]


def test_jpegs_are_stored_as_downloaded_and_labelled_by_folder(runs, archive):
  out, _ = runs
  _, files = archive
  by_bytes = {data: name for name, data in files.items()}
  seen = set()
  for split in ('train', 'validation'):
    for ex in _examples(out, split):
      assert ex[schema.FORMAT] == b'jpg'
      encoded = ex[schema.ENCODED]
      pixels = fx.tf_decode(encoded)
      assert (ex[schema.HEIGHT], ex[schema.WIDTH]) == pixels.shape[:2]
      if encoded in by_bytes:
        name = by_bytes[encoded]
        np.testing.assert_allclose(pixels, fx.pil_rgb(encoded), atol=8)
      else:   # the PNG named .jpg, re-encoded as an RGB JPEG
        name = 'flower_photos/roses/1002_photo.jpg'
        diff = np.abs(pixels.astype(int) - fx.pil_rgb(files[name]))
        assert diff.mean() < 4
      seen.add(name)
      assert ex[schema.LABEL] == CLASSES.index(name.split('/')[1])
  assert len(seen) == NUM_IMAGES


def test_research_slim_descriptor_keys_parse_every_record(runs):
  out, _ = runs
  keys = fx.research_slim_keys_to_features()
  total = 0
  for split in ('train', 'validation'):
    for ex in _examples(out, split, keys):
      image = fx.research_slim_decode(ex['image/encoded'], ex['image/format'])
      assert image.shape[-1] == 3 and 0 <= ex['image/class/label'] < 5
      total += 1
  assert total == NUM_IMAGES


def test_in_process_and_multi_process_runs_write_byte_identical_shards(runs):
  in_process, multi = runs
  for name in _shards('train') + _shards('validation') + ['labels.txt']:
    with open(os.path.join(in_process, name), 'rb') as a, open(os.path.join(multi, name),
                                                               'rb') as b:
      assert a.read() == b.read(), name


def test_the_seed_decides_the_validation_split(archive):
  path, _ = archive
  def validation(seed):
    source = flowers.FlowersSource(source_dir=path, validation_size=VALIDATION, seed=seed)
    source.prepare()
    return source.plan()['validation']
  assert validation(0) == validation(0)
  assert set(validation(0)) != set(validation(1))


def test_too_large_a_validation_split_fails_before_any_shard(archive, tmp_path):
  path, _ = archive
  with pytest.raises(ValueError, match='validation size 30 leaves no training images'):
    pipeline.convert(flowers.FlowersSource(source_dir=path, validation_size=NUM_IMAGES),
                     dataset_dir=str(tmp_path))
  assert not any(n.endswith('.tfrecord') for n in os.listdir(tmp_path))


@pytest.mark.parametrize('member, why', [
    (fx.file_member('../escape'), '".." component'),
    (fx.file_member('/tmp/absolute_member'), 'absolute path'),
    (fx.symlink_member('flower_photos/daisy/link.jpg', '../../../outside'), 'outside'),
])
def test_unsafe_archive_members_are_refused_and_nothing_lands_outside(tmp_path, member, why):
  inner = tmp_path / 'inner'
  inner.mkdir()
  path = fx.write_tar(inner / flowers.ARCHIVE, {'flower_photos/daisy/1.jpg': fx.jpeg(1)},
                      extra=[member])
  before = set(os.listdir(tmp_path))
  with pytest.raises(errors.UnsafeArchiveError, match=why) as info:
    pipeline.convert(flowers.FlowersSource(source_dir=path, validation_size=0),
                     dataset_dir=str(tmp_path / 'out'))
  assert member.name in str(info.value)
  assert set(os.listdir(tmp_path)) <= before | {'out'}
  assert not os.path.exists('/tmp/absolute_member')


class _Quiet(http.server.SimpleHTTPRequestHandler):
  def log_message(self, *args):
    pass


def test_without_a_source_the_archive_is_downloaded_verified_and_extracted(archive, tmp_path,
                                                                          monkeypatch):
  path, _ = archive
  server = http.server.ThreadingHTTPServer(
      ('127.0.0.1', 0), functools.partial(_Quiet, directory=os.path.dirname(path)))
  threading.Thread(target=server.serve_forever, daemon=True).start()
  try:
    url = f'http://127.0.0.1:{server.server_port}/'
    cache = str(tmp_path / 'cache')
    with pytest.raises(errors.DownloadError, match='expected'):
      flowers.FlowersSource(base_url=url, cache_dir=cache).prepare()
    monkeypatch.setattr(flowers, 'SHA256', download.sha256_of(path))
    source = flowers.FlowersSource(base_url=url, cache_dir=cache, validation_size=VALIDATION)
    info = source.prepare()
    assert info['official'] is True and info['files'] == {flowers.ARCHIVE: flowers.SHA256}
    assert source.label_names() == CLASSES
    assert len(source.plan()['train']) == NUM_IMAGES - VALIDATION
  finally:
    server.shutdown()
    server.server_close()
