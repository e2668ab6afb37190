"""Building blocks of the Inception nets: layer specs, mixed modules, the shared arg_scope.

    steps = [('Conv2d_1a_7x7', conv(64, [7, 7], 'Conv2d_1a_7x7', stride=2)),
             ('Mixed_3b', mixed([conv(64, [1, 1], 'Conv2d_0a_1x1')], [...]))]
    net, end_points = run_steps(images, steps, final_endpoint='Mixed_3b')

A net is a table of named steps; a mixed module is a list of branches, each a list of
layers run in `Branch_<i>` and concatenated along depth, so the variable names are
research/slim's (`InceptionV3/Mixed_5b/Branch_1/Conv2d_0b_5x5/weights`).
"""
import tensorflow as tf

import slimdata as slim


def conv(depth, kernel, scope, **kwargs):
  """A `slim.conv2d` layer, applied later to the branch's input."""
  return lambda net: slim.conv2d(net, depth, kernel, scope=scope, **kwargs)


def max_pool(kernel, scope, **kwargs):
  return lambda net: slim.max_pool2d(net, kernel, scope=scope, **kwargs)


def avg_pool(kernel, scope, **kwargs):
  return lambda net: slim.avg_pool2d(net, kernel, scope=scope, **kwargs)


def parallel(*layers):
  """Layers applied side by side to one input, concatenated (Inception v3's 1x3 | 3x1)."""
  return lambda net: tf.concat([layer(net) for layer in layers], 3)


def mixed(*branches):
  """A mixed module: each branch (a list of layers) in `Branch_<i>`, concatenated."""

  def module(net):
    outputs = []
    for index, layers in enumerate(branches):
      with tf.compat.v1.variable_scope(f'Branch_{index}'):
        branch = net
        for layer in layers:
          branch = layer(branch)
        outputs.append(branch)
    return tf.concat(outputs, 3)

  return module


def run_steps(inputs, steps, final_endpoint):
  """Runs `(name, fn)` steps in order, each mixed module in its own scope, up to `final_endpoint`.

  Returns:
    `(net, end_points)` with one end point per step.

  Raises:
    ValueError: `final_endpoint` names no step (checked before anything is built).
  """
  names = [name for name, _ in steps]
  if final_endpoint not in names:
    raise ValueError(f'unknown final_endpoint {final_endpoint!r}; known: {", ".join(names)}')
  end_points = {}
  net = inputs
  for name, step in steps:
    if name.startswith('Mixed_'):
      with tf.compat.v1.variable_scope(name):
        net = step(net)
    else:
      net = step(net)
    end_points[name] = net
    if name == final_endpoint:
      break
  return net, end_points


def reduced_kernel_size_for_small_input(input_tensor, kernel_size):
  """`kernel_size`, shrunk to the input's spatial size when that is known and smaller."""
  shape = input_tensor.shape.as_list()
  if shape[1] is None or shape[2] is None:
    return kernel_size
  return [min(shape[1], kernel_size[0]), min(shape[2], kernel_size[1])]


def inception_arg_scope(weight_decay=0.00004, use_batch_norm=True, batch_norm_decay=0.9997,
                        batch_norm_epsilon=0.001, activation_fn=tf.nn.relu,
                        batch_norm_updates_collections=tf.compat.v1.GraphKeys.UPDATE_OPS,
                        batch_norm_scale=False):
  """The Inception nets' defaults: variance-scaling weights, L2 decay, batch norm, ReLU.

  Batch norm has no scale (gamma) by default, as in the published checkpoints; its moving
  statistics also go into the `moving_vars` collection, as research/slim's did.
  """
  batch_norm_params = {
      'decay': batch_norm_decay,
      'epsilon': batch_norm_epsilon,
      'updates_collections': batch_norm_updates_collections,
      'scale': batch_norm_scale,
      'variables_collections': {
          'beta': None,
          'gamma': None,
          'moving_mean': ['moving_vars'],
          'moving_variance': ['moving_vars'],
      },
  }
  if use_batch_norm:
    normalizer_fn, normalizer_params = slim.batch_norm, batch_norm_params
  else:
    normalizer_fn, normalizer_params = None, {}
  with slim.arg_scope([slim.conv2d, slim.fully_connected],
                      weights_regularizer=slim.l2_regularizer(weight_decay)):
    with slim.arg_scope([slim.conv2d], weights_initializer=slim.variance_scaling_initializer(),
                        activation_fn=activation_fn, normalizer_fn=normalizer_fn,
                        normalizer_params=normalizer_params) as sc:
      return sc
