"""Networks by name: the one place that knows which nets exist.

    network_fn = nets_factory.get_network_fn('vgg_16', num_classes=1000, is_training=True)
    logits, end_points = network_fn(images)        # inside vgg_16's arg_scope
    size = network_fn.default_image_size           # 224

Each registry entry holds a net's function and its arg_scope function together, so a net
cannot be registered without its defaults. `networks_map` and `arg_scopes_map` are
research/slim's two dicts, derived from the registry for code that reads them.
"""
import collections
import functools

import slimdata as slim
from models import alexnet
from models import cifarnet
from models import inception_v1
from models import inception_v3
from models import lenet
from models import mobilenet_v1
from models import resnet_v1
from models import resnet_v2
from models import vgg

NetEntry = collections.namedtuple('NetEntry', ['network_fn', 'arg_scope_fn'])

NETWORKS = {
    'alexnet_v2': NetEntry(alexnet.alexnet_v2, alexnet.alexnet_v2_arg_scope),
    'cifarnet': NetEntry(cifarnet.cifarnet, cifarnet.cifarnet_arg_scope),
    'inception_v1': NetEntry(inception_v1.inception_v1, inception_v1.inception_v1_arg_scope),
    'inception_v3': NetEntry(inception_v3.inception_v3, inception_v3.inception_v3_arg_scope),
    'lenet': NetEntry(lenet.lenet, lenet.lenet_arg_scope),
    'mobilenet_v1': NetEntry(mobilenet_v1.mobilenet_v1, mobilenet_v1.mobilenet_v1_arg_scope),
    'mobilenet_v1_075': NetEntry(mobilenet_v1.mobilenet_v1_075,
                                 mobilenet_v1.mobilenet_v1_arg_scope),
    'mobilenet_v1_050': NetEntry(mobilenet_v1.mobilenet_v1_050,
                                 mobilenet_v1.mobilenet_v1_arg_scope),
    'mobilenet_v1_025': NetEntry(mobilenet_v1.mobilenet_v1_025,
                                 mobilenet_v1.mobilenet_v1_arg_scope),
    'resnet_v1_50': NetEntry(resnet_v1.resnet_v1_50, resnet_v1.resnet_arg_scope),
    'resnet_v1_101': NetEntry(resnet_v1.resnet_v1_101, resnet_v1.resnet_arg_scope),
    'resnet_v1_152': NetEntry(resnet_v1.resnet_v1_152, resnet_v1.resnet_arg_scope),
    'resnet_v2_50': NetEntry(resnet_v2.resnet_v2_50, resnet_v2.resnet_arg_scope),
    'vgg_a': NetEntry(vgg.vgg_a, vgg.vgg_arg_scope),
    'vgg_16': NetEntry(vgg.vgg_16, vgg.vgg_arg_scope),
    'vgg_19': NetEntry(vgg.vgg_19, vgg.vgg_arg_scope),
}

networks_map = {name: entry.network_fn for name, entry in NETWORKS.items()}
arg_scopes_map = {name: entry.arg_scope_fn for name, entry in NETWORKS.items()}


def get_network_fn(name, num_classes, weight_decay=0.0, is_training=False):
  """Returns `network_fn(images, **kwargs) -> (logits, end_points)` for the net `name`.

  The returned function builds the net inside its arg_scope (with `weight_decay`), passing
  `num_classes` and `is_training`; extra keyword arguments go to the net itself. It carries
  the net's `default_image_size`.

  Raises:
    ValueError: `name` is not a registered net; the message lists the known ones.
  """
  if name not in NETWORKS:
    raise ValueError(f'unknown network {name!r}; known: {", ".join(sorted(NETWORKS))}')
  entry = NETWORKS[name]

  @functools.wraps(entry.network_fn)
  def network_fn(images, **kwargs):
    with slim.arg_scope(entry.arg_scope_fn(weight_decay=weight_decay)):
      return entry.network_fn(images, num_classes=num_classes, is_training=is_training,
                              **kwargs)

  network_fn.default_image_size = getattr(entry.network_fn, 'default_image_size', None)
  return network_fn
