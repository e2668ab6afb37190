"""VGG A/16/19: one builder, research/slim's names, the published parameter counts."""
import numpy as np
import pytest
import tensorflow as tf

# Parameters with 1000 classes, as published for VGG-11/16/19.
PUBLISHED_PARAMETERS = {'vgg_a': 132_863_336, 'vgg_16': 138_357_544, 'vgg_19': 143_667_240}
# The last convolution of each variant: conv5_2 (A), conv5_3 (D), conv5_4 (E).
LAST_CONV = {'vgg_a': 'conv5/conv5_2', 'vgg_16': 'conv5/conv5_3', 'vgg_19': 'conv5/conv5_4'}


@pytest.mark.parametrize('name', sorted(PUBLISHED_PARAMETERS))
def test_builds_research_slim_names_and_published_size(name, nets):
  net = nets.default_net(name)
  assert net.num_parameters == PUBLISHED_PARAMETERS[name]
  assert net.shapes[f'{name}/conv1/conv1_1/weights'] == [3, 3, 3, 64]
  assert net.shapes[f'{name}/{LAST_CONV[name]}/biases'] == [512]
  assert net.shapes[f'{name}/fc6/weights'] == [7, 7, 512, 4096]
  assert net.shapes[f'{name}/fc7/weights'] == [1, 1, 4096, 4096]
  assert net.shapes[f'{name}/fc8/weights'] == [1, 1, 4096, 1000]
  assert net.end_points[f'{name}/{LAST_CONV[name]}'].shape.as_list() == [1, 14, 14, 512]
  assert net.end_points[f'{name}/pool5'].shape.as_list() == [1, 7, 7, 512]
  assert net.end_points[f'{name}/fc8'].shape.as_list() == [1, 1000]
  assert net.logits.shape.as_list() == [1, 1000]


def test_vgg16_end_points_are_every_layer():
  import slimdata as slim
  from models import vgg
  with tf.Graph().as_default():
    with slim.arg_scope(vgg.vgg_arg_scope()):
      _, end_points = vgg.vgg_16(tf.zeros([1, 224, 224, 3]))
  convs = [f'conv{b}/conv{b}_{i}' for b, n in zip(range(1, 6), (2, 2, 3, 3, 3))
           for i in range(1, n + 1)]
  expected = {f'vgg_16/{c}' for c in convs} | {f'vgg_16/pool{b}' for b in range(1, 6)}
  assert set(end_points) == expected | {'vgg_16/fc6', 'vgg_16/fc7', 'vgg_16/fc8'}


def test_variables_match_tf_slims_vgg16_exactly(nets):
  import tf_slim
  from tf_slim.nets import vgg as reference
  with tf.Graph().as_default():
    with tf_slim.arg_scope(reference.vgg_arg_scope()):
      reference.vgg_16(tf.zeros([1, 224, 224, 3]), num_classes=1000)
    expected = {v.op.name: v.shape.as_list() for v in tf.compat.v1.global_variables()}
  assert nets.default_net('vgg_16').shapes == expected


def test_global_pool_takes_any_size():
  import slimdata as slim
  from models import vgg
  with tf.Graph().as_default():
    with slim.arg_scope(vgg.vgg_arg_scope()):
      logits, end_points = vgg.vgg_a(tf.zeros([1, 64, 96, 3]), num_classes=5,
                                     fc_conv_padding='SAME', global_pool=True)
  assert logits.shape.as_list() == [1, 5]
  assert end_points['global_pool'].shape.as_list() == [1, 1, 1, 4096]


@pytest.mark.parametrize('name', sorted(PUBLISHED_PARAMETERS))
def test_one_training_step_updates_first_and_last_layer(name, nets):
  # 32x32 with a SAME fc6 keeps every variable's shape and makes the step cheap.
  net = nets.build_net(name, num_classes=1000, image_size=32, fc_conv_padding='SAME')
  assert net.shapes == nets.default_net(name).shapes
  loss, changes = nets.train_one_step(net)
  assert np.isfinite(loss)
  assert set(changes) == {f'{name}/conv1/conv1_1/weights', f'{name}/fc8/weights'}
  assert min(changes.values()) > 0
