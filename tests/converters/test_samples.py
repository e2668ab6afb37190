"""The embedded sample generator writes valid, deterministic, learnable idx files."""
import os

import numpy as np

from converters import samples
from tests.converters.conftest import NUM_TEST, NUM_TRAIN, read_idx


def test_writes_the_four_official_file_names(mnist_sample):
  assert sorted(os.listdir(mnist_sample)) == sorted([
      'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
      't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'])


def test_files_are_valid_idx(mnist_sample):
  for prefix, n in (('train', NUM_TRAIN), ('t10k', NUM_TEST)):
    magic, dims, images = read_idx(os.path.join(mnist_sample, f'{prefix}-images-idx3-ubyte.gz'))
    assert (magic, dims) == (2051, (n, 28, 28))
    magic, dims, labels = read_idx(os.path.join(mnist_sample, f'{prefix}-labels-idx1-ubyte.gz'))
    assert (magic, dims) == (2049, (n,))
    assert labels.min() >= 0 and labels.max() <= 9
    # Balanced classes, digits drawn bright on a dark background.
    assert np.bincount(labels, minlength=10).tolist() == [n // 10] * 10
    assert images.max() > 200
    assert np.median(images) < 40


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
  a = samples.write_mnist_sample(str(tmp_path / 'a'), num_train=20, num_test=10, seed=3)
  b = samples.write_mnist_sample(str(tmp_path / 'b'), num_train=20, num_test=10, seed=3)
  c = samples.write_mnist_sample(str(tmp_path / 'c'), num_train=20, num_test=10, seed=4)
  name = 'train-images-idx3-ubyte.gz'
  data = {k: open(p[name], 'rb').read() for k, p in (('a', a), ('b', b), ('c', c))}
  assert data['a'] == data['b']
  assert data['a'] != data['c']


def test_digits_are_learnable(mnist_sample):
  """Even 1-nearest-neighbour on raw pixels, from 300 examples, beats chance (0.1) by far."""
  _, _, train = read_idx(os.path.join(mnist_sample, 'train-images-idx3-ubyte.gz'))
  _, _, train_labels = read_idx(os.path.join(mnist_sample, 'train-labels-idx1-ubyte.gz'))
  _, _, test = read_idx(os.path.join(mnist_sample, 't10k-images-idx3-ubyte.gz'))
  _, _, test_labels = read_idx(os.path.join(mnist_sample, 't10k-labels-idx1-ubyte.gz'))
  x = train.reshape(len(train), -1).astype(np.float32)
  t = test.reshape(len(test), -1).astype(np.float32)
  nearest = np.argmin(((t[:, None, :] - x[None]) ** 2).sum(-1), axis=1)
  assert (train_labels[nearest] == test_labels).mean() > 0.35
