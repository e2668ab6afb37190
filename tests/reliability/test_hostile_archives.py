"""Hostile archives given as `--source archive.tgz` write nothing outside their folder, and
an archive that expands past the size limit stops with a clear error.

tests/converters/test_extract.py proves each rule on `extract.extract_archive`;
here the same members arrive the way a user hands them over: inside a
`flower_photos.tgz` passed to `tools/convert.py --dataset flowers --source`.
The archive sits in `box/download/`, where the source extracts it; `box/`
also holds a sentinel file and the link targets, and after the run `box/` must
hold exactly what it held before, plus whatever the safe members put in
`box/download/`.
"""
import io
import os
import tarfile
import zipfile

import pytest

from converters import errors
from converters import extract
from tests.converters import image_fixtures as fx
from tools import convert as convert_tool

GOOD = {f'flower_photos/{c}/{i}.jpg': fx.jpeg(i) for i, c in enumerate(('daisy', 'roses'))}


def _member(name, kind, **fields):
  info = tarfile.TarInfo(name)
  info.type = kind
  for key, value in fields.items():
    setattr(info, key, value)
  return info


HOSTILE = {
    'absolute path': (tarfile.TarInfo('/tmp/slimdata_f1_evil.jpg'), 'absolute path'),
    'dot-dot': (tarfile.TarInfo('flower_photos/../../outside.jpg'), '".." component'),
    'symlink out': (_member('flower_photos/daisy/link.jpg', tarfile.SYMTYPE,
                            linkname='../../../sentinel.txt'), 'links outside'),
    'absolute symlink': (_member('flower_photos/daisy/link.jpg', tarfile.SYMTYPE,
                                 linkname='/etc/passwd'), 'absolute path'),
    'hardlink out': (_member('flower_photos/daisy/hard.jpg', tarfile.LNKTYPE,
                             linkname='../sentinel.txt'), 'links outside'),
    'char device': (_member('flower_photos/daisy/null.jpg', tarfile.CHRTYPE, devmajor=1,
                            devminor=3), 'device'),
    'block device': (_member('flower_photos/daisy/sda.jpg', tarfile.BLKTYPE, devmajor=8,
                             devminor=0), 'device'),
    'fifo': (_member('flower_photos/daisy/pipe.jpg', tarfile.FIFOTYPE), 'device or FIFO'),
}


def _snapshot(root):
  """Every path under `root` (links not followed) with its bytes, or its link target."""
  out = {}
  for folder, dirs, files in os.walk(root):
    for name in dirs + files:
      path = os.path.join(folder, name)
      rel = os.path.relpath(path, root)
      if os.path.islink(path):
        out[rel] = ('link', os.readlink(path))
      elif os.path.isfile(path):
        with open(path, 'rb') as f:
          out[rel] = f.read()
      else:
        out[rel] = 'dir'
  return out


@pytest.fixture
def box(tmp_path):
  root = tmp_path / 'box'
  (root / 'download').mkdir(parents=True)
  (root / 'sentinel.txt').write_bytes(b'keep me')
  return root


def _archive(path, extra):
  with tarfile.open(path, 'w:gz') as tar:
    for name, data in sorted(GOOD.items()):
      info = tarfile.TarInfo(name)
      info.size = len(data)
      tar.addfile(info, io.BytesIO(data))
    info = extra
    tar.addfile(info, io.BytesIO(b'x' * info.size) if info.isfile() else None)
  return str(path)


@pytest.mark.parametrize('case', sorted(HOSTILE))
def test_hostile_member_in_a_source_archive_stops_the_run_and_writes_nothing_outside(
    case, box, tmp_path, capsys):
  member, message = HOSTILE[case]
  archive = _archive(box / 'download' / 'flower_photos.tgz', member)
  before = _snapshot(box)
  out = tmp_path / 'out'
  assert convert_tool.main(['--dataset', 'flowers', '--source', archive,
                            '--dataset_dir', str(out), '--validation_size', '1']) == 1
  err = capsys.readouterr().err
  assert archive in err and repr(member.name) in err and message in err, err
  after = _snapshot(box)
  # Outside box/download nothing changed; inside it only regular files and folders appeared.
  assert {k: v for k, v in after.items() if not k.startswith('download')} == {
      k: v for k, v in before.items() if not k.startswith('download')}
  for rel, value in after.items():
    if rel.startswith('download' + os.sep) and rel not in before:
      assert value == 'dir' or isinstance(value, bytes), (rel, value)
      assert rel.endswith('.jpg') or value == 'dir', rel
  assert not os.path.lexists('/tmp/slimdata_f1_evil.jpg')
  assert not out.exists() or not [f for f in os.listdir(out) if f.endswith('.tfrecord')]


