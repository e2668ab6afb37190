"""Safe archive extraction, member by member.

    written = extract.extract_archive('/tmp/cache/flower_photos.tgz', '/tmp/flowers_raw')
    extract.iter_tar_files('/tmp/cache/ILSVRC2012_img_val.tar')   # (name, bytes), no disk

Rejected, with an error naming the archive and the member: absolute paths,
`..` components, names holding a NUL byte, links whose target lands outside
the target folder, device files and FIFOs, and archives whose content passes
`max_bytes` (a bomb). Each member is checked before anything of it is
written, and every written path is resolved (symlinks included) to confirm it
stays inside the target folder. A corrupt or unreadable archive raises
SourceFormatError naming it (what the tar, gzip, bz2, xz and zip readers
raise is never passed on as is).
"""
import contextlib
import errno
import lzma
import os
import struct
import tarfile
import zipfile
import zlib

from converters import errors

DEFAULT_MAX_BYTES = 1 << 40   # 1 TiB: above ImageNet's 150 GB, below a bomb's claims
_CHUNK = 1 << 20


def _unsafe(archive, member, why):
  return errors.UnsafeArchiveError(
      f'{archive}: member {member!r} {why}; refusing to extract this archive')


# What the standard library's archive readers raise for corrupt input. OSError is
# handled apart: gzip and bz2 raise it with no errno for bad data.
# TypeError: tarfile's stream mode (iter_tar_files) calls ord() on the missing byte of a
# truncated gzip header (CPython 3.11).
_CORRUPT = (tarfile.TarError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError,
            lzma.LZMAError, struct.error, UnicodeError, NotImplementedError, RuntimeError,
            TypeError)
# Errors of a member's name that the file system refuses: the archive's fault, not the disk's.
_NAME_ERRNOS = (errno.ENAMETOOLONG, errno.EILSEQ, errno.EINVAL)


def _corrupt(archive, error):
  return errors.SourceFormatError(
      f'{archive}: corrupt or not a tar/zip archive ({type(error).__name__}: '
      f'{str(error).strip()}); delete it and download it again')


@contextlib.contextmanager
def _reporting_corruption(archive):
  """Turns what the archive readers raise for corrupt input into an error naming `archive`."""
  try:
    yield
  except errors.ConversionError:
    raise
  except _CORRUPT as e:
    raise _corrupt(archive, e) from e
  except OSError as e:
    if e.errno is not None and e.errno not in _NAME_ERRNOS:
      raise   # a real I/O error (disk full, permissions): it names its path
    raise _corrupt(archive, e) from e


def _clean_name(archive, name):
  """The member's relative path, or an error if it is absolute or climbs with `..`."""
  if '\x00' in name:
    raise _unsafe(archive, name, 'has a NUL byte in its name')
  if name.startswith(('/', '\\')) or (len(name) > 1 and name[1] == ':'):
    raise _unsafe(archive, name, 'has an absolute path')
  parts = [p for p in name.replace('\\', '/').split('/') if p not in ('', '.')]
  if '..' in parts:
    raise _unsafe(archive, name, 'has a ".." component')
  return '/'.join(parts)


def _inside(root, path):
  root = os.path.realpath(root)
  path = os.path.realpath(path)
  return path == root or path.startswith(root + os.sep)


def _link(archive, directory, member, name, budget):
  """Makes a link member: a symlink as is, a hard link as a copy; both must stay inside.

  A symlink's target is resolved from the link's real folder and may not use
  `..`, so a chain of links (`a -> .`, then `a/b -> ..`) cannot climb out.
  """
  if member.linkname.startswith('/'):
    raise _unsafe(archive, member.name, f'links to the absolute path {member.linkname!r}')
  path = _target(archive, directory, name)
  parent = os.path.dirname(path)
  os.makedirs(parent, exist_ok=True)
  if member.issym():
    # A target with `..` could climb out once a later member turns a folder on
    # its way into a link, so symlinks may only point down from their folder.
    if '..' in member.linkname.replace('\\', '/').split('/'):
      raise _unsafe(archive, member.name, f'links outside its folder ({member.linkname!r})')
    if not _inside(directory, os.path.join(os.path.realpath(parent), member.linkname)):
      raise _unsafe(archive, member.name, f'links outside the target folder ({member.linkname!r})')
    if os.path.lexists(path):
      os.remove(path)
    os.symlink(member.linkname, path)
    return []
  # Hard link names are relative to the archive root.
  source = os.path.join(directory, *member.linkname.split('/'))
  if not _inside(directory, source):
    raise _unsafe(archive, member.name, f'links outside the target folder ({member.linkname!r})')
  if not os.path.isfile(source):
    raise _unsafe(archive, member.name, f'links to {member.linkname!r}, not extracted before it')
  if os.path.lexists(path):
    os.remove(path)
  with open(source, 'rb') as src:
    _copy(src, path, budget, archive, member.name)
  return [name]


