"""descriptors.get_split: the five kinds of dataset, with a manifest and in research/slim's layout.

Shards are real TFRecord files of schema-encoded Examples with PIL-encoded images.
"""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import descriptors
from descriptors import cifar10, errors, flowers, folder, imagenet, mnist, schema

import descriptors_testlib as lib

# kind -> (spec, image shape, PIL format, format value written, split, label names)
KINDS = {
    'mnist': (mnist.SPEC, (28, 28, 1), 'PNG', 'png', 'test', mnist.LABEL_NAMES),
    'cifar10': (cifar10.SPEC, (32, 32, 3), 'PNG', 'png', 'test', cifar10.LABEL_NAMES),
    'flowers': (flowers.SPEC, (9, 7, 3), 'JPEG', 'jpg', 'validation', flowers.LABEL_NAMES),
    'imagenet': (imagenet.SPEC, (8, 10, 3), 'JPEG', 'JPEG', 'validation',
                 tuple(f'n{i:08d}' for i in range(1000))),
    'folder': (folder.make_spec('pets'), (5, 6, 3), 'PNG', 'png', 'validation',
               ('cat', 'dog', 'hamster')),
}


def image_of(kind, index):
  shape = KINDS[kind][1]
  return lib.pixels(*shape, seed=index)


def encoded_of(kind, index):
  return lib.encode(image_of(kind, index), KINDS[kind][2], quality=95)


def example_maker(kind):
  spec, shape, _, format_value = KINDS[kind][:4]
  offset = spec.label_offset

  def make(index):
    data = encoded_of(kind, index)
    return spec.schema.encode_example({
        schema.ENCODED: data, schema.FORMAT: format_value, schema.LABEL: index % 3 + offset,
        schema.HEIGHT: shape[0], schema.WIDTH: shape[1]})
  return make


def convert(directory, kind, with_manifest=True, shard_sizes=(2, 1)):
  """Writes `kind`'s split as slimdata does (manifest) or as research/slim did."""
  spec, _, _, _, split, names = KINDS[kind]
  os.makedirs(directory, exist_ok=True)
  if spec.single_template:
    shard_sizes = (sum(shard_sizes),)
  if not with_manifest:
    # research/slim's shard count: write small shards under every published name.
    shard_sizes = (1,) * spec.num_shards[split]
  manifest_split, records = lib.write_shards(directory, spec, split, shard_sizes,
                                             example_maker(kind))
  if with_manifest:
    lib.write_manifest(directory, spec.name, {split: manifest_split}, label_names=names,
                       label_offset=spec.label_offset,
                       image_format='jpeg' if kind in ('flowers', 'imagenet') else 'png')
  return records


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
  """`{(kind, with_manifest): (directory, records)}`, written once."""
  root = tmp_path_factory.mktemp('converted')
  out = {}
  for kind in KINDS:
    for with_manifest in (True, False):
      if kind == 'folder' and not with_manifest:
        continue
      directory = str(root / f'{kind}_{with_manifest}')
      out[kind, with_manifest] = directory, convert(directory, kind, with_manifest)
  return out


def first_decoded(dataset, items=('image', 'label')):
  record = tf.data.TFRecordDataset(dataset.data_sources).take(1).get_single_element()
  return [t.numpy() for t in dataset.decoder.decode(record, list(items))]


@pytest.mark.parametrize('kind', sorted(KINDS))
def test_converted_dataset_is_described_by_its_manifest(kind, converted):
  spec, shape, pil_format, _, split, names = KINDS[kind]
  directory, records = converted[kind, True]
  dataset = descriptors.get_split(kind, split, directory)
  assert dataset.num_samples == len(records) == 3
  assert dataset.manifest is not None and dataset.manifest.name == spec.name
  assert dataset.spec.name == spec.name
  expected_files = [spec.shard_name(split, i, n) for n in [len(dataset.data_sources)]
                    for i in range(n)]
  assert [os.path.basename(f) for f in dataset.data_sources] == expected_files
  assert lib.read_records(dataset.data_sources) == records
  assert dataset.reader is tf.compat.v1.TFRecordReader
  assert dataset.items_to_descriptions == spec.items_to_descriptions
  labels = dict(enumerate(names, spec.label_offset))
  if spec.label_offset:
    labels[0] = 'background'
  assert dataset.labels_to_names == labels
  assert dataset.num_classes == len(names) + spec.label_offset
  image, label = first_decoded(dataset)
  assert label == spec.label_offset
  if pil_format == 'PNG':
    np.testing.assert_array_equal(image, image_of(kind, 0).reshape(shape))
  else:
    diff = np.abs(image.astype(int) - lib.pil_decode(encoded_of(kind, 0)))
    assert image.shape == shape and diff.max() <= 8 and diff.mean() < 2


