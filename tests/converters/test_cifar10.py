"""CIFAR-10: binary batches become PNG examples holding exactly their pixels; nothing unpickled."""
import os
import pickle

import numpy as np
import pytest

from converters import cifar10
from converters import errors
from converters import pipeline
from descriptors import schema
from tests.converters import image_fixtures as fx

NAMES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')
PER_BATCH = 12


def _batch(seed, n=PER_BATCH):
  """(file bytes, labels, images [n, 32, 32, 3]) of a binary batch, built with NumPy."""
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, 10, n).astype(np.uint8)
  images = rng.integers(0, 256, (n, 32, 32, 3)).astype(np.uint8)
  planes = images.transpose(0, 3, 1, 2).reshape(n, 3072)   # R plane, G plane, B plane
  return np.concatenate([labels[:, None], planes], 1).tobytes(), labels, images


def _members():
  files, want = {}, {'train': ([], []), 'test': ([], [])}
  for i, name in enumerate(cifar10.BATCHES['train'] + cifar10.BATCHES['test']):
    data, labels, images = _batch(i)
    files[f'cifar-10-batches-bin/{name}'] = data
    split = 'test' if name.startswith('test') else 'train'
    want[split][0].append(labels)
    want[split][1].append(images)
  files['cifar-10-batches-bin/batches.meta.txt'] = ('\n'.join(NAMES) + '\n\n').encode()
  files['cifar-10-batches-bin/readme.html'] = b'<html></html>'
  return files, {s: (np.concatenate(l), np.concatenate(i)) for s, (l, i) in want.items()}


@pytest.fixture(scope='module')
def archive(tmp_path_factory):
  files, want = _members()
  path = fx.write_tar(tmp_path_factory.mktemp('cifar_download') / cifar10.ARCHIVE, files)
  return path, want


@pytest.fixture(scope='module')
def converted(archive, tmp_path_factory):
  out = str(tmp_path_factory.mktemp('cifar10'))
  result = pipeline.convert(cifar10.Cifar10Source(source_dir=archive[0]), dataset_dir=out)
  return out, result


def test_one_file_per_split_with_research_slim_names(converted):
  out, result = converted
  assert sorted(os.listdir(out)) == ['cifar10_manifest.json', 'cifar10_test.tfrecord',
                                     'cifar10_train.tfrecord', 'labels.txt']
  assert result.manifest.splits['train'].num_examples == 5 * PER_BATCH
  assert result.manifest.splits['test'].num_examples == PER_BATCH
  assert result.manifest.label_names == NAMES
  assert open(os.path.join(out, 'labels.txt')).read().splitlines()[3] == '3:cat'


@pytest.mark.parametrize('split', ['train', 'test'])
def test_every_example_holds_its_record_pixels_and_label(converted, archive, split):
  out, _ = converted
  labels, images = archive[1][split]
  examples = fx.read_examples(os.path.join(out, f'cifar10_{split}.tfrecord'),
                              schema.IMAGE.keys_to_features())
  assert len(examples) == len(labels)
  for ex, label, image in zip(examples, labels, images):
    assert ex[schema.FORMAT] == b'png' and ex[schema.LABEL] == label
    assert (ex[schema.HEIGHT], ex[schema.WIDTH]) == (32, 32)
    np.testing.assert_array_equal(fx.tf_decode(ex[schema.ENCODED]), image)


def test_research_slim_descriptor_keys_parse_every_record(converted, archive):
  out, _ = converted
  for split in ('train', 'test'):
    examples = fx.read_examples(os.path.join(out, f'cifar10_{split}.tfrecord'),
                                fx.research_slim_keys_to_features())
    np.testing.assert_array_equal([ex['image/class/label'] for ex in examples],
                                  archive[1][split][0])
    for ex in examples:
      assert fx.research_slim_decode(ex['image/encoded'], ex['image/format']).shape == (32, 32, 3)


def test_an_extracted_folder_gives_the_same_shards(converted, archive, tmp_path):
  files, _ = _members()
  fx.write_files(tmp_path / 'raw', files)
  out = str(tmp_path / 'out')
  pipeline.convert(cifar10.Cifar10Source(source_dir=str(tmp_path / 'raw')), dataset_dir=out)
  for name in ('cifar10_train.tfrecord', 'cifar10_test.tfrecord'):
    assert open(os.path.join(out, name), 'rb').read() == \
        open(os.path.join(converted[0], name), 'rb').read()


@pytest.fixture
def no_unpickling(monkeypatch):
  def refuse(*args, **kwargs):
    raise AssertionError('pickle must never load CIFAR data')
  monkeypatch.setattr(pickle, 'load', refuse)
  monkeypatch.setattr(pickle, 'loads', refuse)


def _python_batch():
  return pickle.dumps({b'labels': [1, 2], b'data': np.zeros((2, 3072), np.uint8)}, protocol=2)


def test_the_python_archive_is_refused_naming_the_binary_one(tmp_path, no_unpickling):
  path = fx.write_tar(tmp_path / 'cifar-10-python.tar.gz',
                      {'cifar-10-batches-py/data_batch_1': _python_batch()})
  with pytest.raises(errors.SourceFormatError, match='cifar-10-binary.tar.gz') as info:
    pipeline.convert(cifar10.Cifar10Source(source_dir=path), dataset_dir=str(tmp_path / 'o'))
  assert 'never unpickles' in str(info.value)
  # Renamed, it is still found out by its content.
  renamed = fx.write_tar(tmp_path / 'renamed.tar.gz',
                         {'cifar-10-batches-py/data_batch_1': _python_batch()})
  with pytest.raises(errors.SourceFormatError, match='cifar-10-binary.tar.gz'):
    cifar10.Cifar10Source(source_dir=renamed).prepare()


def test_a_folder_of_pickled_batches_is_refused(tmp_path, no_unpickling):
  fx.write_files(tmp_path, {'cifar-10-batches-py/data_batch_1': _python_batch()})
  with pytest.raises(errors.SourceFormatError, match='binary version cifar-10-binary.tar.gz'):
    cifar10.Cifar10Source(source_dir=str(tmp_path)).prepare()


def test_a_batch_of_partial_records_fails_naming_it(tmp_path):
  files, _ = _members()
  files['cifar-10-batches-bin/data_batch_3.bin'] += b'\0' * 100
  fx.write_files(tmp_path / 'raw', files)
  with pytest.raises(errors.SourceFormatError, match='not a whole number of 3073-byte') as info:
    pipeline.convert(cifar10.Cifar10Source(source_dir=str(tmp_path / 'raw')),
                     dataset_dir=str(tmp_path / 'out'))
  assert 'data_batch_3.bin' in str(info.value)
  assert not os.path.exists(tmp_path / 'out' / 'cifar10_train.tfrecord')


def test_a_label_out_of_range_fails_naming_the_batch(tmp_path):
  files, _ = _members()
  data = bytearray(files['cifar-10-batches-bin/test_batch.bin'])
  data[2 * cifar10.RECORD_BYTES] = 10
  files['cifar-10-batches-bin/test_batch.bin'] = bytes(data)
  fx.write_files(tmp_path, files)
  with pytest.raises(errors.SourceFormatError, match=r'test_batch.bin: label 10 in record 2'):
    cifar10.Cifar10Source(source_dir=str(tmp_path)).prepare()
