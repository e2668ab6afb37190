"""`arg_scope`: default arguments for a set of layer functions.

    with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=tf.nn.relu):
      net = slim.conv2d(images, 64, [3, 3], scope='conv1')   # relu from the scope
      net = slim.conv2d(net, 64, [3, 3], activation_fn=None)  # a call's own argument wins

Only functions decorated with `add_arg_scope` take defaults from a scope. A scope
is a plain dict `{function key: {argument: value}}`: `with slim.arg_scope(...) as
sc` returns it, and `slim.arg_scope(sc)` reinstates it later (research/slim's
`vgg_arg_scope()` pattern). An argument passed positionally also beats the
scope (TF-Slim raised "got multiple values" there).
"""
import contextlib
import functools
import inspect

__all__ = [
    'arg_scope', 'add_arg_scope', 'current_arg_scope', 'has_arg_scope', 'arg_scoped_arguments',
    'arg_scope_func_key'
]

# The stack of active scopes; the innermost is last. Global (not thread-local) as in
# TF-Slim: models are built in one thread, and threads started inside a scope see it.
_ARGSTACK = [{}]

# key -> names of the keyword arguments a decorated function accepts.
_DECORATED_OPS = {}


def current_arg_scope():
  """Returns the innermost scope dict (`{}` outside any `arg_scope`)."""
  if not _ARGSTACK:
    _ARGSTACK.append({})
  return _ARGSTACK[-1]


def arg_scope_func_key(op):
  """Returns the key under which `op`'s defaults are stored in a scope dict."""
  return getattr(op, '_key_op', str(op))


def _op_name(op):
  return getattr(op, '__module__', '?') + '.' + getattr(op, '__qualname__', repr(op))


def _kwarg_names(func):
  """Names of the arguments of `func` that have a default value."""
  params = inspect.signature(func).parameters.values()
  return tuple(p.name for p in params
               if p.default is not inspect.Parameter.empty and
               p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def _positional_names(func):
  """Names of the parameters of `func` that a positional argument can fill, in order."""
  params = inspect.signature(func).parameters.values()
  return tuple(p.name for p in params
               if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


@contextlib.contextmanager
def arg_scope(list_ops_or_scope, **kwargs):
  """Sets default keyword arguments for the functions in `list_ops_or_scope`.

  Args:
    list_ops_or_scope: a list or tuple of `add_arg_scope`-decorated functions (or
      their keys, see `arg_scope_func_key`), or a scope dict returned by an earlier
      `arg_scope`, which is reinstated as it was (then `kwargs` must be empty).
    **kwargs: the defaults; they extend (and override) those of enclosing scopes.

  Yields:
    The new current scope dict.

  Raises:
    TypeError: `list_ops_or_scope` is neither a list/tuple nor a dict.
    ValueError: a function in the list is not decorated with `add_arg_scope`, or
      kwargs are given with a scope dict.
  """
  if isinstance(list_ops_or_scope, dict):
    if kwargs:
      raise ValueError('arg_scope: when reusing a scope dict, give no keyword arguments '
                       f'(got {sorted(kwargs)}); open a nested arg_scope for them.')
    new_scope = list_ops_or_scope.copy()
  else:
    if not isinstance(list_ops_or_scope, (list, tuple)):
      raise TypeError('arg_scope: list_ops_or_scope must be a list or tuple of functions, or '
                      f'a scope dict; got {type(list_ops_or_scope).__name__}.')
    new_scope = current_arg_scope().copy()
    for op in list_ops_or_scope:
      key = op if isinstance(op, str) else arg_scope_func_key(op)
      if key not in _DECORATED_OPS:
        # TF-Slim passed logging-style arguments to ValueError here, so its message
        # never named the function; this one does.
        raise ValueError(f'arg_scope: {_op_name(op) if not isinstance(op, str) else op} is not '
                         'decorated with @add_arg_scope; decorate it (slim.add_arg_scope) '
                         'or pass its arguments directly.')
      merged = dict(new_scope.get(key, {}))
      merged.update(kwargs)
      new_scope[key] = merged
  _ARGSTACK.append(new_scope)
  try:
    yield new_scope
  finally:
    _ARGSTACK.pop()


def add_arg_scope(func):
  """Decorates `func` so that `arg_scope` can supply its keyword arguments."""
  key = arg_scope_func_key(func)
  positional = _positional_names(func)

  @functools.wraps(func)
  def func_with_args(*args, **kwargs):
    scoped = current_arg_scope().get(key)
    if scoped:
      merged = dict(scoped)
      # An argument given positionally beats the scope's default too. TF-Slim passed
      # both and failed ("got multiple values for argument 'stride'") on its own
      # README's `slim.conv2d(inputs, 64, [11, 11], 4, ...)` under a stride scope.
      for name in positional[:len(args)]:
        merged.pop(name, None)
      merged.update(kwargs)
      kwargs = merged
    return func(*args, **kwargs)

  _DECORATED_OPS[key] = _kwarg_names(func)
  func_with_args._key_op = key  # pylint: disable=protected-access
  return func_with_args


def has_arg_scope(func):
  """Whether `func` was decorated with `add_arg_scope`."""
  return arg_scope_func_key(func) in _DECORATED_OPS


def arg_scoped_arguments(func):
  """The keyword argument names an `arg_scope` can set for `func`.

  Raises:
    ValueError: `func` is not decorated with `add_arg_scope`.
  """
  if not has_arg_scope(func):
    raise ValueError(f'arg_scoped_arguments: {_op_name(func)} is not decorated with '
                     '@add_arg_scope.')
  return list(_DECORATED_OPS[arg_scope_func_key(func)])
