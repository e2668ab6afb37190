"""Where a source's raw files are: a given archive or folder, extracted once into a local cache.

    top = raw_files.extract_once('/tmp/flower_photos.tgz', '/tmp/cache', top='flower_photos',
                                 sha256=download.sha256_of('/tmp/flower_photos.tgz'))

Extraction goes through converters/extract.py (member by member, nothing
outside the target folder). A marker holding the archive's sha256 is written
into the extracted folder last, so a rerun reuses a complete extraction of the
same archive and redoes an interrupted or different one.
"""
import logging
import os
import posixpath
import shutil

from apache_beam.io.filesystems import FileSystems

from converters import errors
from converters import extract

MARKER = '.slimdata-extracted'
ARCHIVE_SUFFIXES = ('.tgz', '.tar.gz', '.tar', '.zip')


def is_archive(path):
  return path.lower().endswith(ARCHIVE_SUFFIXES)


def local_copy(path, directory):
  """`path` if it is local, else a copy of it in the local `directory` (through FileSystems)."""
  if '://' not in path:
    return path
  os.makedirs(directory, exist_ok=True)
  local = os.path.join(directory, posixpath.basename(path))
  with FileSystems.open(path) as src, open(local, 'wb') as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
  return local


def _done(folder, stamp):
  marker = os.path.join(folder, MARKER)
  if not os.path.exists(marker):
    return False
  with open(marker, encoding='utf-8') as f:
    return f.read().strip() == stamp


def _mark(folder, stamp):
  with open(os.path.join(folder, MARKER), 'w', encoding='utf-8') as f:
    f.write(stamp + '\n')


def extract_once(archive, directory, *, top, sha256):
  """Extracts `archive` (whose files lie under `top/`) into `directory`, unless done before.

  Returns:
    The local path of the extracted `top` folder.

  Raises:
    UnsafeArchiveError: from converters/extract.py.
    SourceFormatError: if the archive holds no `top/` folder.
  """
  folder = os.path.join(directory, top)
  if _done(folder, sha256):
    return folder
  if os.path.isdir(folder):
    shutil.rmtree(folder)   # a partial extraction, or another archive's
  logging.info('extracting %s into %s', archive, directory)
  extract.extract_archive(archive, directory)
  if not os.path.isdir(folder):
    raise errors.SourceFormatError(f'{archive}: holds no {top}/ folder; is it the right archive?')
  _mark(folder, sha256)
  return folder


def extract_into(archive, folder, *, stamp, nested=False):
  """Extracts `archive` into `folder` itself, unless done before for the same `stamp`.

  With `nested`, every member that is itself a tar (`<name>.tar`, as in
  ILSVRC2012_img_train.tar) is extracted into `folder/<name>/` and removed.

  Returns:
    `folder`.
  """
  if _done(folder, stamp):
    return folder
  if os.path.isdir(folder):
    shutil.rmtree(folder)
  logging.info('extracting %s into %s', archive, folder)
  written = extract.extract_archive(archive, folder)
  if nested:
    for name in written:
      if name.lower().endswith('.tar'):
        inner = os.path.join(folder, *name.split('/'))
        extract.extract_archive(inner, inner[:-len('.tar')])
        os.remove(inner)
  _mark(folder, stamp)
  return folder


def stamp_of(path):
  """A cheap identity of a local file (size and modification time), for huge archives."""
  stat = os.stat(path)
  return f'{os.path.basename(path)}:{stat.st_size}:{int(stat.st_mtime)}'
