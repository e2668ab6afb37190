"""MNIST: the idx files become PNG examples holding exactly their pixels and labels."""
import functools
import gzip
import http.server
import os
import struct
import threading

import numpy as np
import pytest
import tensorflow as tf

from converters import download
from converters import errors
from converters import mnist
from converters import pipeline
from converters import samples
from descriptors import schema
from tests.converters.conftest import NUM_TEST, NUM_TRAIN, read_idx


def decode_all(path):
  """(images [n, 28, 28, 1], labels, formats, heights, widths) of a shard, via plain TF ops."""
  spec = schema.IMAGE.keys_to_features()
  images, labels, formats, sizes = [], [], set(), set()
  for record in tf.data.TFRecordDataset(path):
    ex = tf.io.parse_single_example(record, spec)
    images.append(tf.io.decode_png(ex[schema.ENCODED]).numpy())
    labels.append(int(ex[schema.LABEL]))
    formats.add(ex[schema.FORMAT].numpy())
    sizes.add((int(ex[schema.HEIGHT]), int(ex[schema.WIDTH])))
  return np.stack(images), np.array(labels), formats, sizes


@pytest.fixture(scope='module')
def converted(mnist_sample, tmp_path_factory):
  out = str(tmp_path_factory.mktemp('mnist_out'))
  result = pipeline.convert(mnist.MnistSource(source_dir=mnist_sample), dataset_dir=out)
  return out, result


def test_one_shard_per_split_uses_the_research_slim_names(converted):
  out, _ = converted
  assert sorted(os.listdir(out)) == [
      'labels.txt', 'mnist_manifest.json', 'mnist_test.tfrecord', 'mnist_train.tfrecord']


def test_labels_txt_names_the_digits(converted):
  out, _ = converted
  lines = open(os.path.join(out, 'labels.txt')).read().splitlines()
  assert lines[0] == '0:zero' and lines[6] == '6:six' and lines[9] == '9:nine'
  assert len(lines) == 10


@pytest.mark.parametrize('split, prefix, n', [('train', 'train', NUM_TRAIN),
                                               ('test', 't10k', NUM_TEST)])
def test_every_example_holds_the_idx_pixels_and_label(converted, mnist_sample, split, prefix, n):
  out, _ = converted
  _, _, want_images = read_idx(os.path.join(mnist_sample, f'{prefix}-images-idx3-ubyte.gz'))
  _, _, want_labels = read_idx(os.path.join(mnist_sample, f'{prefix}-labels-idx1-ubyte.gz'))
  images, labels, formats, sizes = decode_all(os.path.join(out, f'mnist_{split}.tfrecord'))
  assert images.shape == (n, 28, 28, 1)
  np.testing.assert_array_equal(images[..., 0], want_images)
  np.testing.assert_array_equal(labels, want_labels)
  assert formats == {b'png'} and sizes == {(28, 28)}


def test_source_plans_indices_in_file_order(mnist_sample):
  source = mnist.MnistSource(source_dir=mnist_sample)
  info = source.prepare()
  assert source.plan() == {'train': range(NUM_TRAIN), 'test': range(NUM_TEST)}
  assert set(info['files']) == set(mnist.SHA256)
  assert info['official'] is False   # the sample is not the published release
  keys = [key for key, _ in source.read('test', range(5, 8))]
  assert keys == ['t10k-images-idx3-ubyte.gz:5', 't10k-images-idx3-ubyte.gz:6',
                  't10k-images-idx3-ubyte.gz:7']


def _rewrite(path, transform):
  with gzip.open(path, 'rb') as f:
    data = f.read()
  samples.write_gzip(path, transform(data))


def _truncate(directory):
  path = os.path.join(directory, 'train-images-idx3-ubyte.gz')
  _rewrite(path, lambda data: data[:-100])
  return path


def _wrong_magic(directory):
  path = os.path.join(directory, 't10k-labels-idx1-ubyte.gz')
  _rewrite(path, lambda data: struct.pack('>I', 2051) + data[4:])
  return path


def _label_count(directory):
  path = os.path.join(directory, 't10k-labels-idx1-ubyte.gz')
  _rewrite(path, lambda data: struct.pack('>II', 2049, NUM_TEST - 1) + data[8:-1])
  return path


def _cut_gzip(directory):
  path = os.path.join(directory, 'train-labels-idx1-ubyte.gz')
  data = open(path, 'rb').read()
  open(path, 'wb').write(data[:len(data) // 2])
  return path


@pytest.mark.parametrize('damage, message', [
    (_truncate, 'truncated'), (_wrong_magic, 'magic number 2051, expected 2049'),
    (_label_count, f'{NUM_TEST - 1} labels for {NUM_TEST} images'),
    (_cut_gzip, 'cannot decompress')])
def test_bad_source_file_fails_naming_it_before_any_shard(sample_copy, tmp_path, damage, message):
  path = damage(sample_copy)
  out = str(tmp_path / 'out')
  with pytest.raises(errors.SourceFormatError, match=message) as info:
    pipeline.convert(mnist.MnistSource(source_dir=sample_copy), dataset_dir=out)
  assert path in str(info.value)
  written = os.listdir(out) if os.path.exists(out) else []
  assert not [f for f in written if f.endswith('.tfrecord') or f.endswith('.json')]


class _Quiet(http.server.SimpleHTTPRequestHandler):
  def log_message(self, *args):
    pass


def test_downloads_from_the_configured_base_url(mnist_sample, tmp_path, monkeypatch):
  server = http.server.ThreadingHTTPServer(
      ('127.0.0.1', 0), functools.partial(_Quiet, directory=mnist_sample))
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  try:
    # The sample stands in for the release: make its sums the known ones.
    sums = {name: download.sha256_of(os.path.join(mnist_sample, name)) for name in mnist.SHA256}
    monkeypatch.setattr(mnist, 'SHA256', sums)
    source = mnist.MnistSource(base_url=f'http://127.0.0.1:{server.server_port}',
                               cache_dir=str(tmp_path / 'cache'))
    info = source.prepare()
    assert info['files'] == sums and info['official'] is True
    assert sorted(os.listdir(tmp_path / 'cache')) == sorted(sums)
  finally:
    server.shutdown()
    server.server_close()

