"""ImageNet (ILSVRC-2012) to research/slim's shards (train-*-of-01024, validation-*-of-00128).

    source = imagenet.ImagenetSource(source_dir='/data/ilsvrc2012_raw')
    pipeline.convert(source, dataset_dir='/data/imagenet')
    python tools/convert.py --dataset imagenet --source /data/ilsvrc2012_raw --dataset_dir ...

Inputs (flags override what `--source DIR` holds under these names):
- `--train_source`: `ILSVRC2012_img_train.tar` (a tar of 1000 `nXXXXXXXX.tar`
  class tars) or a folder `train/` of class folders `nXXXXXXXX/*.JPEG`.
- `--validation_source`: `ILSVRC2012_img_val.tar` or a folder `validation/`
  of `ILSVRC2012_val_*.JPEG`; with `--validation_labels`
  (`imagenet_2012_validation_synset_labels.txt`): one synset per line, for the
  images in sorted file-name order.
- `--bounding_boxes` (optional, `imagenet_2012_bounding_boxes.csv`): rows of
  `filename,xmin,ymin,xmax,ymax` in relative coordinates, several per file.
- `--synsets_text` (optional, `imagenet_metadata.txt`): `synset<TAB>text` lines.

Labels are 1..1000 in sorted synset order (0 is background). Each split is
sorted, then shuffled with the seed. Images that are not RGB JPEGs by content
(a PNG named .JPEG, CMYK or grayscale JPEGs) are re-encoded as RGB JPEGs
(`images.RGB_JPEG`), so `image/colorspace` is always RGB and `image/channels` 3.
Archives are extracted member by member into the cache folder (once); for
remote runners, pass extracted folders on gs://.
"""
import logging
import os
import posixpath
import re

from apache_beam.io.filesystems import FileSystems

from converters import errors
from converters import folder
from converters import images
from converters import raw_files
from converters import sources
from descriptors import imagenet as imagenet_descriptor
from descriptors import schema

TRAIN_ARCHIVE = 'ILSVRC2012_img_train.tar'
VALIDATION_ARCHIVE = 'ILSVRC2012_img_val.tar'
DEFAULT_NAMES = {
    'train_source': (TRAIN_ARCHIVE, 'train'),
    'validation_source': (VALIDATION_ARCHIVE, 'validation', 'val'),
    'validation_labels': ('imagenet_2012_validation_synset_labels.txt',),
    'bounding_boxes': ('imagenet_2012_bounding_boxes.csv',),
    'synsets_text': ('imagenet_metadata.txt',),
}
HOW_TO_GET = (
    'ImageNet cannot be downloaded by slimdata: its licence asks each user to register. '
    'Sign up at https://image-net.org/download-images, download ILSVRC2012_img_train.tar and '
    'ILSVRC2012_img_val.tar (and optionally the bounding boxes), get '
    'imagenet_2012_validation_synset_labels.txt and imagenet_metadata.txt from '
    'tensorflow/models research/slim/datasets, put them in one folder and pass --source FOLDER '
    '(or --train_source, --validation_source, --validation_labels)')
_VALIDATION_IMAGE = re.compile(r'ILSVRC2012_val_\d+\.JPEG$', re.IGNORECASE)


def _read_text(path):
  return folder.read_bytes(path).decode('utf-8')


def parse_boxes(text, *, path):
  """`{file name: ((xmin, ymin, xmax, ymax), ...)}` from the bounding-box CSV."""
  boxes = {}
  for lineno, line in enumerate(text.splitlines(), 1):
    if not line.strip():
      continue
    parts = [p.strip() for p in line.split(',')]
    try:
      if len(parts) != 5:
        raise ValueError(f'{len(parts)} fields')
      box = tuple(float(v) for v in parts[1:])
    except ValueError as e:
      if lineno == 1 and not line[:1].isdigit() and 'xmin' in line:
        continue   # a header row
      raise errors.SourceFormatError(
          f'{path}:{lineno}: expected "filename,xmin,ymin,xmax,ymax", got {line!r} ({e})'
      ) from None
    if not all(0.0 <= v <= 1.0 for v in box) or box[0] > box[2] or box[1] > box[3]:
      raise errors.SourceFormatError(
          f'{path}:{lineno}: box {box} is not in relative coordinates with min <= max')
    boxes.setdefault(posixpath.basename(parts[0]), []).append(box)
  return {name: tuple(b) for name, b in boxes.items()}


