"""The dataset specs name files, splits and sizes exactly as DESIGN.md's file-format table."""
import pytest

import descriptors
from descriptors import dataset as dataset_lib
from descriptors import schema


@pytest.mark.parametrize('name,split,index,num,expected', [
    ('mnist', 'train', 0, 1, 'mnist_train.tfrecord'),
    ('mnist', 'test', 0, 1, 'mnist_test.tfrecord'),
    ('mnist', 'train', 2, 4, 'mnist_train-00002-of-00004.tfrecord'),
    ('cifar10', 'train', 0, 1, 'cifar10_train.tfrecord'),
    ('cifar10', 'test', 0, 1, 'cifar10_test.tfrecord'),
    ('cifar10', 'train', 1, 8, 'cifar10_train-00001-of-00008.tfrecord'),
    ('flowers', 'train', 3, 5, 'flowers_train_00003-of-00005.tfrecord'),
    ('flowers', 'validation', 0, 5, 'flowers_validation_00000-of-00005.tfrecord'),
    ('imagenet', 'train', 1023, 1024, 'train-01023-of-01024'),
    ('imagenet', 'validation', 5, 128, 'validation-00005-of-00128'),
])
def test_shard_names(name, split, index, num, expected):
  assert descriptors.get_spec(name).shard_name(split, index, num) == expected


@pytest.mark.parametrize('name,splits,shards,image_format,num_classes', [
    ('mnist', {'train': 60000, 'test': 10000}, {'train': 1, 'test': 1}, 'png', 10),
    ('cifar10', {'train': 50000, 'test': 10000}, {'train': 1, 'test': 1}, 'png', 10),
    ('flowers', {'train': 3320, 'validation': 350}, {'train': 5, 'validation': 5}, 'jpg', 5),
    ('imagenet', {'train': 1281167, 'validation': 50000}, {'train': 1024, 'validation': 128},
     'jpeg', 1001),
])
def test_published_splits(name, splits, shards, image_format, num_classes):
  spec = descriptors.get_spec(name)
  assert spec.name == name
  assert spec.splits == splits and spec.num_shards == shards
  assert spec.image_format == image_format and spec.num_classes == num_classes


def test_imagenet_labels_start_at_one_and_use_the_imagenet_schema():
  spec = descriptors.get_spec('imagenet')
  assert spec.label_offset == 1 and spec.schema is schema.IMAGENET
  assert {'image', 'label', 'object/bbox', 'object/label'} <= set(spec.items_to_descriptions)


def test_every_registered_dataset_has_get_split():
  assert descriptors.names() == ['cifar10', 'flowers', 'folder', 'imagenet', 'mnist']
  for name in descriptors.names():
    assert callable(descriptors.get_module(name).get_split)


def test_dataset_keeps_extra_fields_as_attributes():
  dataset = dataset_lib.Dataset(data_sources='/d/x_*.tfrecord', reader=object, decoder=None,
                                num_samples=5, items_to_descriptions={'image': 'an image'},
                                num_classes=3, labels_to_names={0: 'a'})
  assert dataset.data_sources == '/d/x_*.tfrecord' and dataset.num_samples == 5
  assert dataset.num_classes == 3 and dataset.labels_to_names == {0: 'a'}
  assert dataset.items_to_descriptions == {'image': 'an image'} and dataset.reader is object
  assert 'num_samples=5' in repr(dataset)


@pytest.mark.parametrize('sources,num_samples,match', [
    ([], 1, 'data_sources'), ([3], 1, 'data_sources'), ('f', -1, 'num_samples'),
    ('f', 1.5, 'num_samples')])
def test_dataset_rejects_bad_arguments(sources, num_samples, match):
  with pytest.raises(ValueError, match=match):
    dataset_lib.Dataset(sources, None, None, num_samples, {})
