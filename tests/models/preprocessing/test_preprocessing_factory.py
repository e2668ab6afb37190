"""preprocessing_factory: research/slim's name-to-preprocessing map, one for every net."""
import numpy as np
import pytest
import tensorflow as tf

from models import nets_factory, preprocessing_factory
from models.preprocessing import (cifarnet_preprocessing, inception_preprocessing,
                                  lenet_preprocessing, vgg_preprocessing)


def test_unknown_name_fails_listing_the_known_ones():
  with pytest.raises(ValueError) as error:
    preprocessing_factory.get_preprocessing('vgg16')
  assert "'vgg16'" in str(error.value) and 'vgg_16' in str(error.value)


@pytest.mark.parametrize('name', sorted(nets_factory.NETWORKS))
def test_every_registered_net_has_a_preprocessing(name):
  assert name in preprocessing_factory.PREPROCESSINGS


@pytest.mark.parametrize('name,module', [
    ('lenet', lenet_preprocessing), ('cifarnet', cifarnet_preprocessing),
    ('inception_v3', inception_preprocessing), ('mobilenet_v1', inception_preprocessing),
    ('vgg_16', vgg_preprocessing), ('resnet_v1_50', vgg_preprocessing),
    ('resnet_v2_50', vgg_preprocessing)])
def test_nets_use_research_slims_preprocessing(name, module):
  assert preprocessing_factory.PREPROCESSINGS[name] is module


@pytest.mark.parametrize('is_training', [False, True])
def test_returned_function_passes_training_mode_and_keyword_arguments(is_training):
  image = np.random.default_rng(0).integers(0, 256, [40, 40, 3]).astype(np.uint8)
  with tf.Graph().as_default():
    fn = preprocessing_factory.get_preprocessing('cifarnet', is_training=is_training)
    output = fn(tf.constant(image), 32, 32, add_image_summaries=False)
    assert not tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.SUMMARIES)
    with tf.compat.v1.Session() as sess:
      first, second = sess.run(output), sess.run(output)
  assert first.shape == (32, 32, 3) and first.dtype == np.float32
  # Training is random per call; evaluation is a fixed function of the image.
  assert np.array_equal(first, second) != is_training
