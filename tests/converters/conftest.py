"""Fixtures shared by the converter tests: a small MNIST sample in the real idx.gz format."""
import gzip
import os

import numpy as np
import pytest

from converters import samples

NUM_TRAIN = 300
NUM_TEST = 100


def read_idx(path):
  """Parses an idx.gz file independently of converters/: (magic, dims, uint8 array)."""
  with gzip.open(path, 'rb') as f:
    data = f.read()
  magic = int.from_bytes(data[:4], 'big')
  ndim = data[3]
  dims = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
  array = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
  return magic, dims, array.reshape(dims)


@pytest.fixture(scope='session')
def mnist_sample(tmp_path_factory):
  """The four MNIST files with 300 train and 100 test digits (seed 0)."""
  directory = str(tmp_path_factory.mktemp('mnist_raw'))
  samples.write_mnist_sample(directory, num_train=NUM_TRAIN, num_test=NUM_TEST, seed=0)
  return directory


@pytest.fixture
def sample_copy(mnist_sample, tmp_path):
  """A private copy of the sample that a test may damage."""
  directory = tmp_path / 'raw'
  directory.mkdir()
  for name in os.listdir(mnist_sample):
    (directory / name).write_bytes(open(os.path.join(mnist_sample, name), 'rb').read())
  return str(directory)
