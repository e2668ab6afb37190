"""Helpers shared by the network tests.

Building a big net's graph costs seconds of CPU whatever the image size, so each net is
built once per session at its default size (`default_net`), and the registry test, the
name checks and the training step share that graph.
"""
import types

import numpy as np
import pytest
import tensorflow as tf

WEIGHT_DECAY = 1e-4
_DEFAULT_NETS = {}


def num_classes_for(name):
  """10 for the small nets (MNIST, CIFAR-10), 1000 (ImageNet, published counts) otherwise."""
  return 10 if name in ('lenet', 'cifarnet') else 1000


def build_net(name, *, num_classes, image_size=None, batch_size=1, is_training=True,
              weight_decay=WEIGHT_DECAY, **kwargs):
  """Builds `name` from nets_factory in a new graph, fed by a placeholder."""
  from models import nets_factory
  graph = tf.Graph()
  with graph.as_default():
    network_fn = nets_factory.get_network_fn(name, num_classes=num_classes,
                                             weight_decay=weight_decay,
                                             is_training=is_training)
    size = image_size or network_fn.default_image_size
    channels = 1 if name == 'lenet' else 3
    images = tf.compat.v1.placeholder(tf.float32, [batch_size, size, size, channels])
    logits, end_points = network_fn(images, **kwargs)
  variables = graph.get_collection(tf.compat.v1.GraphKeys.GLOBAL_VARIABLES)
  trainable = graph.get_collection(tf.compat.v1.GraphKeys.TRAINABLE_VARIABLES)
  return types.SimpleNamespace(
      name=name, graph=graph, images=images, logits=logits, end_points=end_points,
      num_classes=num_classes,
      variables={v.op.name: v for v in variables},
      shapes={v.op.name: v.shape.as_list() for v in variables},
      trainable_parameters={v.op.name: v.shape.num_elements() for v in trainable},
      num_parameters=sum(v.shape.num_elements() for v in trainable))


def default_net(name):
  """`name` at its default size, batch 1, in training mode; built once per session."""
  if name not in _DEFAULT_NETS:
    _DEFAULT_NETS[name] = build_net(name, num_classes=num_classes_for(name))
  return _DEFAULT_NETS[name]


def session_config():
  """Grappler off: on these one-off graphs it costs more than the step it would speed up."""
  config = tf.compat.v1.ConfigProto()
  config.graph_options.rewrite_options.disable_meta_optimizer = True
  config.graph_options.optimizer_options.opt_level = tf.compat.v1.OptimizerOptions.L0
  return config


def train_one_step(net, *, seed=0):
  """One SGD step on one random image; returns (loss, {variable: max |change|})."""
  with net.graph.as_default():
    labels = tf.compat.v1.placeholder(tf.int32, [net.logits.shape[0]])
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, net.logits)
    if 'AuxLogits' in net.end_points:
      loss += 0.4 * tf.compat.v1.losses.sparse_softmax_cross_entropy(
          labels, net.end_points['AuxLogits'])
    update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
      train_op = tf.compat.v1.train.GradientDescentOptimizer(0.01).minimize(loss)
    trainable = tf.compat.v1.trainable_variables()
    # The first and the last weights: a change in both means gradients crossed the net.
    weights = [v for v in trainable if 'weights' in v.op.name]
    watched = [weights[0], weights[-1]]
    init = tf.compat.v1.global_variables_initializer()
  rng = np.random.default_rng(seed)
  feed = {net.images: rng.uniform(-1, 1, net.images.shape.as_list()).astype(np.float32),
          labels: rng.integers(0, net.num_classes, labels.shape.as_list())}
  with tf.compat.v1.Session(graph=net.graph, config=session_config()) as sess:
    sess.run(init)
    before = sess.run(watched)
    loss_value, _ = sess.run([loss, train_op], feed)
    after = sess.run(watched)
  changes = {v.op.name: float(np.max(np.abs(a - b))) for v, a, b in zip(watched, after, before)}
  return loss_value, changes


@pytest.fixture
def nets():
  """The helpers above: `nets.default_net('vgg_16')`, `nets.train_one_step(net)` ..."""
  return types.SimpleNamespace(build_net=build_net, default_net=default_net,
                               train_one_step=train_one_step, num_classes_for=num_classes_for)