@pytest.mark.parametrize('kind', sorted(set(KINDS) - {'folder'}))
def test_old_layout_uses_published_names_and_sizes(kind, converted):
  spec, _, _, _, split, _ = KINDS[kind]
  directory, records = converted[kind, False]
  dataset = descriptors.get_split(kind, split, directory)
  assert dataset.manifest is None
  assert dataset.num_samples == spec.splits[split]
  assert len(dataset.data_sources) == spec.num_shards[split]
  assert lib.read_records(dataset.data_sources) == records
  assert dataset.labels_to_names is None      # no labels.txt was written
  assert dataset.num_classes == spec.num_classes
  assert first_decoded(dataset)[1] == spec.label_offset


def test_research_slim_file_pattern_still_works(converted):
  directory, records = converted['flowers', False]
  dataset = flowers.get_split('validation', directory, file_pattern='flowers_%s_*.tfrecord')
  assert len(dataset.data_sources) == 5 and dataset.num_samples == 350


def test_file_pattern_with_a_manifest_counts_only_the_chosen_shards(converted):
  directory, _ = converted['flowers', True]
  dataset = flowers.get_split('validation', directory, file_pattern='flowers_%s_00001-*')
  assert len(dataset.data_sources) == 1 and dataset.num_samples == 1


def test_reader_is_passed_through(converted):
  directory, _ = converted['mnist', True]
  dataset = mnist.get_split('test', directory, reader=tf.data.TFRecordDataset)
  assert dataset.reader is tf.data.TFRecordDataset


@pytest.mark.parametrize('six', ['six', 'size'])
def test_mnist_labels_txt_in_either_spelling(six, converted, tmp_path):
  directory = str(tmp_path / 'mnist')
  shutil.copytree(converted['mnist', False][0], directory)
  names = list(mnist.LABEL_NAMES)
  names[6] = six
  lib.write_labels(directory, schema.format_labels(dict(enumerate(names))))
  dataset = mnist.get_split('test', directory)
  assert dataset.labels_to_names == dict(enumerate(mnist.LABEL_NAMES))


def test_labels_txt_gives_labels_to_names_without_a_manifest(converted, tmp_path):
  directory = str(tmp_path / 'cifar')
  shutil.copytree(converted['cifar10', False][0], directory)
  lib.write_labels(directory, '0:airplane\n1:automobile\n\n9:truck\n')
  dataset = cifar10.get_split('test', directory)
  assert dataset.labels_to_names == {0: 'airplane', 1: 'automobile', 9: 'truck'}


def test_mnist_and_cifar_decoders_batch(converted):
  for kind in ('mnist', 'cifar10'):
    directory, records = converted[kind, True]
    dataset = descriptors.get_split(kind, KINDS[kind][4], directory)
    images, labels = dataset.decoder.decode_batch(tf.constant(records), ['image', 'label'])
    np.testing.assert_array_equal(images, np.stack([image_of(kind, i).reshape(KINDS[kind][1])
                                                    for i in range(3)]))
    np.testing.assert_array_equal(labels, [0, 1, 2])


