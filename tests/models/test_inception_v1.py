"""Inception v1: research/slim's names (quirks included) and parameter count."""
import numpy as np
import pytest
import tensorflow as tf

from models import inception_v1

BASE_END_POINTS = [
    'Conv2d_1a_7x7', 'MaxPool_2a_3x3', 'Conv2d_2b_1x1', 'Conv2d_2c_3x3', 'MaxPool_3a_3x3',
    'Mixed_3b', 'Mixed_3c', 'MaxPool_4a_3x3', 'Mixed_4b', 'Mixed_4c', 'Mixed_4d', 'Mixed_4e',
    'Mixed_4f', 'MaxPool_5a_2x2', 'Mixed_5b', 'Mixed_5c']


def test_builds_research_slim_end_points_and_variables(nets):
  net = nets.default_net('inception_v1')
  assert list(net.end_points) == BASE_END_POINTS + ['AvgPool_0a_7x7', 'Logits', 'Predictions']
  shapes = {name: t.shape.as_list() for name, t in net.end_points.items()}
  assert shapes['Conv2d_1a_7x7'] == [1, 112, 112, 64]
  assert shapes['Mixed_3c'] == [1, 28, 28, 480]
  assert shapes['Mixed_4f'] == [1, 14, 14, 832]
  assert shapes['Mixed_5c'] == [1, 7, 7, 1024]
  assert shapes['Logits'] == [1, 1000]
  assert net.shapes['InceptionV1/Conv2d_1a_7x7/weights'] == [7, 7, 3, 64]
  assert net.shapes['InceptionV1/Conv2d_1a_7x7/BatchNorm/beta'] == [64]
  assert net.shapes['InceptionV1/Conv2d_1a_7x7/BatchNorm/moving_variance'] == [64]
  assert net.shapes['InceptionV1/Mixed_4f/Branch_3/Conv2d_0b_1x1/weights'] == [1, 1, 528, 128]
  # The published checkpoint's quirk: Mixed_5b's second 3x3 is named Conv2d_0a_3x3.
  assert net.shapes['InceptionV1/Mixed_5b/Branch_2/Conv2d_0a_3x3/weights'] == [3, 3, 32, 128]
  assert 'InceptionV1/Mixed_5c/Branch_2/Conv2d_0b_3x3/weights' in net.shapes
  assert net.shapes['InceptionV1/Logits/Conv2d_0c_1x1/weights'] == [1, 1, 1024, 1000]
  assert net.shapes['InceptionV1/Logits/Conv2d_0c_1x1/biases'] == [1000]
  # Batch norm without scale, as research/slim's inception_arg_scope.
  assert not [name for name in net.shapes if name.endswith('gamma')]


def test_parameter_count(nets):
  # torchvision's GoogLeNet without aux heads has 6,624,904 parameters: the same layers,
  # plus a batch-norm scale per channel (7,280 channels) that research/slim's has not.
  assert nets.default_net('inception_v1').num_parameters == 6_624_904 - 7_280


def test_moving_statistics_are_in_moving_vars(nets):
  net = nets.default_net('inception_v1')
  moving = net.graph.get_collection('moving_vars')
  assert moving and all('moving_' in v.op.name for v in moving)
  assert len(moving) == 2 * len([n for n in net.shapes if n.endswith('BatchNorm/beta')])


def test_base_stops_at_final_endpoint_and_rejects_unknown_ones():
  with tf.Graph().as_default():
    net, end_points = inception_v1.inception_v1_base(tf.zeros([1, 224, 224, 3]),
                                                     final_endpoint='Mixed_3b')
    assert list(end_points) == BASE_END_POINTS[:6]
    assert net.shape.as_list() == [1, 28, 28, 256]
    with pytest.raises(ValueError, match='Mixed_9z'):
      inception_v1.inception_v1_base(tf.zeros([1, 224, 224, 3]), final_endpoint='Mixed_9z')


def test_one_training_step_updates_first_and_last_layer(nets):
  loss, changes = nets.train_one_step(nets.default_net('inception_v1'))
  assert np.isfinite(loss) and min(changes.values()) > 0
