"""MNIST as converted by slimdata or research/slim's download_and_convert_mnist.py.

    dataset = descriptors.mnist.get_split('train', '/data/mnist')
    provider = DatasetDataProvider(dataset)
    image, label = provider.get(['image', 'label'])
"""
from descriptors import schema

LABEL_NAMES = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine')

SPEC = schema.DatasetSpec(
    name='mnist',
    schema=schema.IMAGE,
    splits={'train': 60000, 'test': 10000},
    num_shards={'train': 1, 'test': 1},
    shard_template='{name}_{split}-{index:05d}-of-{num:05d}.tfrecord',
    single_template='{name}_{split}.tfrecord',
    image_format='png',
    items_to_descriptions={
        'image': 'A [28 x 28 x 1] grayscale image.',
        'label': 'A single integer between 0 and 9',
    },
)
