"""A full disk or a read-only folder stops a conversion with an error naming the path; no half
shard gets a final name, and a rerun once the cause is fixed completes.

The faults are real, not simulated: the output folder is a tmpfs mounted with
a size smaller than the conversion needs (ENOSPC in the middle of a shard),
then remounted larger; or a read-only bind mount (EROFS), then remounted
read-write. Mounting needs root (and a kernel that allows it in this
container); where it is refused the tests are skipped with the reason.
Root ignores permission bits, so the `chmod 555` case runs the command under
`setpriv` without CAP_DAC_OVERRIDE, as a root that respects them.
"""
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from converters import tfrecord
from tests.conftest import ROOT
from tests.reliability import converter_inputs as inputs
from tools import convert as convert_tool

NUM_IMAGES = 60
NUM_SHARDS = 4


def _mount(*args):
  return subprocess.run(['mount', *args], capture_output=True, text=True, check=False)


@pytest.fixture
def mountpoint(tmp_path):
  """An empty folder to mount on; unmounted at the end whatever happens."""
  point = tmp_path / f'mnt_{uuid.uuid4().hex[:8]}'
  point.mkdir()
  yield point
  subprocess.run(['umount', '-l', str(point)], capture_output=True, check=False)


def _require(result):
  if result.returncode != 0:
    pytest.skip(f'cannot mount here ({result.stderr.strip()}); needs root in a container '
                'that allows mount')


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
  return inputs.write_photos(tmp_path_factory.mktemp('photos'), NUM_IMAGES)


@pytest.fixture(scope='module')
def reference(photos, tmp_path_factory):
  """`{file: bytes}` of the same conversion into an ordinary folder."""
  out = str(tmp_path_factory.mktemp('reference'))
  assert convert_tool.main(_flags(photos, out)) == 0
  return inputs.read_tree(out)


def _flags(photos, out):
  return ['--dataset', 'flowers', '--source', photos, '--dataset_dir', out,
          '--validation_size', '10', '--num_shards', str(NUM_SHARDS)]


def _assert_no_half_shard(out, reference):
  """Every final-named file is the complete reference file; temporaries are only hidden."""
  for name in os.listdir(out):
    if name.startswith('.'):
      continue
    path = os.path.join(out, name)
    with open(path, 'rb') as f:
      data = f.read()
    assert data == reference[name], f'{name} is incomplete under its final name'
    if name.endswith('.tfrecord'):
      with open(path, 'rb') as f:
        assert list(tfrecord.read_records(f, path=path))
  hidden = os.path.join(out, '.incomplete')
  if os.path.isdir(hidden):
    assert not [f for f in os.listdir(hidden) if f.endswith('.tmp')], os.listdir(hidden)


def test_disk_full_in_a_shard_names_the_file_and_a_rerun_with_space_completes(
    photos, reference, mountpoint, capsys):
  shard_bytes = sum(len(v) for k, v in reference.items() if k.endswith('.tfrecord'))
  # Room for about half the shards: the run fails in the middle of one.
  _require(_mount('-t', 'tmpfs', '-o', f'size={shard_bytes // 2}', 'tmpfs', str(mountpoint)))
  out = str(mountpoint / 'flowers')
  capsys.readouterr()
  assert convert_tool.main(_flags(photos, out)) == 1
  err = capsys.readouterr().err
  assert 'No space left on device' in err and out + '/.incomplete/flowers_' in err, err
  assert 'free some space' in err
  finals = [f for f in os.listdir(out) if not f.startswith('.')]
  assert 'flowers_manifest.json' not in finals
  assert 0 < len(finals) < 2 * NUM_SHARDS
  _assert_no_half_shard(out, reference)

  assert _mount('-o', 'remount,size=8m', str(mountpoint)).returncode == 0
  assert convert_tool.main(_flags(photos, out)) == 0
  summary = capsys.readouterr().out
  assert f'kept {len(finals)} complete shards' in summary, summary
  assert inputs.read_tree(out) == reference


def test_read_only_folder_names_the_path_and_a_rerun_once_writable_completes(
    photos, reference, mountpoint, tmp_path, capsys):
  backing = tmp_path / 'backing'
  backing.mkdir()
  _require(_mount('--bind', str(backing), str(mountpoint)))
  _require(_mount('-o', 'remount,bind,ro', str(mountpoint)))
  capsys.readouterr()
  assert convert_tool.main(_flags(photos, str(mountpoint))) == 1
  err = capsys.readouterr().err
  assert 'Read-only file system' in err and str(mountpoint / '.incomplete') in err, err
  assert os.listdir(backing) == []

  assert _mount('-o', 'remount,bind,rw', str(mountpoint)).returncode == 0
  assert convert_tool.main(_flags(photos, str(mountpoint))) == 0
  assert inputs.read_tree(backing) == reference


def test_read_only_folder_with_a_finished_conversion_fails_and_keeps_it(
    photos, reference, mountpoint, tmp_path, capsys):
  # A rerun over a complete dataset that became read-only: it must not lose the manifest.
  backing = tmp_path / 'backing'
  backing.mkdir()
  assert convert_tool.main(_flags(photos, str(backing))) == 0
  _require(_mount('--bind', str(backing), str(mountpoint)))
  _require(_mount('-o', 'remount,bind,ro', str(mountpoint)))
  capsys.readouterr()
  assert convert_tool.main(_flags(photos, str(mountpoint))) == 1
  assert 'Read-only file system' in capsys.readouterr().err
  assert inputs.read_tree(backing) == reference


def test_folder_without_write_permission_fails_at_the_rename_naming_the_shard(
    photos, reference, tmp_path):
  # `.incomplete/` is writable (left by an earlier run), the dataset folder is not: the
  # shard is written, then cannot get its final name.
  if os.geteuid() != 0 or not shutil.which('setpriv'):
    pytest.skip('needs root and setpriv to drop CAP_DAC_OVERRIDE')
  out = tmp_path / 'out'
  (out / '.incomplete').mkdir(parents=True)
  out.chmod(0o555)
  command = ['setpriv', '--bounding-set=-dac_override,-dac_read_search', sys.executable,
             os.path.join(ROOT, 'tools', 'convert.py'), *_flags(photos, str(out))]
  try:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=False)
  finally:
    out.chmod(0o755)
  assert result.returncode == 1, result.stderr[-2000:]
  error = result.stderr.strip().splitlines()[-1]
  assert error.startswith(f'convert.py: error: {out}/flowers_'), error
  assert 'Permission denied' in error and 'make the folder writable' in error, error
  assert [f for f in os.listdir(out) if not f.startswith('.')] == []
  assert not [f for f in os.listdir(out / '.incomplete') if f.endswith('.tmp')]
  assert convert_tool.main(_flags(photos, str(out))) == 0
  assert inputs.read_tree(out) == reference
