"""AlexNet v2: research/slim's names, end points and parameter count."""
import numpy as np
import tensorflow as tf


def _tf_slim_reference_shapes():
  """Variable shapes of tf_slim's own alexnet_v2 (the contrib original), built beside ours."""
  import tf_slim
  from tf_slim.nets import alexnet as reference
  with tf.Graph().as_default():
    with tf_slim.arg_scope(reference.alexnet_v2_arg_scope()):
      reference.alexnet_v2(tf.zeros([1, 224, 224, 3]), num_classes=1000)
    return {v.op.name: v.shape.as_list() for v in tf.compat.v1.global_variables()}


def test_builds_research_slim_end_points_and_variables(nets):
  net = nets.default_net('alexnet_v2')
  layers = ['conv1', 'pool1', 'conv2', 'pool2', 'conv3', 'conv4', 'conv5', 'pool5', 'fc6',
            'fc7', 'fc8']
  assert list(net.end_points) == [f'alexnet_v2/{layer}' for layer in layers]
  assert net.end_points['alexnet_v2/pool5'].shape.as_list() == [1, 5, 5, 256]
  assert net.end_points['alexnet_v2/fc7'].shape.as_list() == [1, 1, 1, 4096]
  assert net.shapes['alexnet_v2/conv1/weights'] == [11, 11, 3, 64]
  assert net.shapes['alexnet_v2/fc6/weights'] == [5, 5, 256, 4096]
  assert net.shapes['alexnet_v2/fc8/biases'] == [1000]
  assert net.num_parameters == 50_303_912


def test_variables_match_tf_slims_alexnet_exactly(nets):
  assert nets.default_net('alexnet_v2').shapes == _tf_slim_reference_shapes()


def test_one_training_step_updates_first_and_last_layer(nets):
  loss, changes = nets.train_one_step(nets.default_net('alexnet_v2'))
  assert np.isfinite(loss) and min(changes.values()) > 0
