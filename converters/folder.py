"""Class-per-folder images (`--dataset folder`), and the machinery flowers shares with it.

    source = folder.FolderSource(source_dir='/data/pets_raw', name='pets', validation_size=100)
    pipeline.convert(source, dataset_dir='/data/pets', num_shards={'train': 8, 'validation': 1})
    python tools/convert.py --dataset folder --source ./pets_raw --name pets --dataset_dir ./pets

Layout: `<source>/<class>/**/<image>`; every file under a class folder whose
name ends in .jpg, .jpeg, .png, .gif, .bmp or .webp (any case) is an image of
that class, at any depth; other files, hidden files and files directly in
`<source>` are ignored. A class is a folder holding at least one image; labels
are the sorted class names' indices. The validation split takes
`validation_size` images (or `validation_fraction` of them, rounded) from a
seeded shuffle of the sorted file list; the rest, in shuffled order, is train.
Stored images: JPEG and PNG byte for byte, anything else re-encoded
(`images.JPEG_OR_PNG`); each record's `image/format` is `jpeg` or `png`.

Files are listed and read through Beam's `FileSystems`, so `--source` and
`--dataset_dir` may be `gs://` (or any registered file system) paths.
"""
import hashlib
import logging
import os
import posixpath

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from converters import errors
from converters import images
from converters import sources
from descriptors import folder as folder_descriptor
from descriptors import schema

_RAW = CompressionTypes.UNCOMPRESSED


def read_bytes(path):
  """The content of the file at `path`, through FileSystems."""
  with FileSystems.open(path, compression_type=_RAW) as f:
    return f.read()


def strip_slash(path):
  """`path` without a trailing slash (keeping a bare `scheme://`)."""
  return path[:-1] if path.endswith('/') and not path.endswith('://') else path


def list_class_images(root, warn_empty=True):
  """Lists a class-per-folder tree.

  A folder holding no image is no class; with `warn_empty`, each one that holds other
  files (on any file system) or nothing (on a local disk) is logged at WARNING, since
  the classes after it get other label indices than a user may expect.

  Returns:
    `(class names, files, listing sha256)`: sorted class names; sorted
    `(relative path, class name)` pairs; a digest of every image's relative
    path, size and modification time (the source's identity for reruns).

  Raises:
    SourceFormatError: naming `root` when it holds no image in a class folder.
  """
  root = strip_slash(root)
  try:
    found = FileSystems.match([root + '/**'])[0].metadata_list
  except (IOError, OSError) as e:
    raise errors.SourceFormatError(f'{root}: cannot list the folder: {e}') from None
  files, ignored, folders = [], 0, set()
  digest = hashlib.sha256()
  prefix = root + '/'
  for meta in found:
    if not meta.path.startswith(prefix):
      continue
    rel = meta.path[len(prefix):].replace('\\', '/')
    parts = rel.split('/')
    if len(parts) >= 2 and not parts[0].startswith('.'):
      folders.add(parts[0])
    if (len(parts) < 2 or any(p.startswith('.') for p in parts)
        or not rel.lower().endswith(images.EXTENSIONS)):
      ignored += 1
      continue
    files.append((rel, parts[0], meta.size_in_bytes, meta.last_updated_in_seconds))
  files.sort()
  for rel, _, size, mtime in files:
    digest.update(f'{rel}\0{size}\0{mtime}\n'.encode('utf-8'))
  if not files:
    raise errors.SourceFormatError(
        f'{root}: no images in class folders; expected <class>/<image> files with extensions '
        f'{", ".join(images.EXTENSIONS)}')
  if ignored:
    logging.info('%s: ignored %d files that are not images in class folders', root, ignored)
  classes = tuple(sorted({c for _, c, _, _ in files}))
  if warn_empty:
    if os.path.isdir(root):   # empty folders exist only on disk, not in object stores
      folders.update(d for d in os.listdir(root)
                     if not d.startswith('.') and os.path.isdir(os.path.join(root, d)))
    empty = sorted(folders - set(classes))
    if empty:
      logging.warning('%s: folder(s) %s hold no images and are not classes; labels are the '
                      'indices of the %d sorted class folders with images', root,
                      ', '.join(empty), len(classes))
  return classes, [(rel, c) for rel, c, _, _ in files], digest.hexdigest()


def split_validation(refs, *, rng, validation_size):
  """`{'train': ..., 'validation': ...}`: `refs` shuffled by `rng`, the first ones validation.

  `refs` must be in a deterministic (sorted) order; an empty validation split
  is left out.
  """
  refs = list(refs)
  rng.shuffle(refs)
  result = {'train': tuple(refs[validation_size:])}
  if validation_size:
    result['validation'] = tuple(refs[:validation_size])
  return result


