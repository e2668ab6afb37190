"""The decoder interface: turns one serialized record into the tensors of the items asked for.

    decoder = tfexample_decoder.TFExampleDecoder(keys_to_features, items_to_handlers)
    decoder.list_items()                                  # ['image', 'label']
    image, label = decoder.decode(serialized, ['image', 'label'])
"""
import abc


class DataDecoder(abc.ABC):
  """Decodes the records a dataset's reader yields; providers hold one per dataset."""

  @abc.abstractmethod
  def decode(self, data, items):
    """Returns a list of tensors, one per name in `items`, decoded from `data`.

    Raises:
      ValueError: if an item is not one this decoder knows.
    """

  @abc.abstractmethod
  def list_items(self):
    """The names of the items this decoder can decode."""
