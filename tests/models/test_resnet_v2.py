"""ResNet v2 50: pre-activation units with research/slim's names; the published count."""
import numpy as np


def test_builds_research_slim_names_and_published_size(nets):
  net = nets.default_net('resnet_v2_50')
  # Keras' ResNet50V2 (the same layers) has 25,568,360 trainable parameters.
  assert net.num_parameters == 25_568_360
  unit = 'resnet_v2_50/block1/unit_1/bottleneck_v2'
  expected = {
      # The root convolution has biases and no batch norm: the first unit's preact follows.
      'resnet_v2_50/conv1/weights': [7, 7, 3, 64],
      'resnet_v2_50/conv1/biases': [64],
      f'{unit}/preact/gamma': [64],
      f'{unit}/preact/moving_mean': [64],
      f'{unit}/shortcut/weights': [1, 1, 64, 256],
      f'{unit}/shortcut/biases': [256],
      f'{unit}/conv1/weights': [1, 1, 64, 64],
      f'{unit}/conv1/BatchNorm/beta': [64],
      f'{unit}/conv2/weights': [3, 3, 64, 64],
      f'{unit}/conv3/weights': [1, 1, 64, 256],
      f'{unit}/conv3/biases': [256],
      'resnet_v2_50/postnorm/gamma': [2048],
      'resnet_v2_50/postnorm/moving_variance': [2048],
      'resnet_v2_50/logits/weights': [1, 1, 2048, 1000],
      'resnet_v2_50/logits/biases': [1000],
  }
  assert {n: net.shapes.get(n) for n in expected} == expected
  assert 'resnet_v2_50/conv1/BatchNorm/beta' not in net.shapes
  shapes = {name: t.shape.as_list() for name, t in net.end_points.items()}
  assert shapes['resnet_v2_50/block1'] == [1, 28, 28, 256]
  assert shapes['resnet_v2_50/block4'] == [1, 7, 7, 2048]
  assert shapes['predictions'] == [1, 1000]


def test_one_training_step_updates_first_and_last_layer(nets):
  loss, changes = nets.train_one_step(nets.default_net('resnet_v2_50'))
  assert np.isfinite(loss) and min(changes.values()) > 0