class ClassFolderSource(sources.Source):
  """A tree of class folders; records are `(relative path, label)` pairs under `self.root`.

  Subclasses set `target` (an `images` target) and `format_name` (the bytes
  stored in `image/format`, or None for the image's own format), and find the
  root in `locate_root()`.
  """
  target = images.JPEG_OR_PNG
  format_name = None

  def __init__(self, *, check_images=images.STRUCTURE, **common):
    super().__init__(**common)
    images.validate(target=self.target, check=check_images)
    self.check_images = check_images
    self.root = None          # set by prepare()
    self.classes = ()
    self._files = ()

  def __getstate__(self):
    # Workers get their records in the shard plans; the listing stays in the launcher
    # (pickled into every worker, it would cost memory proportional to the dataset).
    return dict(self.__dict__, _files=())

  @classmethod
  def add_flags(cls, parser):
    images.add_flags(parser)

  def locate_root(self):
    """Launcher: `(root folder, source info)`; may download and extract."""
    raise NotImplementedError

  def validation_count(self, total):
    raise NotImplementedError

  def prepare(self):
    self.root, info = self.locate_root()
    self.classes, self._files, listing = list_class_images(self.root)
    count = self.validation_count(len(self._files))
    if count >= len(self._files):
      raise ValueError(f'{self.name}: validation size {count} leaves no training images of '
                       f'the {len(self._files)} in {self.root}; pass a smaller --validation_size')
    info = dict(info, listing_sha256=listing, num_images=len(self._files))
    info.setdefault('files', {})
    return info

  def label_names(self):
    return self.classes

  def plan(self):
    label = {name: i for i, name in enumerate(self.classes)}
    refs = [(rel, label[c]) for rel, c in self._files]
    return split_validation(refs, rng=self.rng(),
                            validation_size=self.validation_count(len(refs)))

  def options(self):
    return {'check_images': self.check_images, 'image_target': self.target}

  def read(self, split, records):
    # One file-system lookup per shard, not two per image (FileSystems dispatches by scheme
    # on every call, which costs more than parsing a JPEG header).
    fs = FileSystems.get_filesystem(self.root)
    for rel, label in records:
      path = fs.join(self.root, *rel.split('/'))
      try:
        with fs.open(path, compression_type=_RAW) as f:
          data = f.read()
        image = images.prepare(data, target=self.target, check=self.check_images)
      except images.BadImage as e:
        yield sources.Skipped(path, str(e))
        continue
      if image.reencoded:
        logging.info('%s: %s', path, image.reencoded)
      yield path, {
          schema.ENCODED: image.data,
          schema.FORMAT: (self.format_name or image.format).encode('ascii'),
          schema.LABEL: label + self.spec.label_offset,
          schema.HEIGHT: image.height,
          schema.WIDTH: image.width,
      }


class FolderSource(ClassFolderSource):
  """Any class-per-folder tree of images (see the module docstring)."""
  name = 'folder'

  def __init__(self, *, name=None, validation_size=None, validation_fraction=None, **common):
    super().__init__(**common)
    if not self.source_dir:
      raise ValueError('folder: --source is required: the folder holding one sub-folder of '
                       'images per class')
    if validation_size is not None and validation_fraction is not None:
      raise ValueError('pass --validation_size or --validation_fraction, not both')
    if validation_size is not None and (not isinstance(validation_size, int)
                                        or validation_size < 0):
      raise ValueError(f'validation_size must be an int >= 0, got {validation_size!r}')
    if validation_fraction is not None and not 0 <= validation_fraction < 1:
      raise ValueError(f'validation_fraction must be in [0, 1), got {validation_fraction!r}')
    self.dataset_name = name or posixpath.basename(strip_slash(self.source_dir)) or 'folder'
    self.validation_size = validation_size
    self.validation_fraction = validation_fraction
    splits = {'train': 0, 'validation': 0}
    self.spec = folder_descriptor.make_spec(self.dataset_name, splits=splits,
                                            image_format=images.JPEG)

  @classmethod
  def add_flags(cls, parser):
    super().add_flags(parser)
    parser.add_argument('--name', default=None,
                        help="the folder dataset's name, prefix of its files (default: the "
                             "source folder's name)")
    parser.add_argument('--validation_size', type=int, default=None,
                        help='number of images in the validation split (default: none)')
    parser.add_argument('--validation_fraction', type=float, default=None,
                        help='fraction of the images in the validation split')

  def locate_root(self):
    return strip_slash(self.source_dir), {'root': strip_slash(self.source_dir)}

  def validation_count(self, total):
    if self.validation_fraction is not None:
      return int(round(total * self.validation_fraction))
    return self.validation_size or 0

  def options(self):
    return dict(super().options(), validation_size=self.validation_size,
                validation_fraction=self.validation_fraction)