def _copy(src, dst_path, budget, archive, name):
  """Copies a stream into a new file, charging its bytes to `budget` (a one-item list)."""
  with open(dst_path, 'wb') as dst:
    for block in iter(lambda: src.read(_CHUNK), b''):
      budget[0] -= len(block)
      if budget[0] < 0:
        dst.close()
        os.remove(dst_path)
        raise _unsafe(archive, name, 'takes the archive past its size limit (a bomb?)')
      dst.write(block)


def extract_archive(archive, directory, *, max_bytes=DEFAULT_MAX_BYTES):
  """Extracts a tar (any compression) or zip archive into `directory`.

  Returns:
    The relative names of the regular files written, in archive order.

  Raises:
    UnsafeArchiveError: at the first unsafe member (earlier members stay).
    SourceFormatError: if the archive is corrupt or not a tar or zip archive.
  """
  os.makedirs(directory, exist_ok=True)
  with _reporting_corruption(archive):
    if zipfile.is_zipfile(archive):
      return _extract_zip(archive, directory, max_bytes)
    return _extract_tar(archive, directory, max_bytes)


def _target(archive, directory, name):
  path = os.path.join(directory, *name.split('/'))
  if not _inside(directory, path):
    raise _unsafe(archive, name, 'would be written outside the target folder')
  return path


def _extract_tar(archive, directory, max_bytes):
  written = []
  budget = [max_bytes]
  with tarfile.open(archive, 'r:*') as tar:
    for member in tar:
      name = _clean_name(archive, member.name)
      if not name:
        continue
      if member.isdev() or member.isfifo():
        raise _unsafe(archive, member.name, 'is a device or FIFO')
      if member.islnk() or member.issym():
        written.extend(_link(archive, directory, member, name, budget))
        continue
      path = _target(archive, directory, name)
      if member.isdir():
        os.makedirs(path, exist_ok=True)
        continue
      if not member.isfile():
        raise _unsafe(archive, member.name, 'is not a file, folder or link')
      if member.size > budget[0]:
        raise _unsafe(archive, member.name, 'takes the archive past its size limit (a bomb?)')
      os.makedirs(os.path.dirname(path), exist_ok=True)
      if os.path.islink(path):
        os.remove(path)   # never write through a link an earlier member made
      with tar.extractfile(member) as src:
        _copy(src, path, budget, archive, member.name)
      written.append(name)
  return written


def _extract_zip(archive, directory, max_bytes):
  written = []
  budget = [max_bytes]
  with zipfile.ZipFile(archive) as zf:
    for info in zf.infolist():
      name = _clean_name(archive, info.filename)
      if not name:
        continue
      mode = info.external_attr >> 16
      if mode and not (mode & 0o170000 in (0o100000, 0o040000) or mode & 0o170000 == 0):
        raise _unsafe(archive, info.filename, 'is a link or special file')
      path = _target(archive, directory, name)
      if info.is_dir():
        os.makedirs(path, exist_ok=True)
        continue
      if info.file_size > budget[0]:
        raise _unsafe(archive, info.filename, 'takes the archive past its size limit (a bomb?)')
      os.makedirs(os.path.dirname(path), exist_ok=True)
      with zf.open(info) as src:
        _copy(src, path, budget, archive, info.filename)
      written.append(name)
  return written


def iter_tar_files(fileobj_or_path, *, archive=None, max_bytes=DEFAULT_MAX_BYTES):
  """Yields `(name, data)` for each regular file of a tar, in order, without writing to disk.

  Names are checked as in `extract_archive`; links, devices and FIFOs are
  skipped. Accepts a path or an open binary file (e.g. from `FileSystems.open`).
  """
  archive = archive or (fileobj_or_path if isinstance(fileobj_or_path, str) else '<tar>')
  return _iter_tar_files(archive, fileobj_or_path, max_bytes)


def _iter_tar_files(archive, fileobj_or_path, max_bytes):
  """iter_tar_files' body: a generator, so corruption is reported as its items are read."""
  with _reporting_corruption(archive):
    yield from _iter_tar_members(archive, fileobj_or_path, max_bytes)


def _iter_tar_members(archive, fileobj_or_path, max_bytes):
  if isinstance(fileobj_or_path, str):
    tar = tarfile.open(fileobj_or_path, 'r|*')   # pylint: disable=consider-using-with
  else:
    tar = tarfile.open(fileobj=fileobj_or_path, mode='r|*')  # pylint: disable=consider-using-with
  budget = max_bytes
  with tar:
    for member in tar:
      name = _clean_name(archive, member.name)
      if not member.isfile() or not name:
        continue
      budget -= member.size
      if budget < 0:
        raise _unsafe(archive, member.name, 'takes the archive past its size limit (a bomb?)')
      with tar.extractfile(member) as f:
        yield name, f.read()

