"""Folder datasets: any class-per-folder tree, odd files found by content, any Beam file system."""
import io
import json
import os
import pickle
import posixpath

import numpy as np
import pytest
import tensorflow as tf
from apache_beam.io.filesystem import FileMetadata
from apache_beam.io.filesystem import FileSystem
from apache_beam.io.filesystems import FileSystems

from converters import errors
from converters import folder
from converters import pipeline
from descriptors import folder as folder_descriptor
from descriptors import schema
from tests.converters import image_fixtures as fx
from tools import convert as convert_tool

CLASSES = ('cats', 'dogs', 'newts')


def _tree():
  """24 images in 3 class folders (one nested), in every format, plus files to ignore."""
  files = {}
  for i in range(18):
    files[f'{CLASSES[i % 3]}/img_{i:02d}.jpg'] = fx.jpeg(i, 32 + i, 40)
  files['cats/gray.jpeg'] = fx.jpeg(51, mode='L')
  files['cats/sub/deep.PNG'] = fx.encode(fx.pixels(55, 36, 30), 'PNG')
  files['dogs/anim.gif'] = fx.encode(fx.pixels(56, 36, 30), 'GIF')
  files['dogs/bitmap.bmp'] = fx.encode(fx.pixels(57, 36, 30), 'BMP')
  files['newts/photo.webp'] = fx.encode(fx.pixels(58, 36, 30), 'WEBP', lossless=True)
  files['newts/cmyk.jpg'] = fx.jpeg(52, mode='CMYK')
  files['newts/png_named.jpg'] = fx.png(53)            # content decides, not the name
  files['cats/notes.txt'] = b'not an image'
  files['dogs/.DS_Store'] = b'\0\0\0'
  files['README.jpg'] = fx.jpeg(54)                    # not in a class folder
  return files


NUM_IMAGES = 25
KEPT_AS_IS = {'jpeg': ('cats/gray.jpeg',), 'png': ('cats/sub/deep.PNG', 'newts/png_named.jpg')}


@pytest.fixture(scope='module')
def raw(tmp_path_factory):
  root = tmp_path_factory.mktemp('pets_raw')
  files = _tree()
  fx.write_files(root, files)
  return str(root), files


@pytest.fixture(scope='module')
def converted(raw, tmp_path_factory):
  root, _ = raw
  out = str(tmp_path_factory.mktemp('pets'))
  source = folder.FolderSource(source_dir=root, name='pets', validation_size=5)
  result = pipeline.convert(source, dataset_dir=out, num_shards={'train': 3, 'validation': 1})
  return out, result


def _examples(out, split):
  manifest = json.load(open(os.path.join(out, 'pets_manifest.json')))
  examples = []
  for shard in manifest['splits'][split]['shards']:
    examples += fx.read_examples(os.path.join(out, shard['file']),
                                 schema.IMAGE.keys_to_features())
  return examples


def test_files_and_counts_follow_the_folder_spec(converted):
  out, result = converted
  spec = folder_descriptor.make_spec('pets')
  assert sorted(os.listdir(out)) == sorted(
      [spec.shard_name('train', i, 3) for i in range(3)]
      + [spec.shard_name('validation', 0, 1), 'labels.txt', 'pets_manifest.json'])
  splits = result.manifest.splits
  assert splits['train'].num_examples == NUM_IMAGES - 5
  assert splits['validation'].num_examples == 5
  assert result.manifest.label_names == CLASSES


def _stored_with_sources(out, files):
  """`(example, source path, source pixels, source bytes)` for every stored example.

  Each stored image is matched to the source image it decodes closest to.
  """
  candidates = [(rel, fx.pil_rgb(data), data) for rel, data in files.items()
                if rel.split('/')[0] in CLASSES and not rel.endswith(('.txt', '.DS_Store'))]
  result = []
  for split in ('train', 'validation'):
    for ex in _examples(out, split):
      pixels = fx.tf_decode(ex[schema.ENCODED])
      same_shape = [c for c in candidates if c[1].shape == pixels.shape]
      rel, want, data = min(same_shape, key=lambda c: np.abs(c[1].astype(int) - pixels).mean())
      result.append((ex, pixels, rel, want, data))
  return result


def test_labels_are_the_sorted_class_folders(converted, raw):
  out, files = converted[0], raw[1]
  assert open(os.path.join(out, 'labels.txt')).read() == '0:cats\n1:dogs\n2:newts\n'
  for ex, _, rel, _, _ in _stored_with_sources(out, files):
    assert ex[schema.LABEL] == CLASSES.index(rel.split('/')[0]), rel


