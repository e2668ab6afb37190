"""ResNet v1 50/101/152: research/slim's names and end points, published parameter counts."""
import numpy as np
import pytest
import tensorflow as tf

import slimdata as slim
from models import resnet_v1

# torchvision's resnet50/101/152 (the same layers: conv without biases, batch norm with
# scale, a 2048x1000 classifier with biases).
PUBLISHED_PARAMETERS = {'resnet_v1_50': 25_557_032, 'resnet_v1_101': 44_549_160,
                        'resnet_v1_152': 60_192_808}
UNITS = {'resnet_v1_50': (3, 4, 6, 3), 'resnet_v1_101': (3, 4, 23, 3),
         'resnet_v1_152': (3, 8, 36, 3)}


@pytest.mark.parametrize('name', sorted(PUBLISHED_PARAMETERS))
def test_builds_research_slim_names_and_published_size(name, nets):
  net = nets.default_net(name)
  assert net.num_parameters == PUBLISHED_PARAMETERS[name]
  unit = f'{name}/block1/unit_1/bottleneck_v1'
  expected = {
      f'{name}/conv1/weights': [7, 7, 3, 64],
      f'{name}/conv1/BatchNorm/gamma': [64],
      f'{unit}/shortcut/weights': [1, 1, 64, 256],
      f'{unit}/shortcut/BatchNorm/moving_mean': [256],
      f'{unit}/conv1/weights': [1, 1, 64, 64],
      f'{unit}/conv2/weights': [3, 3, 64, 64],
      f'{unit}/conv3/weights': [1, 1, 64, 256],
      f'{name}/block3/unit_{UNITS[name][2]}/bottleneck_v1/conv3/BatchNorm/beta': [1024],
      f'{name}/block4/unit_3/bottleneck_v1/conv3/BatchNorm/moving_variance': [2048],
      f'{name}/logits/weights': [1, 1, 2048, 1000],
      f'{name}/logits/biases': [1000],
  }
  assert {n: net.shapes.get(n) for n in expected} == expected
  # Units after the first in a block add to the input: no shortcut projection.
  assert f'{name}/block1/unit_2/bottleneck_v1/shortcut/weights' not in net.shapes
  assert f'{unit}/conv1/biases' not in net.shapes
  units = {n.split('/')[1] + '/' + n.split('/')[2] for n in net.shapes if '/unit_' in n}
  assert len(units) == sum(UNITS[name])


def test_end_points_are_named_by_scope(nets):
  net = nets.default_net('resnet_v1_50')
  shapes = {name: t.shape.as_list() for name, t in net.end_points.items()}
  unit = 'resnet_v1_50/block1/unit_1/bottleneck_v1'
  assert shapes[unit] == [1, 56, 56, 256]
  for layer in ('shortcut', 'conv1', 'conv2', 'conv3'):
    assert f'{unit}/{layer}' in shapes
  # Each block's stride sits on its last unit.
  assert shapes['resnet_v1_50/block1'] == [1, 28, 28, 256]
  assert shapes['resnet_v1_50/block2'] == [1, 14, 14, 512]
  assert shapes['resnet_v1_50/block3'] == [1, 7, 7, 1024]
  assert shapes['resnet_v1_50/block4'] == [1, 7, 7, 2048]
  assert shapes['global_pool'] == [1, 1, 1, 2048]
  assert shapes['resnet_v1_50/logits'] == [1, 1, 1, 1000]
  assert shapes['resnet_v1_50/spatial_squeeze'] == shapes['predictions'] == [1, 1000]
  assert len(shapes) == 77


def test_output_stride_uses_atrous_convolution_and_keeps_variables(nets):
  with tf.Graph().as_default():
    with slim.arg_scope(resnet_v1.resnet_arg_scope()):
      net, end_points = resnet_v1.resnet_v1_50(tf.zeros([1, 224, 224, 3]), num_classes=1000,
                                               global_pool=False, spatial_squeeze=False,
                                               output_stride=16)
    shapes = {v.op.name: v.shape.as_list() for v in tf.compat.v1.global_variables()}
  assert end_points['resnet_v1_50/block4'].shape.as_list() == [1, 14, 14, 2048]
  assert net.shape.as_list() == [1, 14, 14, 1000]
  assert shapes == nets.default_net('resnet_v1_50').shapes
  with tf.Graph().as_default(), pytest.raises(ValueError, match='multiple of 4'):
    resnet_v1.resnet_v1_50(tf.zeros([1, 224, 224, 3]), output_stride=6)


# 101 and 152 are the same code with more units; one training step of 50 covers them.
@pytest.mark.parametrize('name', ['resnet_v1_50'])
def test_one_training_step_updates_first_and_last_layer(name, nets):
  loss, changes = nets.train_one_step(nets.default_net(name))
  assert np.isfinite(loss)
  assert set(changes) == {f'{name}/conv1/weights', f'{name}/logits/weights'}
  assert min(changes.values()) > 0
