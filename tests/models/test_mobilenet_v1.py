"""MobileNet v1: research/slim's names, the published layer table and parameter count."""
import numpy as np
import pytest
import tensorflow as tf

from models import mobilenet_v1


def test_builds_research_slim_end_points_and_variables(nets):
  net = nets.default_net('mobilenet_v1')
  base = ['Conv2d_0'] + [f'Conv2d_{i}_{kind}' for i in range(1, 14)
                         for kind in ('depthwise', 'pointwise')]
  assert list(net.end_points) == base + ['AvgPool_1a', 'Logits', 'Predictions']
  assert net.end_points['Conv2d_0'].shape.as_list() == [1, 112, 112, 32]
  assert net.end_points['Conv2d_13_pointwise'].shape.as_list() == [1, 7, 7, 1024]
  expected = {
      'MobilenetV1/Conv2d_0/weights': [3, 3, 3, 32],
      'MobilenetV1/Conv2d_0/BatchNorm/gamma': [32],
      'MobilenetV1/Conv2d_0/BatchNorm/beta': [32],
      'MobilenetV1/Conv2d_1_depthwise/depthwise_weights': [3, 3, 32, 1],
      'MobilenetV1/Conv2d_1_depthwise/BatchNorm/moving_mean': [32],
      'MobilenetV1/Conv2d_1_pointwise/weights': [1, 1, 32, 64],
      'MobilenetV1/Conv2d_13_pointwise/weights': [1, 1, 1024, 1024],
      'MobilenetV1/Logits/Conv2d_1c_1x1/weights': [1, 1, 1024, 1000],
      'MobilenetV1/Logits/Conv2d_1c_1x1/biases': [1000],
  }
  assert {name: net.shapes.get(name) for name in expected} == expected
  assert 'MobilenetV1/Conv2d_1_depthwise/biases' not in net.shapes


def test_parameter_counts(nets):
  net = nets.default_net('mobilenet_v1')
  # research/slim's docstring table: the convolutions hold 3,185,088 weights.
  convs = sum(n for name, n in net.trainable_parameters.items() if 'weights' in name
              and 'Logits' not in name)
  assert convs == 3_185_088
  # Keras' MobileNet (same layers, batch norm with scale) has 4,231,976 trainable parameters.
  assert net.num_parameters == 4_231_976


def test_depth_multiplier_variant_halves_depths(nets):
  net = nets.default_net('mobilenet_v1_050')
  assert net.shapes['MobilenetV1/Conv2d_0/weights'] == [3, 3, 3, 16]
  assert net.shapes['MobilenetV1/Conv2d_13_pointwise/weights'] == [1, 1, 512, 512]


def test_output_stride_keeps_resolution_with_atrous_layers():
  import slimdata as slim
  with tf.Graph().as_default():
    with slim.arg_scope(mobilenet_v1.mobilenet_v1_arg_scope()):
      net, _ = mobilenet_v1.mobilenet_v1_base(tf.zeros([1, 224, 224, 3]), output_stride=16)
  assert net.shape.as_list() == [1, 14, 14, 1024]


def test_bad_arguments_fail_before_building():
  with tf.Graph().as_default() as graph:
    images = tf.zeros([1, 224, 224, 3])
    operations = len(graph.get_operations())
    with pytest.raises(ValueError, match='Conv2d_99'):
      mobilenet_v1.mobilenet_v1_base(images, final_endpoint='Conv2d_99')
    with pytest.raises(ValueError, match='output_stride'):
      mobilenet_v1.mobilenet_v1_base(images, output_stride=4)
    with pytest.raises(ValueError, match='depth_multiplier'):
      mobilenet_v1.mobilenet_v1_base(images, depth_multiplier=0)
    assert len(graph.get_operations()) == operations


def test_one_training_step_updates_first_and_last_layer(nets):
  loss, changes = nets.train_one_step(nets.default_net('mobilenet_v1'))
  assert np.isfinite(loss) and min(changes.values()) > 0
