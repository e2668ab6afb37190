"""arg_scope: defaults for decorated functions, nesting, overrides, saved scopes."""
import pytest

from slimdata import scopes


@scopes.add_arg_scope
def layer(inputs, size=1, padding='VALID', activation=None):
  return {'inputs': inputs, 'size': size, 'padding': padding, 'activation': activation}


@scopes.add_arg_scope
def other(inputs, padding='VALID'):
  return {'inputs': inputs, 'padding': padding}


def plain(inputs, padding='VALID'):
  return inputs, padding


def test_outside_any_scope_the_defaults_apply():
  assert scopes.current_arg_scope() == {}
  assert layer(0) == {'inputs': 0, 'size': 1, 'padding': 'VALID', 'activation': None}


def test_scope_sets_defaults_for_listed_functions_only():
  with scopes.arg_scope([layer], padding='SAME'):
    assert layer(0)['padding'] == 'SAME'
    assert other(0)['padding'] == 'VALID'
  assert layer(0)['padding'] == 'VALID'


def test_a_calls_own_argument_wins():
  with scopes.arg_scope([layer, other], padding='SAME'):
    assert layer(0, padding='VALID')['padding'] == 'VALID'
    assert other(0)['padding'] == 'SAME'


def test_nested_scopes_merge_and_inner_overrides():
  with scopes.arg_scope([layer], padding='SAME', size=3):
    with scopes.arg_scope([layer], size=5, activation='relu'):
      assert layer(0) == {'inputs': 0, 'size': 5, 'padding': 'SAME', 'activation': 'relu'}
    assert layer(0) == {'inputs': 0, 'size': 3, 'padding': 'SAME', 'activation': None}


def test_a_positional_argument_beats_the_scope():
  # TF-Slim raised "got multiple values for argument 'size'" here.
  with scopes.arg_scope([layer], size=3, padding='SAME'):
    assert layer(0, 5) == {'inputs': 0, 'size': 5, 'padding': 'SAME', 'activation': None}


def test_saved_scope_is_reinstated():
  with scopes.arg_scope([layer], size=7) as saved:
    pass
  assert layer(0)['size'] == 1
  with scopes.arg_scope(saved):
    assert layer(0)['size'] == 7
    with scopes.arg_scope([other], padding='SAME'):
      assert layer(0)['size'] == 7 and other(0)['padding'] == 'SAME'
  # Reinstating does not mutate the saved dict.
  assert scopes.arg_scope_func_key(other) not in saved


def test_scope_keys_can_be_given_instead_of_functions():
  with scopes.arg_scope([scopes.arg_scope_func_key(layer)], size=4):
    assert layer(0)['size'] == 4


def test_stack_is_restored_after_an_exception():
  with pytest.raises(RuntimeError):
    with scopes.arg_scope([layer], size=9):
      raise RuntimeError('boom')
  assert layer(0)['size'] == 1
  assert scopes.current_arg_scope() == {}


def test_undecorated_function_is_a_value_error_naming_it():
  with pytest.raises(ValueError, match=r'test_scopes\.plain is not decorated'):
    with scopes.arg_scope([plain], padding='SAME'):
      pass


def test_bad_arguments():
  with pytest.raises(TypeError, match='list or tuple'):
    with scopes.arg_scope(layer, size=2):
      pass
  with pytest.raises(ValueError, match='no keyword arguments'):
    with scopes.arg_scope({}, size=2):
      pass


def test_introspection():
  assert scopes.has_arg_scope(layer)
  assert not scopes.has_arg_scope(plain)
  assert scopes.arg_scoped_arguments(layer) == ['size', 'padding', 'activation']
  with pytest.raises(ValueError, match='plain'):
    scopes.arg_scoped_arguments(plain)
  assert layer.__name__ == 'layer'  # the decorator keeps the name (repeat/stack use it)


def test_slim_layers_and_variables_are_scoped():
  import slimdata as slim
  for fn in (slim.conv2d, slim.convolution, slim.fully_connected, slim.batch_norm,
             slim.max_pool2d, slim.avg_pool2d, slim.dropout, slim.flatten, slim.variable,
             slim.model_variable, slim.separable_conv2d, slim.conv2d_transpose,
             slim.layer_norm, slim.bias_add, slim.one_hot_encoding, slim.softmax,
             slim.unit_norm, slim.conv2d_in_plane):
    assert slim.has_arg_scope(fn), fn
  assert 'normalizer_fn' in slim.arg_scoped_arguments(slim.conv2d)
