"""The TensorFlow flowers photos (flower_photos.tgz) to JPEG shards (research/slim's layout).

    source = flowers.FlowersSource(source_dir='/tmp/flower_photos.tgz')   # or None: download
    pipeline.convert(source, dataset_dir='/data/flowers')    # flowers_{train,validation}_*.tfrecord
    python tools/convert.py --dataset flowers --dataset_dir /data/flowers

`--source` may be the archive, a folder holding it (or holding its extracted
`flower_photos/`), or the extracted `flower_photos/` folder itself; with none,
the archive is downloaded into the cache, checked against its published
sha256 and extracted member by member (converters/extract.py). Labels are the
sorted class folder names (daisy, dandelion, roses, sunflowers, tulips).
`validation_size` images (350) go to validation by a seeded shuffle (`--seed`,
0) of the sorted file list, the rest to train; unlike research/slim, which
shuffled `os.listdir` order, the split is the same on every machine. JPEGs are
stored as downloaded with `image/format` = `jpg`; a file whose content is not
an RGB JPEG is re-encoded as one (`images.RGB_JPEG`).
"""
import logging
import os

from apache_beam.io.filesystems import FileSystems

from converters import download
from converters import errors
from converters import folder
from converters import images
from converters import raw_files
from converters import sources
from descriptors import flowers as flowers_descriptor

ARCHIVE = 'flower_photos.tgz'
TOP = 'flower_photos'
DEFAULT_BASE_URL = 'https://download.tensorflow.org/example_images/'
# The published sum, as TensorFlow Datasets records it
# (tensorflow_datasets/url_checksums/tf_flowers.txt: 228813984 bytes).
SHA256 = '4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c'


def _has_class_folders(path):
  try:
    return bool(folder.list_class_images(path, warn_empty=False)[0])
  except errors.SourceFormatError:
    return False    # a missing, empty or unlistable folder is no photo folder


class FlowersSource(folder.ClassFolderSource):
  """flower_photos.tgz; records are `(relative path, label)` under the extracted folder."""
  name = 'flowers'
  spec = flowers_descriptor.SPEC
  default_base_url = DEFAULT_BASE_URL
  target = images.RGB_JPEG
  format_name = 'jpg'

  def __init__(self, *, validation_size=350, **common):
    super().__init__(**common)
    if not isinstance(validation_size, int) or validation_size < 0:
      raise ValueError(f'validation_size must be an int >= 0, got {validation_size!r}')
    self.validation_size = validation_size
    self._given_cache = common.get('cache_dir')

  @classmethod
  def add_flags(cls, parser):
    super().add_flags(parser)
    parser.add_argument('--validation_size', type=int, default=350,
                        help='number of images in the validation split')

  def validation_count(self, total):
    return self.validation_size

  def options(self):
    return dict(super().options(), validation_size=self.validation_size)

  def _archive_info(self, archive, sha256):
    return {'files': {ARCHIVE: sha256}, 'official': sha256 == SHA256, 'base_url': self.base_url}

  def _from_archive(self, archive, directory):
    archive = raw_files.local_copy(archive, directory)   # extraction needs a local file
    sha256 = download.sha256_of(archive)
    if sha256 != SHA256:
      logging.info('%s is not the published flower_photos.tgz (a sample?)', archive)
    top = raw_files.extract_once(archive, directory, top=TOP, sha256=sha256)
    return top, self._archive_info(archive, sha256)

  def locate_root(self):
    given = self.source_dir
    if given and raw_files.is_archive(given):
      directory = self._given_cache or (
          os.path.dirname(os.path.abspath(given)) if '://' not in given
          else sources.default_cache_dir(self.name))
      return self._from_archive(given, directory)
    if given:
      given = folder.strip_slash(given)
      top = FileSystems.join(given, TOP)
      if _has_class_folders(top):
        return top, {'files': {}, 'root': top}
      if FileSystems.exists(FileSystems.join(given, ARCHIVE)):
        directory = self._given_cache or (given if '://' not in given
                                          else sources.default_cache_dir(self.name))
        return self._from_archive(FileSystems.join(given, ARCHIVE), directory)
      if _has_class_folders(given):
        return given, {'files': {}, 'root': given}
    directory = self.cache_dir or sources.default_cache_dir(self.name)
    base = self.base_url if self.base_url.endswith('/') else self.base_url + '/'
    archive = download.fetch(base + ARCHIVE, directory=directory, sha256=SHA256)
    top = raw_files.extract_once(archive, directory, top=TOP, sha256=SHA256)
    return top, self._archive_info(archive, SHA256)
