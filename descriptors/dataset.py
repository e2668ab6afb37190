"""A dataset: its files, how to read and decode their records, and how many there are.

    dataset = Dataset(data_sources='/data/flowers/flowers_train_*.tfrecord',
                      reader=tf.compat.v1.TFRecordReader, decoder=decoder,
                      num_samples=3320, items_to_descriptions={'image': ..., 'label': ...},
                      num_classes=5)
    provider = DatasetDataProvider(dataset); image, label = provider.get(['image', 'label'])

A plain container, as TF-Slim's `slim.dataset.Dataset`: keyword arguments beyond
the five named ones become attributes (`num_classes`, `labels_to_names`, ...).
"""


class Dataset:
  """What a provider needs to read one split of a converted dataset.

  Args:
    data_sources: a file name, a glob, or a list of either (`gs://` paths work).
    reader: the record reader class: `tf.compat.v1.TFRecordReader` as TF-Slim passed,
      or a `tf.data` record dataset class such as `tf.data.TFRecordDataset`.
    decoder: a `DataDecoder` turning one record into items.
    num_samples: the number of records in `data_sources`.
    items_to_descriptions: `{item: description}` for the items the decoder provides.
    **kwargs: further attributes of the dataset, e.g. `num_classes`, `labels_to_names`.
  """

  def __init__(self, data_sources, reader, decoder, num_samples, items_to_descriptions,
               **kwargs):
    if isinstance(data_sources, (list, tuple)):
      bad = [s for s in data_sources if not isinstance(s, str)]
    else:
      bad = [] if isinstance(data_sources, str) else [data_sources]
    if bad or not data_sources:
      raise ValueError(f'data_sources must be a file name, a glob or a non-empty list of them, '
                       f'got {data_sources!r}')
    if num_samples is not None and (isinstance(num_samples, bool) or
                                    not isinstance(num_samples, int) or num_samples < 0):
      raise ValueError(f'num_samples must be a non-negative int, got {num_samples!r}')
    kwargs.update(data_sources=data_sources, reader=reader, decoder=decoder,
                  num_samples=num_samples, items_to_descriptions=items_to_descriptions)
    self.__dict__.update(kwargs)

  def __repr__(self):
    sources = self.data_sources
    if isinstance(sources, (list, tuple)):
      sources = f'[{len(sources)} files]' if len(sources) > 1 else repr(sources[0])
    else:
      sources = repr(sources)
    return f'Dataset({sources}, num_samples={self.num_samples})'
