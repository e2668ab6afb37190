"""Variables the TF-Slim way: created in variable scopes, found through collections.

    weights = slim.model_variable('weights', shape=[3, 3, 3, 64],
                                  regularizer=slim.l2_regularizer(0.0005))
    restore = slim.get_variables_to_restore(exclude=['vgg_16/fc8'])

`model_variable` also adds the variable to MODEL_VARIABLES, which is what
checkpoints of a model and `get_model_variables` are about. Graph mode only
(`tf.compat.v1`), as TF-Slim was.
"""
import functools
import logging
import re

import tensorflow as tf

from slimdata import scopes

__all__ = [
    'add_model_variable', 'assert_global_step', 'assert_or_get_global_step',
    'assign_from_checkpoint', 'assign_from_checkpoint_fn', 'assign_from_values',
    'assign_from_values_fn', 'create_global_step', 'filter_variables', 'get_global_step',
    'get_or_create_global_step', 'get_local_variables', 'get_model_variables',
    'get_trainable_variables', 'get_unique_variable', 'get_variables_by_name',
    'get_variables_by_suffix', 'get_variable_full_name', 'get_variables_to_restore',
    'get_variables', 'global_variable', 'local_variable', 'model_variable', 'variable',
    'VariableDeviceChooser'
]

_v1 = tf.compat.v1
_GraphKeys = _v1.GraphKeys


# Global step: thin wrappers over tf.compat.v1.train, kept for TF-Slim's names.
def assert_global_step(global_step_tensor):
  """Raises TypeError unless `global_step_tensor` is a scalar integer variable or tensor."""
  _v1.train.assert_global_step(global_step_tensor)


def assert_or_get_global_step(graph=None, global_step_tensor=None):
  """Checks `global_step_tensor` if given, else returns the graph's global step (or None)."""
  if global_step_tensor is None:
    return get_global_step(graph)
  assert_global_step(global_step_tensor)
  return global_step_tensor


def get_global_step(graph=None):
  """The graph's global step variable, or None."""
  return _v1.train.get_global_step(graph)


def create_global_step(graph=None):
  """Creates the global step variable; ValueError if the graph already has one."""
  return _v1.train.create_global_step(graph)


def get_or_create_global_step(graph=None):
  """The graph's global step variable, created (int64, 0) if missing."""
  return _v1.train.get_or_create_global_step(graph)


def local_variable(initial_value, validate_shape=True, name=None, use_resource=None):
  """A non-trainable variable in LOCAL_VARIABLES (not saved in checkpoints by default)."""
  return _v1.Variable(initial_value, trainable=False,
                      collections=[_GraphKeys.LOCAL_VARIABLES],
                      validate_shape=validate_shape, use_resource=use_resource, name=name)


def global_variable(initial_value, validate_shape=True, name=None, use_resource=None):
  """A non-trainable variable in GLOBAL_VARIABLES only."""
  return _v1.Variable(initial_value, trainable=False,
                      collections=[_GraphKeys.GLOBAL_VARIABLES],
                      validate_shape=validate_shape, use_resource=use_resource, name=name)


@scopes.add_arg_scope
def variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=True,
             collections=None, caching_device=None, device=None, partitioner=None,
             custom_getter=None, use_resource=None,
             synchronization=tf.VariableSynchronization.AUTO,
             aggregation=tf.VariableAggregation.NONE):
  """Gets an existing variable or creates a new one with `tf.compat.v1.get_variable`.

  Args:
    name: the name relative to the current variable scope.
    shape, dtype, initializer: as `tf.compat.v1.get_variable`.
    regularizer: a function of the variable returning a scalar loss, which is added
      to REGULARIZATION_LOSSES when the variable is created (or None).
    trainable: also add it to TRAINABLE_VARIABLES.
    collections: the collections to add it to; default `[GLOBAL_VARIABLES]`.
    caching_device, partitioner, use_resource, synchronization, aggregation: as
      `tf.compat.v1.get_variable`.
    device: a device string or function to place the variable with.
    custom_getter: called instead of `get_variable`, with the same arguments and
      the current scope's `reuse`.

  Returns:
    The variable.
  """
  collections = list(collections if collections is not None else
                     [_GraphKeys.GLOBAL_VARIABLES])
  # Remove duplicates but keep the order, so collection contents are deterministic.
  collections = list(dict.fromkeys(collections))
  getter = _v1.get_variable
  if custom_getter is not None:
    getter = functools.partial(custom_getter, reuse=_v1.get_variable_scope().reuse)
  with _v1.device(device or ''):
    return getter(name, shape=shape, dtype=dtype, initializer=initializer,
                  regularizer=regularizer, trainable=trainable, collections=collections,
                  caching_device=caching_device, partitioner=partitioner,
                  use_resource=use_resource, synchronization=synchronization,
                  aggregation=aggregation)