def test_imagenet_boxes_and_their_labels_new_and_legacy_key(tmp_path):
  legacy_schema = schema.Schema(schema.IMAGENET.features + (
      schema.Feature(schema.LEGACY_BBOX_LABEL, 'int64', varlen=True),))
  png = lib.encode(lib.pixels(4, 4, 3), 'JPEG')
  boxes = {schema.BBOX_YMIN: [0.1, 0.2], schema.BBOX_XMIN: [0.3, 0.4],
           schema.BBOX_YMAX: [0.5, 0.6], schema.BBOX_XMAX: [0.7, 0.8]}
  records = [
      schema.IMAGENET.encode_example({schema.ENCODED: png, schema.LABEL: 5,
                                      schema.TEXT: 'goldfish', schema.BBOX_LABEL: [5, 5],
                                      **boxes}),
      legacy_schema.encode_example({schema.ENCODED: png, schema.LABEL: 7,
                                    schema.LEGACY_BBOX_LABEL: [7, 7], **boxes}),
      schema.IMAGENET.encode_example({schema.ENCODED: png, schema.LABEL: 9}),
  ]
  directory = str(tmp_path)
  for index in range(imagenet.SPEC.num_shards['validation']):
    lib.write_records(os.path.join(directory, imagenet.SPEC.shard_name('validation', index, 128)),
                      records if index == 0 else [])
  dataset = imagenet.get_split('validation', directory)
  items = ['label', 'label_text', 'object/bbox', 'object/label']
  assert sorted(dataset.decoder.list_items()) == sorted(['image'] + items)
  decoded = [[t.numpy() for t in dataset.decoder.decode(r, items)]
             for r in lib.read_records(dataset.data_sources)]
  expected_boxes = np.array([[0.1, 0.3, 0.5, 0.7], [0.2, 0.4, 0.6, 0.8]], np.float32)
  assert decoded[0][0] == 5 and decoded[0][1] == b'goldfish'
  np.testing.assert_allclose(decoded[0][2], expected_boxes)
  np.testing.assert_array_equal(decoded[0][3], [5, 5])
  np.testing.assert_array_equal(decoded[1][3], [7, 7])
  assert decoded[2][2].shape == (0, 4) and decoded[2][3].size == 0


def test_folder_dataset_is_found_by_kind_or_by_its_name(converted):
  directory, records = converted['folder', True]
  by_kind = descriptors.get_split('folder', 'validation', directory)
  by_name = descriptors.get_split('pets', 'validation', directory)
  named = folder.get_split('validation', directory, dataset_name='pets')
  for dataset in (by_kind, by_name, named):
    assert dataset.spec.name == 'pets' and dataset.num_samples == 3
    assert dataset.labels_to_names == {0: 'cat', 1: 'dog', 2: 'hamster'}
    assert dataset.num_classes == 3
    assert lib.read_records(dataset.data_sources) == records


def test_folder_spec_names_files_like_the_converter():
  spec = folder.make_spec('pets', splits={'train': 10}, num_shards={'train': 4})
  assert spec.shard_name('train', 1, 4) == 'pets_train_00001-of-00004.tfrecord'
  assert spec.manifest_name() == 'pets_manifest.json'
  with pytest.raises(ValueError, match='name'):
    folder.make_spec('a/b')


# --- errors ---------------------------------------------------------------------------------

def test_unknown_dataset_lists_the_known_ones(tmp_path):
  with pytest.raises(errors.UnknownDatasetError,
                     match="unknown dataset 'flower'; known: cifar10, flowers, folder, "
                           "imagenet, mnist"):
    descriptors.get_split('flower', 'train', str(tmp_path))


def test_unknown_split_names_it_and_the_known_ones(converted):
  with pytest.raises(errors.UnknownSplitError,
                     match="unknown split 'test' of flowers.*known: train, validation"):
    descriptors.get_split('flowers', 'test', converted['flowers', False][0])
  with pytest.raises(errors.UnknownSplitError,
                     match="unknown split 'train' of flowers: .*flowers_manifest.json lists "
                           "validation"):
    descriptors.get_split('flowers', 'train', converted['flowers', True][0])


def test_missing_directory_is_named(tmp_path):
  with pytest.raises(errors.MissingFilesError, match=f'{tmp_path}/nowhere.*does not exist'):
    mnist.get_split('train', str(tmp_path / 'nowhere'))


def test_directory_without_the_splits_files_names_split_dir_and_names(tmp_path):
  with pytest.raises(errors.MissingFilesError,
                     match=f"no files of split 'train' of mnist in {tmp_path}: expected "
                           f"mnist_train.tfrecord or mnist_train-\\*-of-\\*.tfrecord"):
    mnist.get_split('train', str(tmp_path))
  with pytest.raises(errors.MissingFilesError, match="no files match 'x-train-\\*'"):
    mnist.get_split('train', str(tmp_path), file_pattern='x-%s-*')