def test_safe_archive_converts_after_the_same_checks(box, tmp_path):
  archive = _archive(box / 'download' / 'flower_photos.tgz',
                     _member('flower_photos/roses/inside.jpg', tarfile.SYMTYPE,
                             linkname='1.jpg'))
  out = tmp_path / 'out'
  assert convert_tool.main(['--dataset', 'flowers', '--source', archive,
                            '--dataset_dir', str(out), '--validation_size', '1',
                            '--num_shards', '1']) == 0
  assert (out / 'flowers_manifest.json').exists()


def test_archive_claiming_more_than_the_limit_stops_before_decompressing(box, tmp_path, capsys):
  # A 2 TiB member header in a few hundred bytes: past the default 1 TiB limit.
  path = box / 'download' / 'flower_photos.tgz'
  with tarfile.open(path, 'w:gz', format=tarfile.GNU_FORMAT) as tar:
    info = tarfile.TarInfo('flower_photos/daisy/huge.jpg')
    info.size = 2 << 40
    tar.addfile(info)   # the header alone: the data would be 2 TiB
  assert os.path.getsize(path) < 1000
  before = _snapshot(box)
  out = tmp_path / 'out'
  assert convert_tool.main(['--dataset', 'flowers', '--source', str(path),
                            '--dataset_dir', str(out)]) == 1
  err = capsys.readouterr().err
  assert str(path) in err and 'huge.jpg' in err and 'size limit' in err, err
  assert {k: v for k, v in _snapshot(box).items() if not os.path.isdir(box / k)} == {
      k: v for k, v in before.items() if not os.path.isdir(box / k)}


def _gzip_bomb_tar(path, expanded):
  """A real .tgz of `expanded` zero bytes in 4 members: it is about 1/1000 of that size."""
  with tarfile.open(path, 'w:gz', compresslevel=9) as tar:
    for i in range(4):
      info = tarfile.TarInfo(f'flower_photos/daisy/zeros_{i}.jpg')
      info.size = expanded // 4
      tar.addfile(info, io.BytesIO(bytes(info.size)))
  return str(path)


def test_gzip_bomb_is_stopped_by_the_limit_with_little_written(box):
  archive = _gzip_bomb_tar(box / 'bomb.tgz', 64 << 20)
  assert os.path.getsize(archive) < 200_000        # 64 MiB from < 200 KB
  target = box / 'download' / 'out'
  limit = 20 << 20
  with pytest.raises(errors.UnsafeArchiveError, match='zeros_1.jpg.*size limit') as info:
    extract.extract_archive(archive, str(target), max_bytes=limit)
  assert 'bomb.tgz' in str(info.value)
  written = sum(len(v) for v in _snapshot(target).values() if isinstance(v, bytes))
  assert written <= limit


def test_zip_bomb_is_stopped_by_the_limit(box):
  path = str(box / 'bomb.zip')
  with zipfile.ZipFile(path, 'w', compression=zipfile.ZIP_DEFLATED) as zf:
    for i in range(3):
      zf.writestr(f'zeros_{i}.bin', bytes(8 << 20))
  assert os.path.getsize(path) < 100_000
  with pytest.raises(errors.UnsafeArchiveError, match='size limit'):
    extract.extract_archive(path, str(box / 'download' / 'z'), max_bytes=12 << 20)
  written = sum(len(v) for v in _snapshot(box / 'download').values() if isinstance(v, bytes))
  assert written <= 12 << 20