def parse_synsets_text(text, *, path):
  """`{synset: text}` from `synset<TAB>text` lines."""
  result = {}
  for lineno, line in enumerate(text.splitlines(), 1):
    if not line.strip():
      continue
    synset, sep, words = line.partition('\t')
    if not sep:
      raise errors.SourceFormatError(f'{path}:{lineno}: expected "synset<TAB>text", got {line!r}')
    result[synset.strip()] = words.strip()
  return result


class ImagenetSource(sources.Source):
  """ILSVRC-2012; records are `(relative path, label, boxes)` under `self.roots[split]`."""
  name = 'imagenet'
  spec = imagenet_descriptor.SPEC

  def __init__(self, *, train_source=None, validation_source=None, validation_labels=None,
               bounding_boxes=None, synsets_text=None, check_images=images.STRUCTURE,
               **common):
    super().__init__(**common)
    images.validate(target=images.RGB_JPEG, check=check_images)
    self.check_images = check_images
    given = {'train_source': train_source, 'validation_source': validation_source,
             'validation_labels': validation_labels, 'bounding_boxes': bounding_boxes,
             'synsets_text': synsets_text}
    self.inputs = {key: value or self._default(key) for key, value in given.items()}
    if not (self.inputs['train_source'] or self.inputs['validation_source']):
      raise ValueError(HOW_TO_GET)
    if self.inputs['validation_source'] and not self.inputs['validation_labels']:
      raise ValueError(
          f'{self.inputs["validation_source"]}: validation images need --validation_labels '
          '(imagenet_2012_validation_synset_labels.txt from tensorflow/models '
          'research/slim/datasets), one synset per image in sorted file-name order')
    self.roots = {}       # split -> folder of the images; set by prepare()
    self.synsets = ()     # label - 1 -> synset
    self.texts = {}       # synset -> human-readable text
    self._files = {}      # split -> sorted [(relative path, synset)]
    self._boxes = {}

  def __getstate__(self):
    # Workers get file names and boxes in the shard plans; the listings stay in the launcher.
    return dict(self.__dict__, _files={}, _boxes={})

  def _default(self, key):
    if not self.source_dir:
      return None
    for name in DEFAULT_NAMES[key]:
      path = FileSystems.join(self.source_dir, name)
      if FileSystems.exists(path):
        return path
    return None

  @classmethod
  def add_flags(cls, parser):
    images.add_flags(parser)
    parser.add_argument('--train_source', default=None,
                        help=f'{TRAIN_ARCHIVE} or a folder of class folders')
    parser.add_argument('--validation_source', default=None,
                        help=f'{VALIDATION_ARCHIVE} or a folder of ILSVRC2012_val_*.JPEG')
    parser.add_argument('--validation_labels', default=None,
                        help='one synset per line, for the validation images in sorted order')
    parser.add_argument('--bounding_boxes', default=None,
                        help='CSV of filename,xmin,ymin,xmax,ymax (relative coordinates)')
    parser.add_argument('--synsets_text', default=None,
                        help='synset<TAB>text lines (imagenet_metadata.txt)')

  def _extracted(self, path, split):
    """The folder of `split`'s images: `path` itself, or its archive extracted into the cache."""
    if not raw_files.is_archive(path):
      return path.rstrip('/')
    directory = self.cache_dir or sources.default_cache_dir(self.name)
    local = raw_files.local_copy(path, directory)
    return raw_files.extract_into(local, os.path.join(directory, split),
                                  stamp=raw_files.stamp_of(local), nested=split == 'train')

  def _validation_files(self, root, labels_path):
    found = FileSystems.match([root + '/*'])[0].metadata_list
    names = sorted(posixpath.basename(m.path) for m in found
                   if _VALIDATION_IMAGE.search(posixpath.basename(m.path)))
    labels = [line.strip() for line in _read_text(labels_path).splitlines() if line.strip()]
    if len(labels) != len(names):
      raise errors.SourceFormatError(
          f'{labels_path}: {len(labels)} labels for the {len(names)} ILSVRC2012_val_*.JPEG '
          f'images in {root}; the file must have one synset per image, in sorted order')
    return list(zip(names, labels))

  def prepare(self):
    info = {'files': {}}
    train, validation = self.inputs['train_source'], self.inputs['validation_source']
    if train:
      self.roots['train'] = self._extracted(train, 'train')
      _, files, listing = folder.list_class_images(self.roots['train'])
      self._files['train'] = files
      info['train_listing_sha256'] = listing
    if validation:
      self.roots['validation'] = self._extracted(validation, 'validation')
      self._files['validation'] = self._validation_files(self.roots['validation'],
                                                         self.inputs['validation_labels'])
    self.synsets = tuple(sorted({s for files in self._files.values() for _, s in files}))
    if self.inputs['bounding_boxes']:
      self._boxes = parse_boxes(_read_text(self.inputs['bounding_boxes']),
                                path=self.inputs['bounding_boxes'])
    if self.inputs['synsets_text']:
      texts = parse_synsets_text(_read_text(self.inputs['synsets_text']),
                                 path=self.inputs['synsets_text'])
      missing = [s for s in self.synsets if s not in texts]
      if missing:
        logging.warning('%s: no text for %d synsets (e.g. %s)', self.inputs['synsets_text'],
                        len(missing), missing[0])
      self.texts = {s: texts.get(s, '') for s in self.synsets}
    info['inputs'] = {k: v for k, v in self.inputs.items() if v}
    info['num_images'] = {split: len(files) for split, files in self._files.items()}
    return info

  def label_names(self):
    if self.texts:
      return tuple(self.texts[s] or s for s in self.synsets)
    return self.synsets

  def plan(self):
    label = {s: i + self.spec.label_offset for i, s in enumerate(self.synsets)}
    result = {}
    for split, files in sorted(self._files.items()):
      refs = [(rel, label[s], self._boxes.get(posixpath.basename(rel), ()))
              for rel, s in files]
      self.rng(split).shuffle(refs)
      result[split] = tuple(refs)
    return result

  def options(self):
    return {'check_images': self.check_images}

  def read(self, split, records):
    root = self.roots[split]
    for rel, label, boxes in records:
      path = FileSystems.join(root, *rel.split('/'))
      try:
        image = images.prepare(folder.read_bytes(path), target=images.RGB_JPEG,
                               check=self.check_images)
      except images.BadImage as e:
        yield sources.Skipped(path, str(e))
        continue
      if image.reencoded:
        logging.info('%s: %s', path, image.reencoded)
      synset = self.synsets[label - self.spec.label_offset]
      yield path, {
          schema.ENCODED: image.data,
          schema.FORMAT: b'JPEG',
          schema.LABEL: label,
          schema.HEIGHT: image.height,
          schema.WIDTH: image.width,
          schema.COLORSPACE: b'RGB',
          schema.CHANNELS: 3,
          schema.SYNSET: synset,
          schema.TEXT: self.texts.get(synset, ''),
          schema.FILENAME: posixpath.basename(rel),
          schema.BBOX_XMIN: [b[0] for b in boxes],
          schema.BBOX_YMIN: [b[1] for b in boxes],
          schema.BBOX_XMAX: [b[2] for b in boxes],
          schema.BBOX_YMAX: [b[3] for b in boxes],
          schema.BBOX_LABEL: [label] * len(boxes),
      }
