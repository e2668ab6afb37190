"""CifarNet: research/slim's names and shapes, and that it learns."""
import numpy as np
import tensorflow as tf

from models import cifarnet


def test_builds_research_slim_end_points_and_variables(nets):
  net = nets.default_net('cifarnet')
  assert cifarnet.cifarnet.default_image_size == 32
  assert {name: t.shape.as_list() for name, t in net.end_points.items()} == {
      'conv1': [1, 32, 32, 64], 'pool1': [1, 16, 16, 64], 'conv2': [1, 16, 16, 64],
      'pool2': [1, 8, 8, 64], 'Flatten': [1, 4096], 'fc3': [1, 384], 'fc4': [1, 192],
      'Logits': [1, 10], 'Predictions': [1, 10]}
  assert net.shapes == {
      'CifarNet/conv1/weights': [5, 5, 3, 64], 'CifarNet/conv1/biases': [64],
      'CifarNet/conv2/weights': [5, 5, 64, 64], 'CifarNet/conv2/biases': [64],
      'CifarNet/fc3/weights': [4096, 384], 'CifarNet/fc3/biases': [384],
      'CifarNet/fc4/weights': [384, 192], 'CifarNet/fc4/biases': [192],
      'CifarNet/logits/weights': [192, 10], 'CifarNet/logits/biases': [10]}
  # 4,864 + 102,464 + 1,573,248 + 73,920 + 1,930.
  assert net.num_parameters == 1_756_426


def test_logits_are_not_weight_decayed(nets):
  net = nets.default_net('cifarnet')
  with net.graph.as_default():
    losses = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES)
  # research/slim's arg_scope decays only the fully connected hidden layers.
  assert sorted(loss.op.name.split('/')[1] for loss in losses) == ['fc3', 'fc4']


def test_one_training_step_updates_first_and_last_layer(nets):
  loss, changes = nets.train_one_step(nets.default_net('cifarnet'))
  assert np.isfinite(loss) and min(changes.values()) > 0


def test_short_training_run_lowers_the_loss():
  from models import nets_factory
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 10, 32)
  # Class k: a colour in channel k % 3 and a bright column at 3k; both learnable.
  images = rng.uniform(0, 0.3, [32, 32, 32, 3]).astype(np.float32)
  for i, label in enumerate(labels):
    images[i, :, 3 * label:3 * label + 2, label % 3] += 1.0
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(0)
    network_fn = nets_factory.get_network_fn('cifarnet', num_classes=10, is_training=True)
    logits, _ = network_fn(tf.constant(images))
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(tf.constant(labels), logits)
    train_op = tf.compat.v1.train.AdamOptimizer(1e-3).minimize(loss)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      first = sess.run(loss)
      for _ in range(30):
        sess.run(train_op)
      last = sess.run(loss)
  assert last < 0.3 * first, (first, last)