@scopes.add_arg_scope
def model_variable(name, shape=None, dtype=tf.float32, initializer=None, regularizer=None,
                   trainable=True, collections=None, caching_device=None, device=None,
                   partitioner=None, custom_getter=None, use_resource=None,
                   synchronization=tf.VariableSynchronization.AUTO,
                   aggregation=tf.VariableAggregation.NONE):
  """Like `variable`, and also adds it to GLOBAL_VARIABLES and MODEL_VARIABLES."""
  collections = list(collections or [])
  collections += [_GraphKeys.GLOBAL_VARIABLES, _GraphKeys.MODEL_VARIABLES]
  return variable(name, shape=shape, dtype=dtype, initializer=initializer,
                  regularizer=regularizer, trainable=trainable, collections=collections,
                  caching_device=caching_device, device=device, partitioner=partitioner,
                  custom_getter=custom_getter, use_resource=use_resource,
                  synchronization=synchronization, aggregation=aggregation)


def add_model_variable(var):
  """Adds `var` to MODEL_VARIABLES unless it is already there."""
  if var not in _v1.get_collection(_GraphKeys.MODEL_VARIABLES):
    _v1.add_to_collection(_GraphKeys.MODEL_VARIABLES, var)


def get_variables(scope=None, suffix=None, collection=_GraphKeys.GLOBAL_VARIABLES):
  """Variables of `collection` whose name starts with `scope` and ends with `suffix`.

  Args:
    scope: a variable scope or a name (a regular expression matched at the start).
    suffix: the end of the name (before `:0`), also a regular expression.
    collection: the collection to search; default GLOBAL_VARIABLES.
  """
  if isinstance(scope, _v1.VariableScope):
    scope = scope.name
  if suffix is not None:
    if ':' not in suffix:
      suffix += ':'
    scope = (scope or '') + '.*' + suffix
  return _v1.get_collection(collection, scope)


def get_model_variables(scope=None, suffix=None):
  """Variables in MODEL_VARIABLES, filtered as `get_variables`."""
  return get_variables(scope, suffix, _GraphKeys.MODEL_VARIABLES)


def get_local_variables(scope=None, suffix=None):
  """Variables in LOCAL_VARIABLES, filtered as `get_variables`."""
  return get_variables(scope, suffix, _GraphKeys.LOCAL_VARIABLES)


def get_trainable_variables(scope=None, suffix=None):
  """Variables in TRAINABLE_VARIABLES, filtered as `get_variables`."""
  return get_variables(scope, suffix, _GraphKeys.TRAINABLE_VARIABLES)


def get_variables_to_restore(include=None, exclude=None):
  """Global variables under the scopes in `include` (all if None) and none of `exclude`.

  Raises:
    TypeError: `include` or `exclude` is given but is not a list or tuple.
  """
  for arg_name, arg in (('include', include), ('exclude', exclude)):
    if arg is not None and not isinstance(arg, (list, tuple)):
      raise TypeError(f'get_variables_to_restore: {arg_name} must be a list or tuple of '
                      f'scope names, got {type(arg).__name__}.')
  if include is None:
    vars_to_include = get_variables()
  else:
    vars_to_include = []
    for scope in include:
      vars_to_include += get_variables(scope)
  vars_to_exclude = set()
  for scope in exclude or ():
    vars_to_exclude |= set(get_variables(scope))
  return [v for v in vars_to_include if v not in vars_to_exclude]


def get_variables_by_suffix(suffix, scope=None):
  """Global variables whose name ends with `suffix`."""
  return get_variables(scope=scope, suffix=suffix)


