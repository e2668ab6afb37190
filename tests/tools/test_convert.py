"""tools/convert.py: flags in, shards and a summary out; errors as one line and a non-zero exit."""
import os

import pytest

from converters import samples
from descriptors import manifest as manifest_lib


@pytest.fixture(scope='module')
def raw(tmp_path_factory):
  directory = str(tmp_path_factory.mktemp('raw'))
  samples.write_mnist_sample(directory, num_train=60, num_test=20, seed=0)
  return directory


def test_converts_the_sample_and_prints_a_summary(load_tool, raw, tmp_path, capsys):
  out = str(tmp_path / 'mnist')
  rc = load_tool('convert').main(['--dataset', 'mnist', '--source', raw, '--dataset_dir', out,
                                  '--num_shards', '2', '--direct_running_mode=in_memory'])
  assert rc == 0
  assert sorted(os.listdir(out)) == [
      'labels.txt', 'mnist_manifest.json',
      'mnist_test-00000-of-00002.tfrecord', 'mnist_test-00001-of-00002.tfrecord',
      'mnist_train-00000-of-00002.tfrecord', 'mnist_train-00001-of-00002.tfrecord']
  summary = capsys.readouterr().out
  assert 'train: 60 examples in 2 shards' in summary and 'test: 20 examples' in summary


def test_dataset_name_alias_and_seed(load_tool, raw, tmp_path):
  out = str(tmp_path / 'mnist')
  assert load_tool('convert').main(['--dataset_name=mnist', f'--source={raw}',
                                    f'--dataset_dir={out}', '--seed=5']) == 0
  manifest = manifest_lib.Manifest.from_json(open(os.path.join(out, 'mnist_manifest.json')).read())
  assert manifest.seed == 5
  assert sorted(os.listdir(out))[-2:] == ['mnist_test.tfrecord', 'mnist_train.tfrecord']


def test_unknown_dataset_is_one_line_listing_known_ones(load_tool, tmp_path, capsys):
  rc = load_tool('convert').main(['--dataset', 'mnsit', '--dataset_dir', str(tmp_path)])
  err = capsys.readouterr().err.strip()
  assert rc == 2
  assert err.splitlines() == [
      "convert.py: error: unknown dataset 'mnsit'; known: cifar10, flowers, folder, imagenet, "
      'mnist']


def test_bad_source_file_is_one_line_naming_it(load_tool, raw, tmp_path, capsys):
  broken = tmp_path / 'broken'
  broken.mkdir()
  for name in os.listdir(raw):
    (broken / name).write_bytes(open(os.path.join(raw, name), 'rb').read())
  (broken / 't10k-images-idx3-ubyte.gz').write_bytes(b'not gzip')
  rc = load_tool('convert').main(['--dataset', 'mnist', '--source', str(broken),
                                  '--dataset_dir', str(tmp_path / 'out')])
  err = capsys.readouterr().err.strip().splitlines()
  assert rc == 1
  assert len(err) == 1 and err[0].startswith('convert.py: error: ')
  assert str(broken / 't10k-images-idx3-ubyte.gz') in err[0]


def test_other_flags_reach_beam_and_a_bad_one_fails_before_any_work(load_tool, raw, tmp_path,
                                                                    capsys):
  out = tmp_path / 'out'
  rc = load_tool('convert').main(['--dataset', 'mnist', '--source', raw, '--dataset_dir',
                                  str(out), '--runner=NoSuchRunner'])
  assert rc == 1
  assert 'Unexpected pipeline runner: NoSuchRunner' in capsys.readouterr().err
  assert not out.exists()


def test_missing_dataset_dir_is_a_usage_error(load_tool, raw):
  with pytest.raises(SystemExit) as info:
    load_tool('convert').main(['--dataset', 'mnist', '--source', raw])
  assert info.value.code == 2
