"""DataProvider: the TF-Slim interface every provider follows."""
import pytest

from providers import data_provider


class _Fixed(data_provider.DataProvider):
  pass


def test_get_returns_tensors_in_the_order_asked_and_rejects_unknown_items():
  provider = _Fixed({'image': 'I', 'label': 'L'}, num_samples=7)
  assert provider.get(['label', 'image']) == ['L', 'I']
  assert provider.list_items() == ['image', 'label']
  assert provider.num_samples() == 7
  with pytest.raises(ValueError, match="unknown item 'mask'; this provider has: image, label"):
    provider.get(['mask'])
  with pytest.raises(ValueError, match='list or tuple'):
    provider.get('image')
