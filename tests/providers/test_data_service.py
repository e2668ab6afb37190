"""data_service_address: the same pipeline on a tf.data service cluster (dispatcher + 2 workers
on loopback); the workers share the files, and each example is read once per epoch.

The cluster and its client run in a child process: a tf.data service client left in this
process after its servers stop holds TensorFlow's shared threads for seconds, which would
stall whichever test runs next.
"""
import collections
import json
import os
import subprocess
import sys

import pytest

import providers_testlib as lib

NUM_SHARDS, PER_SHARD = 4, 6
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_CLIENT = r'''
import json, os, sys
sys.path[:0] = [sys.argv[1], os.path.join(sys.argv[1], 'tests', 'providers')]
import tensorflow as tf
import providers_testlib as lib
from providers import dataset_data_provider as ddp

service = tf.data.experimental.service
dispatcher = service.DispatchServer(service.DispatcherConfig(port=0))
address = dispatcher.target.split('://', 1)[1]
workers = [service.WorkerServer(service.WorkerConfig(dispatcher_address=address, port=0))
           for _ in range(2)]
dataset = lib.dataset(json.loads(sys.argv[2]))
provider = ddp.DatasetDataProvider(dataset, num_epochs=2, num_readers=2,
                                   data_service_address=dispatcher.target)
examples = list(provider.as_dataset(['image', 'label', 'record_key']))
batched = ddp.DatasetDataProvider(dataset, num_epochs=1, data_service_address=dispatcher.target)
batches = list(batched.as_dataset(['label'], batch_size=5))
got = lib.drain_eager(batched, ['label'])
with tf.Graph().as_default():
  graph_provider = ddp.DatasetDataProvider(dataset, num_epochs=1, decode_in_session=True,
                                           data_service_address=dispatcher.target)
  with tf.compat.v1.Session() as sess:
    in_session = lib.drain_session(sess, graph_provider.get(['label']))
print(json.dumps({
    'labels': [int(e['label']) for e in examples],
    'keys': [e['record_key'].numpy().decode() for e in examples],
    'shape': list(examples[0]['image'].shape),
    'batched': [int(l) for b in batches for l in b['label']],
    'batch_sizes': [len(b['label']) for b in batches],
    'get': [int(l) for [l] in got],
    'decoded_in_session': [int(l) for [l] in in_session]}), flush=True)
os._exit(0)   # skip tearing the servers down; the process ends here
'''


@pytest.fixture(scope='module')
def result(tmp_path_factory):
  files, _, _ = lib.write_shards(str(tmp_path_factory.mktemp('service')), NUM_SHARDS, PER_SHARD)
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  out = subprocess.run([sys.executable, '-c', _CLIENT, ROOT, json.dumps(files)],
                       capture_output=True, text=True, timeout=240, env=env, check=False)
  lines = [l for l in out.stdout.splitlines() if l.startswith('{')]
  assert out.returncode == 0 and lines, out.stderr[-3000:]
  return json.loads(lines[-1]), files


def test_data_service_reads_every_example_exactly_once_per_epoch(result):
  r, files = result
  assert collections.Counter(r['labels']) == {i: 2 for i in range(NUM_SHARDS * PER_SHARD)}
  assert r['shape'] == [lib.HEIGHT, lib.WIDTH, 3]
  # Keys name the shard each example came from.
  for label, key in zip(r['labels'], r['keys']):
    assert key.startswith(files[label // PER_SHARD] + ':')


def test_data_service_batched_and_eager_get(result):
  r, _ = result
  assert sorted(r['batched']) == list(range(NUM_SHARDS * PER_SHARD))
  assert all(1 <= n <= 5 for n in r['batch_sizes'])   # each worker batches its own part
  assert sorted(r['get']) == list(range(NUM_SHARDS * PER_SHARD))


def test_data_service_reads_for_graph_get_that_decodes_in_the_session(result):
  r, _ = result
  assert sorted(r['decoded_in_session']) == list(range(NUM_SHARDS * PER_SHARD))