def test_missing_shard_of_old_layout_is_named(converted, tmp_path):
  directory = str(tmp_path / 'flowers')
  shutil.copytree(converted['flowers', False][0], directory)
  os.remove(os.path.join(directory, 'flowers_validation_00003-of-00005.tfrecord'))
  with pytest.raises(errors.MissingFilesError,
                     match="4 of 5 shards.*flowers_validation_00003-of-00005.tfrecord is missing"):
    flowers.get_split('validation', directory)


def test_manifest_listing_a_missing_shard_names_the_file(converted, tmp_path):
  directory = str(tmp_path / 'flowers')
  shutil.copytree(converted['flowers', True][0], directory)
  os.remove(os.path.join(directory, 'flowers_validation_00001-of-00002.tfrecord'))
  with pytest.raises(errors.ManifestError,
                     match="lists 2 shards for split 'validation' but "
                           ".*flowers_validation_00001-of-00002.tfrecord is missing"):
    flowers.get_split('validation', directory)


def test_files_the_manifest_does_not_list_are_an_error(converted, tmp_path):
  directory = str(tmp_path / 'flowers')
  shutil.copytree(converted['flowers', True][0], directory)
  shutil.copy(os.path.join(directory, 'flowers_validation_00000-of-00002.tfrecord'),
              os.path.join(directory, 'flowers_validation_00004-of-00005.tfrecord'))
  with pytest.raises(errors.ManifestError,
                     match="lists 2 shards .* holds 3 files of that split; not in the manifest: "
                           "flowers_validation_00004-of-00005.tfrecord"):
    flowers.get_split('validation', directory)


def test_manifest_of_another_dataset_is_refused(converted, tmp_path):
  directory = str(tmp_path / 'mnist')
  shutil.copytree(converted['mnist', True][0], directory)
  shutil.copy(os.path.join(directory, 'mnist_manifest.json'),
              os.path.join(directory, 'cifar10_manifest.json'))
  with pytest.raises(errors.ManifestError, match="describes dataset 'mnist', not 'cifar10'"):
    cifar10.get_split('test', directory)


def test_folder_needs_exactly_one_manifest(converted, tmp_path):
  with pytest.raises(errors.MissingFilesError, match=f'no \\*_manifest.json in {tmp_path}'):
    descriptors.get_split('folder', 'train', str(tmp_path))
  directory = str(tmp_path / 'two')
  shutil.copytree(converted['folder', True][0], directory)
  lib.write_manifest(directory, 'more', {})
  with pytest.raises(errors.DescriptorError,
                     match='several manifests \\(more_manifest.json, pets_manifest.json\\); '
                           'pass dataset_name='):
    descriptors.get_split('folder', 'validation', directory)
  dataset = descriptors.get_split('folder', 'validation', directory, dataset_name='pets')
  assert dataset.num_samples == 3


def test_importing_descriptors_does_not_import_tensorflow():
  code = ('import sys, descriptors\n'
          'from descriptors import cifar10, flowers, folder, imagenet, mnist, schema, manifest\n'
          'folder.make_spec("x"); descriptors.get_spec("flowers")\n'
          'assert "tensorflow" not in sys.modules, "tensorflow imported"\n')
  root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  subprocess.run([sys.executable, '-c', code], check=True, cwd=root)


def test_raw_folder_dataset_decodes_with_the_shape_its_manifest_records(tmp_path):
  spec = folder.make_spec('tiny', image_format='raw')
  images = [lib.pixels(3, 4, 3, seed=i) for i in range(2)]
  split, records = lib.write_shards(str(tmp_path), spec, 'train', [2], lambda i: (
      schema.IMAGE.encode_example({schema.ENCODED: images[i].tobytes(), schema.FORMAT: 'raw',
                                   schema.LABEL: i})))
  lib.write_manifest(str(tmp_path), 'tiny', {'train': split}, label_names=['a', 'b'],
                     image_format='raw', options={'image_shape': [3, 4, 3]})
  dataset = descriptors.get_split('tiny', 'train', str(tmp_path))
  batch, labels = dataset.decoder.decode_batch(tf.constant(records), ['image', 'label'])
  np.testing.assert_array_equal(batch, np.stack(images))
  np.testing.assert_array_equal(labels, [0, 1])
  lib.write_manifest(str(tmp_path), 'tiny', {'train': split}, image_format='raw')
  with pytest.raises(errors.ManifestError, match='tiny_manifest.json: images are stored raw but '
                                                 'options.image_shape'):
    descriptors.get_split('tiny', 'train', str(tmp_path))
