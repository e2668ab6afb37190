"""The source registry and the Source base class."""
import subprocess
import sys

import pytest

from converters import errors
from converters import mnist
from converters import sources
from tests.conftest import ROOT


def test_registry_finds_mnist():
  assert sources.get_source('mnist') is mnist.MnistSource
  assert mnist.MnistSource.name == 'mnist'


def test_every_registered_name_is_a_dataset_name():
  assert set(sources.source_names()) >= {'cifar10', 'flowers', 'folder', 'imagenet', 'mnist'}


def test_unknown_name_lists_the_known_ones():
  with pytest.raises(errors.UnknownSourceError) as info:
    sources.get_source('flower')
  assert str(info.value) == ("unknown dataset 'flower'; known: "
                             + ', '.join(sources.source_names()))


def test_rng_depends_only_on_name_seed_and_salt():
  a = mnist.MnistSource(seed=3)
  assert a.rng('x').random() == mnist.MnistSource(seed=3).rng('x').random()
  assert a.rng('x').random() != mnist.MnistSource(seed=4).rng('x').random()
  assert a.rng('x').random() != a.rng('y').random()


def test_common_arguments():
  source = mnist.MnistSource(source_dir='/raw', seed=1)
  assert (source.source_dir, source.cache_dir, source.seed) == ('/raw', '/raw', 1)
  assert source.base_url == mnist.DEFAULT_BASE_URL
  assert mnist.MnistSource(source_dir='gs://bucket/raw').cache_dir is None
  with pytest.raises(ValueError, match='seed'):
    mnist.MnistSource(seed='0')


def test_converters_do_not_import_tensorflow():
  """Beam workers import these modules; TensorFlow would add seconds to every start."""
  code = ('import sys\n'
          'from converters import download, errors, extract, mnist, pipeline, samples, sources, '
          'tfrecord\n'
          'for name in sources.source_names():\n'
          '  try:\n'
          '    sources.get_source(name)\n'
          '  except sources.errors.UnknownSourceError:\n'
          '    pass   # a converter not written yet\n'
          'print(sorted(m for m in ("tensorflow", "keras") if m in sys.modules))')
  out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True,
                       check=True, timeout=120)
  assert out.stdout.strip().splitlines()[-1] == '[]'
