"""Archive extraction never writes outside its target folder."""
import io
import os
import tarfile
import zipfile

import pytest

from converters import errors
from converters import extract


def _tar(path, members):
  """members: (TarInfo fields dict, data or None)."""
  with tarfile.open(path, 'w:gz') as tar:
    for fields, data in members:
      info = tarfile.TarInfo(fields.pop('name'))
      for key, value in fields.items():
        setattr(info, key, value)
      if data is not None:
        info.size = len(data)
      tar.addfile(info, io.BytesIO(data) if data is not None else None)
  return str(path)


def _file(name, data=b'x'):
  return {'name': name}, data


def _everything_under(root):
  return sorted(os.path.relpath(os.path.join(d, f), root)
                for d, dirs, files in os.walk(root) for f in files + dirs)


@pytest.fixture
def work(tmp_path):
  """tmp/archives holds the archives, tmp/box/out is the target; tmp/box must stay empty else."""
  (tmp_path / 'archives').mkdir()
  (tmp_path / 'box').mkdir()
  return tmp_path


def test_safe_archive_extracts_files_folders_and_inside_links(work):
  archive = _tar(work / 'archives' / 'ok.tgz', [
      ({'name': 'photos', 'type': tarfile.DIRTYPE}, None),
      _file('photos/daisy/1.jpg', b'one'),
      _file('./photos/rose/2.jpg', b'two'),
      ({'name': 'photos/alias.jpg', 'type': tarfile.SYMTYPE, 'linkname': 'daisy/1.jpg'}, None),
      ({'name': 'photos/copy.jpg', 'type': tarfile.LNKTYPE, 'linkname': 'photos/rose/2.jpg'},
       None),
  ])
  out = str(work / 'box' / 'out')
  written = extract.extract_archive(archive, out)
  assert written == ['photos/daisy/1.jpg', 'photos/rose/2.jpg', 'photos/copy.jpg']
  assert open(os.path.join(out, 'photos/alias.jpg'), 'rb').read() == b'one'
  assert open(os.path.join(out, 'photos/copy.jpg'), 'rb').read() == b'two'


@pytest.mark.parametrize('member, message', [
    (_file('/etc/evil'), 'absolute path'),
    (_file('../escape'), '".." component'),
    (_file('photos/../../escape'), '".." component'),
    (({'name': 'link', 'type': tarfile.SYMTYPE, 'linkname': '../outside'}, None),
     'links outside'),
    (({'name': 'link', 'type': tarfile.SYMTYPE, 'linkname': '/etc/passwd'}, None),
     'absolute path'),
    (({'name': 'hard', 'type': tarfile.LNKTYPE, 'linkname': '../outside'}, None),
     'links outside'),
    (({'name': 'dev', 'type': tarfile.CHRTYPE, 'devmajor': 1, 'devminor': 3}, None),
     'device'),
    (({'name': 'fifo', 'type': tarfile.FIFOTYPE}, None), 'device or FIFO'),
])
def test_unsafe_member_is_rejected_and_nothing_lands_outside(work, member, message):
  (work / 'box' / 'outside').write_bytes(b'keep me')
  archive = _tar(work / 'archives' / 'bad.tgz', [_file('fine.txt'), member])
  out = str(work / 'box' / 'out')
  with pytest.raises(errors.UnsafeArchiveError, match=message) as info:
    extract.extract_archive(archive, out)
  assert 'bad.tgz' in str(info.value)
  assert _everything_under(work / 'box') == ['out', 'out/fine.txt', 'outside']
  assert (work / 'box' / 'outside').read_bytes() == b'keep me'
  assert not os.path.exists('/etc/evil')


def test_chain_of_links_cannot_climb_out(work):
  # `a` is the root itself; `a/b -> ..` looks inside when read as text, but is not.
  archive = _tar(work / 'archives' / 'chain.tgz', [
      ({'name': 'a', 'type': tarfile.SYMTYPE, 'linkname': '.'}, None),
      ({'name': 'a/b', 'type': tarfile.SYMTYPE, 'linkname': '..'}, None),
      _file('b/escaped', b'gotcha')])
  with pytest.raises(errors.UnsafeArchiveError, match="'a/b' links outside its folder"):
    extract.extract_archive(archive, str(work / 'box' / 'out'))
  assert _everything_under(work / 'box') == ['out', 'out/a']


def test_late_link_cannot_redirect_an_earlier_one(work):
  # `x -> c/..` is the root while `c` does not exist; once `c -> .` it would be the parent.
  archive = _tar(work / 'archives' / 'late.tgz', [
      ({'name': 'x', 'type': tarfile.SYMTYPE, 'linkname': 'c/..'}, None),
      ({'name': 'c', 'type': tarfile.SYMTYPE, 'linkname': '.'}, None)])
  with pytest.raises(errors.UnsafeArchiveError, match="'x' links outside its folder"):
    extract.extract_archive(archive, str(work / 'box' / 'out'))
  assert _everything_under(work / 'box') == ['out']


def test_file_member_replaces_a_link_instead_of_writing_through_it(work):
  (work / 'box' / 'target').write_bytes(b'keep me')
  archive = _tar(work / 'archives' / 'replace.tgz', [
      ({'name': 'sub', 'type': tarfile.DIRTYPE}, None),
      ({'name': 'sub/x', 'type': tarfile.SYMTYPE, 'linkname': 'y'}, None),
      _file('sub/y', b'inside'),
      _file('sub/x', b'new')])
  out = work / 'box' / 'out'
  extract.extract_archive(archive, str(out))
  assert (out / 'sub' / 'x').read_bytes() == b'new' and not (out / 'sub' / 'x').is_symlink()
  assert (out / 'sub' / 'y').read_bytes() == b'inside'


def test_size_limit_stops_a_bomb(work):
  archive = _tar(work / 'archives' / 'bomb.tgz', [_file('a', b'\0' * 5000),
                                                  _file('b', b'\0' * 5000)])
  with pytest.raises(errors.UnsafeArchiveError, match="'b'.*size limit"):
    extract.extract_archive(archive, str(work / 'box' / 'out'), max_bytes=8000)
  assert _everything_under(work / 'box') == ['out', 'out/a']


def test_zip_members_are_checked_too(work):
  path = str(work / 'archives' / 'bad.zip')
  with zipfile.ZipFile(path, 'w') as zf:
    zf.writestr('ok.txt', b'fine')
    zf.writestr('../escape.txt', b'no')
  with pytest.raises(errors.UnsafeArchiveError, match='".." component'):
    extract.extract_archive(path, str(work / 'box' / 'out'))
  assert _everything_under(work / 'box') == ['out', 'out/ok.txt']


def test_iter_tar_files_reads_members_in_order_without_disk(work):
  archive = _tar(work / 'archives' / 'stream.tgz', [
      _file('b.jpg', b'B'), _file('a.jpg', b'A'),
      ({'name': 'l', 'type': tarfile.SYMTYPE, 'linkname': 'a.jpg'}, None)])
  assert list(extract.iter_tar_files(archive)) == [('b.jpg', b'B'), ('a.jpg', b'A')]
  with open(archive, 'rb') as f:
    assert [n for n, _ in extract.iter_tar_files(f, archive=archive)] == ['b.jpg', 'a.jpg']
  bad = _tar(work / 'archives' / 'bad_stream.tgz', [_file('../x')])
  with pytest.raises(errors.UnsafeArchiveError, match='bad_stream.tgz'):
    list(extract.iter_tar_files(bad))
