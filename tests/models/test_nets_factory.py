"""nets_factory: the registry of nets, and the functions it hands out."""
import pytest
import tensorflow as tf

from models import nets_factory


def test_unknown_name_fails_listing_the_known_ones():
  with pytest.raises(ValueError) as error:
    nets_factory.get_network_fn('lenet5', num_classes=10)
  message = str(error.value)
  assert "'lenet5'" in message
  for name in nets_factory.NETWORKS:
    assert name in message


def test_research_slim_maps_mirror_the_registry():
  assert set(nets_factory.networks_map) == set(nets_factory.NETWORKS)
  assert set(nets_factory.arg_scopes_map) == set(nets_factory.NETWORKS)
  for name, entry in nets_factory.NETWORKS.items():
    assert nets_factory.networks_map[name] is entry.network_fn
    assert nets_factory.arg_scopes_map[name] is entry.arg_scope_fn


def test_network_fn_carries_the_name_and_default_size():
  network_fn = nets_factory.get_network_fn('lenet', num_classes=10)
  assert network_fn.default_image_size == 28
  assert network_fn.__name__ == 'lenet'


@pytest.mark.parametrize('name', sorted(nets_factory.NETWORKS))
def test_every_registered_net_builds_inside_its_arg_scope(name, nets):
  entry = nets_factory.NETWORKS[name]
  size = entry.network_fn.default_image_size
  assert isinstance(size, int) and size > 0
  # Every arg_scope function takes weight_decay, as get_network_fn passes it.
  assert isinstance(entry.arg_scope_fn(weight_decay=0.0), dict)
  net = nets.default_net(name)
  assert net.logits.shape.as_list() == [1, nets.num_classes_for(name)]
  assert net.end_points
  with net.graph.as_default():
    variables = tf.compat.v1.global_variables()
    model_variables = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.MODEL_VARIABLES)
    regularization = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES)
  # Every weight sits in the net's one top-level scope, and all are model variables
  # (what slim.get_model_variables() and checkpoint restore rely on).
  assert len({v.op.name.split('/')[0] for v in variables}) == 1
  assert {v.op.name for v in model_variables} == {v.op.name for v in variables}
  # weight_decay reached the layers through the arg_scope.
  assert regularization
