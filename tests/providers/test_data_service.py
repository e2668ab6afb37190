"""data_service_address: the same pipeline on a tf.data service cluster (dispatcher + 2 workers,
started here on loopback); the workers share the files, each example is read once."""
import collections
import gc

import pytest
import tensorflow as tf

from providers import dataset_data_provider as ddp
import providers_testlib as lib

NUM_SHARDS, PER_SHARD = 4, 6


@pytest.fixture(scope='module')
def cluster():
  service = tf.data.experimental.service
  dispatcher = service.DispatchServer(service.DispatcherConfig(port=0))
  address = dispatcher.target.split('://', 1)[1]
  workers = [service.WorkerServer(service.WorkerConfig(dispatcher_address=address, port=0))
             for _ in range(2)]
  yield dispatcher.target, workers
  # Release every client iterator while the dispatcher still answers: one collected later
  # would wait for the stopped dispatcher and stall whatever test runs then.
  gc.collect()
  for w in workers:
    w.stop()
  dispatcher.stop()


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
  files, _, _ = lib.write_shards(str(tmp_path_factory.mktemp('service')), NUM_SHARDS, PER_SHARD)
  return lib.dataset(files)


def test_data_service_reads_every_example_exactly_once_per_epoch(cluster, dataset):
  target, _ = cluster
  provider = ddp.DatasetDataProvider(dataset, num_epochs=2, num_readers=2,
                                     data_service_address=target)
  examples = list(provider.as_dataset(['image', 'label', 'record_key']))
  labels = collections.Counter(int(e['label']) for e in examples)
  assert labels == {i: 2 for i in range(NUM_SHARDS * PER_SHARD)}
  assert examples[0]['image'].shape == (lib.HEIGHT, lib.WIDTH, 3)


def test_data_service_batched_and_eager_get(cluster, dataset):
  target, _ = cluster
  provider = ddp.DatasetDataProvider(dataset, num_epochs=1, data_service_address=target)
  batches = list(provider.as_dataset(['label'], batch_size=5))
  assert sorted(int(l) for b in batches for l in b['label']) == list(range(24))
  got = lib.drain_eager(provider, ['label'])
  assert sorted(int(l) for [l] in got) == list(range(24))
  del provider
  gc.collect()
