"""CIFAR-10 as converted by slimdata or research/slim's download_and_convert_cifar10.py.

    dataset = descriptors.cifar10.get_split('train', '/data/cifar10')
    provider = DatasetDataProvider(dataset)
    image, label = provider.get(['image', 'label'])
"""
from descriptors import schema

LABEL_NAMES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship',
               'truck')

SPEC = schema.DatasetSpec(
    name='cifar10',
    schema=schema.IMAGE,
    splits={'train': 50000, 'test': 10000},
    num_shards={'train': 1, 'test': 1},
    shard_template='{name}_{split}-{index:05d}-of-{num:05d}.tfrecord',
    single_template='{name}_{split}.tfrecord',
    image_format='png',
    num_classes=10,
    image_shape=(32, 32, 3),
    items_to_descriptions={
        'image': 'A [32 x 32 x 3] color image.',
        'label': 'A single integer between 0 and 9',
    },
)


def get_split(split_name, dataset_dir, file_pattern=None, reader=None):
  """A `Dataset` reading CIFAR-10's `split_name` ('train' or 'test') from `dataset_dir`."""
  from descriptors import loading
  return loading.get_split(SPEC, split_name, dataset_dir, file_pattern=file_pattern,
                          reader=reader)