def get_variables_by_name(given_name, scope=None):
  """Global variables whose last name component is `given_name`."""
  suffix = '/' + given_name + ':|^' + given_name + ':'
  return get_variables(scope=scope, suffix=suffix)


def get_unique_variable(var_op_name):
  """The variable whose op name is exactly `var_op_name`.

  Raises:
    ValueError: no such variable.
  """
  candidates = get_variables(scope=var_op_name)
  if not candidates:
    raise ValueError(f"get_unique_variable: couldn't find variable {var_op_name!r}.")
  for candidate in candidates:
    if candidate.op.name == var_op_name:
      return candidate
  raise ValueError(f'get_unique_variable: {var_op_name!r} does not uniquely identify a '
                   f'variable (candidates: {[v.op.name for v in candidates]}).')


def _find_global_variable(var_name):
  found = _v1.get_collection(_GraphKeys.GLOBAL_VARIABLES, var_name)
  if not found:
    raise ValueError(f"assign_from_values: variable {var_name!r} wasn't found.")
  if len(found) == 1:
    return found[0]
  for var in found:
    if var.op.name == var_name:
      return var
  raise ValueError(f"assign_from_values: {var_name!r} doesn't uniquely identify a variable.")


def assign_from_values(var_names_to_values):
  """An op that assigns NumPy values to variables by name, fed through placeholders.

  Placeholders keep the values out of the graph (a large constant would bloat it).

  Returns:
    `(assign_op, feed_dict)`: run `assign_op` with `feed_dict`.

  Raises:
    ValueError: a name does not identify exactly one global variable.
  """
  feed_dict = {}
  assign_ops = []
  for var_name, value in var_names_to_values.items():
    var = _find_global_variable(var_name)
    placeholder = _v1.placeholder(dtype=var.dtype.base_dtype, shape=var.get_shape(),
                                  name='placeholder/' + var.op.name)
    assign_ops.append(var.assign(placeholder))
    feed_dict[placeholder] = value.reshape(var.get_shape())
  return tf.group(*assign_ops), feed_dict


def assign_from_values_fn(var_names_to_values):
  """A function of a session that runs `assign_from_values(var_names_to_values)`."""
  assign_op, feed_dict = assign_from_values(var_names_to_values)

  def callback(session):
    return session.run(assign_op, feed_dict)

  return callback


def _save_slice_info(var):
  # Partitioned variables' slices carry where they sit in the full variable. TF has
  # no public accessor for it; the attribute is stable since TF 1.0.
  return getattr(var, '_save_slice_info', None)


def get_variable_full_name(var):
  """The checkpoint name of `var` (the full variable's name for a partition slice)."""
  info = _save_slice_info(var)
  return info.full_name if info else var.op.name


def assign_from_checkpoint(model_path, var_list, ignore_missing_vars=False):
  """An op (and feed) that loads variables from a checkpoint.

  Args:
    model_path: the checkpoint path (e.g. `tf.train.latest_checkpoint(dir)`).
    var_list: a list of variables, or a dict from checkpoint names to a variable
      or a list of variables (partition slices) to load from that name.
    ignore_missing_vars: if True, log and skip names missing from the checkpoint.

  Returns:
    `(assign_op, feed_dict)`.

  Raises:
    ValueError: a name is missing and `ignore_missing_vars` is False, or shapes differ.
  """
  grouped_vars = {}
  if isinstance(var_list, (tuple, list)):
    for var in var_list:
      grouped_vars.setdefault(get_variable_full_name(var), []).append(var)
  else:
    for ckpt_name, value in var_list.items():
      grouped_vars[ckpt_name] = list(value) if isinstance(value, (tuple, list)) else [value]

  reader = tf.train.load_checkpoint(model_path)
  feed_dict = {}
  assign_ops = []
  for ckpt_name, var_group in grouped_vars.items():
    if not reader.has_tensor(ckpt_name):
      message = f'Checkpoint {model_path} is missing variable [{ckpt_name}]'
      if ignore_missing_vars:
        logging.warning(message)
        continue
      raise ValueError(message + '; pass ignore_missing_vars=True to skip it.')
    ckpt_value = reader.get_tensor(ckpt_name)
    for var in var_group:
      placeholder = _v1.placeholder(dtype=var.dtype.base_dtype, shape=var.get_shape(),
                                    name='placeholder/' + var.op.name)
      assign_ops.append(var.assign(placeholder))
      info = _save_slice_info(var)
      if not info:
        if var.get_shape() != ckpt_value.shape:
          raise ValueError(f'assign_from_checkpoint: {ckpt_name} has shape '
                           f'{list(ckpt_value.shape)} in {model_path} but the variable has '
                           f'shape {var.get_shape().as_list()}.')
        feed_dict[placeholder] = ckpt_value
      else:
        slices = tuple(slice(start, start + size)
                       for start, size in zip(info.var_offset, info.var_shape))
        feed_dict[placeholder] = ckpt_value[slices].reshape(info.var_shape)
  return tf.group(*assign_ops), feed_dict