def test_every_stored_image_decodes_to_its_source_pixels(converted, raw):
  out, files = converted[0], raw[1]
  manifest = json.load(open(os.path.join(out, 'pets_manifest.json')))
  assert manifest['image_format'] == 'jpeg'
  stored = _stored_with_sources(out, files)
  assert len({rel for _, _, rel, _, _ in stored}) == NUM_IMAGES
  for ex, pixels, rel, want, data in stored:
    encoded, fmt = ex[schema.ENCODED], ex[schema.FORMAT].decode()
    assert (ex[schema.HEIGHT], ex[schema.WIDTH]) == pixels.shape[:2]
    diff = np.abs(want.astype(int) - pixels)
    if rel == 'newts/cmyk.jpg':   # re-encoded as an RGB JPEG: JPEG tolerance
      assert fmt == 'jpeg' and encoded != data and diff.mean() < 4
    elif fmt == 'png':            # kept, or re-encoded losslessly: exact
      assert rel.endswith(('.gif', '.bmp', '.webp')) or rel in KEPT_AS_IS['png'], rel
      assert diff.max() == 0, rel
    else:                         # JPEG bytes as they came; TF's and PIL's IDCTs may round apart
      assert fmt == 'jpeg' and encoded == data, rel
      assert diff.mean() < 1.5, rel


def test_research_slim_feature_keys_parse_every_record(converted):
  out, _ = converted
  keys = fx.research_slim_keys_to_features()
  for split in ('train', 'validation'):
    examples = []
    for name in sorted(os.listdir(out)):
      if name.startswith(f'pets_{split}_'):
        examples += fx.read_examples(os.path.join(out, name), keys)
    assert len(examples) == {'train': NUM_IMAGES - 5, 'validation': 5}[split]
    for ex in examples:
      image = fx.research_slim_decode(ex['image/encoded'], ex['image/format'])
      assert image.ndim == 3 and image.shape[-1] == 3
      assert 0 <= ex['image/class/label'] < 3


def test_the_folder_descriptor_reads_the_conversion_from_its_manifest(converted):
  out, _ = converted
  for split, count in (('train', NUM_IMAGES - 5), ('validation', 5)):
    dataset = folder_descriptor.get_split(split, out)
    assert dataset.num_samples == count
    assert dataset.labels_to_names == dict(enumerate(CLASSES))
    direct = _examples(out, split)
    records = tf.data.TFRecordDataset(dataset.data_sources)
    for record, want in zip(records, direct):
      image, label = dataset.decoder.decode(record, ['image', 'label'])
      assert int(label) == want[schema.LABEL]
      np.testing.assert_array_equal(image.numpy(), fx.tf_decode(want[schema.ENCODED]))


def test_same_seed_same_split_other_seed_other_split(raw):
  root, _ = raw
  def plan(seed):
    source = folder.FolderSource(source_dir=root, name='pets', validation_fraction=0.2, seed=seed)
    source.prepare()
    return source.plan()
  first = plan(0)
  assert first == plan(0)
  assert len(first['validation']) == 5 and len(first['train']) == NUM_IMAGES - 5
  assert set(first['validation']) != set(plan(1)['validation'])


def test_a_prepared_source_pickles_without_its_listing_and_reads_in_a_worker(raw):
  root, files = raw
  source = folder.FolderSource(source_dir=root, name='pets', validation_size=5)
  source.prepare()
  records = source.plan()['validation']
  worker = pickle.loads(pickle.dumps(source))
  assert worker._files == ()   # the listing is not shipped to workers
  assert len(pickle.dumps(source)) < 2000
  got = list(worker.read('validation', records))
  assert [os.path.relpath(key, root).replace(os.sep, '/') for key, _ in got] == \
      [rel for rel, _ in records]
  assert [values[schema.LABEL] for _, values in got] == [label for _, label in records]


def test_invalid_arguments_fail_before_any_work(raw):
  root, _ = raw
  with pytest.raises(ValueError, match='--source is required'):
    folder.FolderSource(name='pets')
  with pytest.raises(ValueError, match='not both'):
    folder.FolderSource(source_dir=root, validation_size=2, validation_fraction=0.1)
  with pytest.raises(ValueError, match='validation_fraction'):
    folder.FolderSource(source_dir=root, validation_fraction=1.5)
  with pytest.raises(ValueError, match='check_images'):
    folder.FolderSource(source_dir=root, check_images='maybe')


def test_a_folder_without_class_folders_is_a_source_error(tmp_path):
  fx.write_files(tmp_path, {'loose.jpg': fx.jpeg(0)})
  with pytest.raises(errors.SourceFormatError, match='no images in class folders'):
    pipeline.convert(folder.FolderSource(source_dir=str(tmp_path)),
                     dataset_dir=str(tmp_path / 'out'))


@pytest.fixture
def with_bad_images(tmp_path):
  files = {f'a/{i}.jpg': fx.jpeg(i) for i in range(4)}
  files.update({f'b/{i}.png': fx.png(i) for i in range(4)})
  files['a/truncated.jpg'] = fx.jpeg(9)[:300]
  files['b/empty.png'] = b''
  return fx.write_files(tmp_path / 'raw', files)


def test_bad_images_fail_naming_the_file(with_bad_images, tmp_path):
  with pytest.raises(errors.BadImageError, match='truncated.jpg|empty.png') as info:
    pipeline.convert(folder.FolderSource(source_dir=with_bad_images, name='ab'),
                     dataset_dir=str(tmp_path / 'out'))
  assert '--on_bad_image=skip' in str(info.value)


