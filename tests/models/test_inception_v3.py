"""Inception v3: research/slim's names (quirks included), aux head, parameter count."""
import numpy as np
import tensorflow as tf

import slimdata as slim
from models import inception_v3

BASE_END_POINTS = [
    'Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'MaxPool_3a_3x3', 'Conv2d_3b_1x1',
    'Conv2d_4a_3x3', 'MaxPool_5a_3x3', 'Mixed_5b', 'Mixed_5c', 'Mixed_5d', 'Mixed_6a',
    'Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e', 'Mixed_7a', 'Mixed_7b', 'Mixed_7c']


def test_builds_research_slim_end_points_and_variables(nets):
  net = nets.default_net('inception_v3')
  assert set(net.end_points) == set(BASE_END_POINTS) | {
      'AuxLogits', 'AvgPool_1a', 'PreLogits', 'Logits', 'Predictions'}
  shapes = {name: t.shape.as_list() for name, t in net.end_points.items()}
  assert shapes['Conv2d_1a_3x3'] == [1, 149, 149, 32]
  assert shapes['MaxPool_5a_3x3'] == [1, 35, 35, 192]
  assert shapes['Mixed_5b'] == [1, 35, 35, 256]
  assert shapes['Mixed_6e'] == [1, 17, 17, 768]
  assert shapes['Mixed_7c'] == [1, 8, 8, 2048]
  assert shapes['AuxLogits'] == shapes['Logits'] == [1, 1000]
  expected = {
      'InceptionV3/Conv2d_1a_3x3/weights': [3, 3, 3, 32],
      'InceptionV3/Conv2d_1a_3x3/BatchNorm/beta': [32],
      'InceptionV3/Conv2d_1a_3x3/BatchNorm/moving_mean': [32],
      'InceptionV3/Mixed_5b/Branch_1/Conv2d_0b_5x5/weights': [5, 5, 48, 64],
      # Quirks of the published checkpoint, kept so it loads.
      'InceptionV3/Mixed_5c/Branch_1/Conv2d_0b_1x1/weights': [1, 1, 256, 48],
      'InceptionV3/Mixed_5c/Branch_1/Conv_1_0c_5x5/weights': [5, 5, 48, 64],
      'InceptionV3/Mixed_6a/Branch_0/Conv2d_1a_1x1/weights': [3, 3, 288, 384],
      'InceptionV3/Mixed_6b/Branch_2/Conv2d_0e_1x7/weights': [1, 7, 128, 192],
      'InceptionV3/Mixed_7b/Branch_1/Conv2d_0b_3x1/weights': [3, 1, 384, 384],
      'InceptionV3/Mixed_7c/Branch_1/Conv2d_0c_3x1/weights': [3, 1, 384, 384],
      'InceptionV3/Mixed_7c/Branch_2/Conv2d_0d_3x1/weights': [3, 1, 384, 384],
      'InceptionV3/AuxLogits/Conv2d_1b_1x1/weights': [1, 1, 768, 128],
      'InceptionV3/AuxLogits/Conv2d_2a_5x5/weights': [5, 5, 128, 768],
      'InceptionV3/AuxLogits/Conv2d_2b_1x1/weights': [1, 1, 768, 1000],
      'InceptionV3/AuxLogits/Conv2d_2b_1x1/biases': [1000],
      'InceptionV3/Logits/Conv2d_1c_1x1/weights': [1, 1, 2048, 1000],
      'InceptionV3/Logits/Conv2d_1c_1x1/biases': [1000],
  }
  assert {name: net.shapes.get(name) for name in expected} == expected
  assert not [name for name in net.shapes if name.endswith('gamma')]


def test_parameter_count(nets):
  net = nets.default_net('inception_v3')
  main = sum(n for name, n in net.trainable_parameters.items() if '/AuxLogits/' not in name)
  # Keras' InceptionV3 (the same layers: no conv biases, batch norm without scale) has
  # 23,817,352 trainable parameters with 1000 classes.
  assert main == 23_817_352
  # The aux head: 1x1 (768->128) + BN beta, 5x5 (128->768) + BN beta, 1x1 (768->1000) + bias.
  assert net.num_parameters - main == 768 * 128 + 128 + 25 * 128 * 768 + 768 + 768 * 1000 + 1000


def test_small_inputs_shrink_the_pool_and_aux_kernels():
  with tf.Graph().as_default():
    with slim.arg_scope(inception_v3.inception_v3_arg_scope()):
      logits, end_points = inception_v3.inception_v3(tf.zeros([1, 150, 150, 3]),
                                                     num_classes=10)
    names = {v.op.name for v in tf.compat.v1.global_variables()}
  assert logits.shape.as_list() == end_points['AuxLogits'].shape.as_list() == [1, 10]
  assert end_points['Mixed_7c'].shape.as_list() == [1, 3, 3, 2048]
  # research/slim names the aux convolution after its (reduced) kernel.
  assert 'InceptionV3/AuxLogits/Conv2d_2a_1x1/weights' in names


def test_depth_multiplier_scales_every_layer():
  with tf.Graph().as_default():
    net, _ = inception_v3.inception_v3_base(tf.zeros([1, 299, 299, 3]),
                                            final_endpoint='Mixed_5b', depth_multiplier=0.5)
  assert net.shape.as_list() == [1, 35, 35, 128]


def test_one_training_step_updates_first_and_last_layer(nets):
  loss, changes = nets.train_one_step(nets.default_net('inception_v3'))
  assert np.isfinite(loss) and min(changes.values()) > 0