def assign_from_checkpoint_fn(model_path, var_list, ignore_missing_vars=False,
                              reshape_variables=False):
  """A function of a session that restores `var_list` from `model_path` with a Saver.

  Args:
    model_path: the checkpoint path.
    var_list: a list of variables or a dict from checkpoint names to variables.
    ignore_missing_vars: skip (and log) variables the checkpoint lacks.
    reshape_variables: let the Saver reshape variables with the same element count.

  Returns:
    The function, or None if `ignore_missing_vars` left nothing to restore.

  Raises:
    ValueError: `var_list` is empty.
  """
  if not var_list:
    raise ValueError('assign_from_checkpoint_fn: var_list is empty; pass the variables to '
                     'restore (e.g. slim.get_variables_to_restore()).')
  if ignore_missing_vars:
    reader = tf.train.load_checkpoint(model_path)
    if isinstance(var_list, dict):
      var_dict = var_list
    else:
      # Slices of a partitioned variable share one checkpoint name: restore them together.
      var_dict = {}
      for var in var_list:
        var_dict.setdefault(get_variable_full_name(var), []).append(var)
      var_dict = {name: group[0] if len(group) == 1 else group
                  for name, group in var_dict.items()}
    available = {}
    for name, var in var_dict.items():
      if reader.has_tensor(name):
        available[name] = var
      else:
        logging.warning('Variable %s missing in checkpoint %s', name, model_path)
    var_list = available
  if not var_list:
    logging.warning('No variables to restore from %s', model_path)
    return None
  saver = _v1.train.Saver(var_list, reshape=reshape_variables)

  def callback(session):
    saver.restore(session, model_path)

  return callback


class VariableDeviceChooser:
  """A device function placing variables round-robin on parameter servers.

      VariableDeviceChooser(2)                     # /job:ps/task:0, task:1, ...
      VariableDeviceChooser(device_type='GPU')     # local GPU:0
  """

  def __init__(self, num_tasks=0, job_name='ps', device_type='CPU', device_index=0,
               replica=None):
    self._job_name = job_name
    self._device_type = device_type
    self._device_index = device_index
    self._replica = replica
    self._num_tasks = num_tasks
    self._next_task_id = 0

  def __call__(self, op):
    del op  # Every variable op gets the next device, whatever it is.
    job, task = None, None
    if self._num_tasks > 0:
      job, task = self._job_name, self._next_task_id
      self._next_task_id = (self._next_task_id + 1) % self._num_tasks
    spec = tf.DeviceSpec(job=job, replica=self._replica, task=task,
                         device_type=self._device_type, device_index=self._device_index)
    return spec.to_string()


def filter_variables(var_list, include_patterns=None, exclude_patterns=None, reg_search=True):
  """Variables whose names match any include pattern and no exclude pattern.

  Args:
    var_list: the variables.
    include_patterns: regular expressions; None includes all.
    exclude_patterns: regular expressions; None excludes none.
    reg_search: `re.search` (anywhere in the name) if True, else `re.match`.
  """
  matches = re.search if reg_search else re.match
  included = [v for v in var_list
              if include_patterns is None or any(matches(p, v.name) for p in include_patterns)]
  if exclude_patterns is None:
    return included
  return [v for v in included if not any(matches(p, v.name) for p in exclude_patterns)]
