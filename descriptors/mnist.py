"""MNIST as converted by slimdata or research/slim's download_and_convert_mnist.py.

    dataset = descriptors.mnist.get_split('train', '/data/mnist')
    provider = DatasetDataProvider(dataset)
    image, label = provider.get(['image', 'label'])
"""
from descriptors import schema

LABEL_NAMES = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine')

# research/slim's converter wrote `6:size`; read as `six`.
LEGACY_LABEL_FIXES = {'size': 'six'}

SPEC = schema.DatasetSpec(
    name='mnist',
    schema=schema.IMAGE,
    splits={'train': 60000, 'test': 10000},
    num_shards={'train': 1, 'test': 1},
    shard_template='{name}_{split}-{index:05d}-of-{num:05d}.tfrecord',
    single_template='{name}_{split}.tfrecord',
    image_format='png',
    num_classes=10,
    image_shape=(28, 28, 1),
    items_to_descriptions={
        'image': 'A [28 x 28 x 1] grayscale image.',
        'label': 'A single integer between 0 and 9',
    },
)


def get_split(split_name, dataset_dir, file_pattern=None, reader=None):
  """A `Dataset` reading MNIST's `split_name` ('train' or 'test') from `dataset_dir`."""
  from descriptors import loading
  return loading.get_split(SPEC, split_name, dataset_dir, file_pattern=file_pattern,
                          reader=reader, label_fixes=LEGACY_LABEL_FIXES)