def test_skip_lists_bad_images_in_the_manifest(with_bad_images, tmp_path):
  out = str(tmp_path / 'out')
  result = pipeline.convert(folder.FolderSource(source_dir=with_bad_images, name='ab'),
                            dataset_dir=out, on_bad_image='skip')
  assert result.manifest.splits['train'].num_examples == 8
  manifest = json.load(open(os.path.join(out, 'ab_manifest.json')))
  skipped = {os.path.basename(s['source']): s['reason']
             for s in manifest['splits']['train']['skipped']}
  assert set(skipped) == {'truncated.jpg', 'empty.png'}
  assert 'truncated JPEG' in skipped['truncated.jpg'] and 'empty' in skipped['empty.png']


def test_command_line_converts_a_folder(with_bad_images, tmp_path, capsys):
  out = str(tmp_path / 'cli')
  code = convert_tool.main(['--dataset', 'folder', '--source', with_bad_images, '--name', 'ab',
                            '--dataset_dir', out, '--validation_size', '2',
                            '--on_bad_image', 'skip', '--num_shards', '2'])
  assert code == 0, capsys.readouterr().err
  manifest = json.load(open(os.path.join(out, 'ab_manifest.json')))
  assert manifest['splits']['validation']['num_examples'] + \
      manifest['splits']['train']['num_examples'] == 8
  assert len(manifest['splits']['train']['shards']) == 2


# --- A non-local Beam file system: every byte goes through FileSystems ----------------------

_MEMORY = {}   # path -> bytes: the memfs:// store


class _Writer(io.BytesIO):
  def __init__(self, path):
    super().__init__()
    self._path = path

  def close(self):
    if not self.closed:
      _MEMORY[self._path] = self.getvalue()
    super().close()


class MemoryFileSystem(FileSystem):
  """`memfs://` paths held in a dict; Beam finds it by its scheme, as it finds gs://."""

  @classmethod
  def scheme(cls):
    return 'memfs'

  def join(self, basepath, *paths):
    return posixpath.join(basepath, *paths)

  def split(self, path):
    return posixpath.split(path)

  def has_dirs(self):
    return False

  def mkdirs(self, path):
    pass

  def _list(self, dir_or_prefix):
    for path in sorted(_MEMORY):
      if path.startswith(dir_or_prefix):
        yield FileMetadata(path, len(_MEMORY[path]), 0.0)

  def create(self, path, mime_type=None, compression_type=None):
    return _Writer(path)

  def open(self, path, mime_type=None, compression_type=None):
    if path not in _MEMORY:
      raise IOError(f'{path}: no such file')
    return io.BytesIO(_MEMORY[path])

  def copy(self, source_file_names, destination_file_names):
    for src, dst in zip(source_file_names, destination_file_names):
      _MEMORY[dst] = _MEMORY[src]

  def rename(self, source_file_names, destination_file_names):
    for src, dst in zip(source_file_names, destination_file_names):
      _MEMORY[dst] = _MEMORY.pop(src)

  def exists(self, path):
    return path in _MEMORY or any(p.startswith(path.rstrip('/') + '/') for p in _MEMORY)

  def size(self, path):
    return len(_MEMORY[path])

  def last_updated(self, path):
    return 0.0

  def checksum(self, path):
    return str(len(_MEMORY[path]))

  def metadata(self, path):
    return FileMetadata(path, len(_MEMORY[path]), 0.0)

  def delete(self, paths):
    for path in paths:
      for p in [p for p in _MEMORY if p == path or p.startswith(path.rstrip('/') + '/')]:
        del _MEMORY[p]


def test_converts_from_and_into_a_non_local_file_system(tmp_path):
  _MEMORY.clear()
  files = {f'{c}/{i}.jpg': fx.jpeg(i) for i, c in enumerate('xyzxyz')}
  files['z/odd.jpg'] = fx.png(7)
  for rel, data in files.items():
    _MEMORY['memfs://bucket/raw/' + rel] = data
  assert FileSystems.get_filesystem('memfs://bucket/raw').scheme() == 'memfs'
  result = pipeline.convert(folder.FolderSource(source_dir='memfs://bucket/raw', name='mem',
                                                validation_size=2),
                            dataset_dir='memfs://bucket/out')
  written = sorted(p for p in _MEMORY if p.startswith('memfs://bucket/out/'))
  assert written == ['memfs://bucket/out/' + n for n in (
      'labels.txt', 'mem_manifest.json', 'mem_train_00000-of-00001.tfrecord',
      'mem_validation_00000-of-00001.tfrecord')]
  assert result.manifest.splits['train'].num_examples == 5
  assert not any('.incomplete' in p for p in _MEMORY)
  # Nothing was written to the local disk: read the shards back from memory.
  stored = []
  for split in ('train', 'validation'):
    local = tmp_path / f'{split}.tfrecord'
    local.write_bytes(_MEMORY[f'memfs://bucket/out/mem_{split}_00000-of-00001.tfrecord'])
    stored += fx.read_examples(str(local), schema.IMAGE.keys_to_features())
  # JPEG and PNG are kept byte for byte.
  assert sorted(ex[schema.ENCODED] for ex in stored) == sorted(files.values())
  _MEMORY.clear()
