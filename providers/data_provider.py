"""The provider interface: hands out tensors for named items, TF-Slim's `DataProvider`.

    provider = MyDataProvider(...)
    image, label = provider.get(['image', 'label'])
    provider.list_items(), provider.num_samples()
"""
import abc


class DataProvider(abc.ABC):
  """Maps lists of item names to tensors from a data source.

  Args:
    items_to_tensors: `{item: tensor}`; subclasses that build tensors on demand pass
      None and override `get` and `list_items`.
    num_samples: the number of examples in the source.
  """

  def __init__(self, items_to_tensors, num_samples):
    self._items_to_tensors = items_to_tensors
    self._num_samples = num_samples

  def get(self, items):
    """A list with one tensor per name in `items`, in that order.

    Raises:
      ValueError: if `items` is not a list or tuple or names an unknown item.
    """
    self._validate_items(items)
    return [self._items_to_tensors[item] for item in items]

  def list_items(self):
    """The item names `get` accepts."""
    return list(self._items_to_tensors)

  def num_samples(self):
    """The number of examples in the source."""
    return self._num_samples

  def _validate_items(self, items):
    if not isinstance(items, (list, tuple)):
      raise ValueError(f'items must be a list or tuple of item names, got {items!r}')
    valid = self.list_items()
    for item in items:
      if item not in valid:
        raise ValueError(f'unknown item {item!r}; this provider has: {", ".join(valid)}')
