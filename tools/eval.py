"""Evaluates a checkpoint on a converted dataset; research/slim's eval_image_classifier, on slimdata.

    python tools/eval.py --dataset_name mnist --dataset_split_name test \
        --dataset_dir /data/mnist --model_name lenet --checkpoint_path /tmp/lenet

Reads every example of the split exactly once (or --max_num_batches batches)
and prints top-1 and top-5 accuracy and recall@5. With --eval_interval_secs it
evaluates each new checkpoint in --checkpoint_path as it appears.
"""
import argparse
import math
import os
import sys

# A checkout's tools run without installing: the repository root takes the place
# of tools/ on the path (where tools/inspect.py would shadow the standard library).
_TOOLS = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == _TOOLS:
  sys.path[0] = os.path.dirname(_TOOLS)
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def build_parser():
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  a = p.add_argument
  a('--batch_size', type=int, default=100)
  a('--max_num_batches', type=int, default=None, help='Default: the whole split, once.')
  a('--master', default='')
  a('--checkpoint_path', default='/tmp/tfmodel/', help='A checkpoint or a folder of them.')
  a('--eval_dir', default='/tmp/tfmodel/', help='Where the summaries are written.')
  a('--num_preprocessing_threads', type=int, default=4)
  a('--decode_in_session', action='store_true',
    help='Decode images in the preprocessing threads, as TF-Slim did: faster for images '
         'of varying size; an undecodable image then raises TensorFlow\'s own error, '
         'naming no record.')
  a('--dataset_name', default='imagenet')
  a('--dataset_split_name', default='test')
  a('--dataset_dir', default=None)
  a('--labels_offset', type=int, default=0)
  a('--model_name', default='inception_v3')
  a('--preprocessing_name', default=None)
  a('--moving_average_decay', type=float, default=None,
    help='Evaluate the moving averages of the weights, as trained with this decay.')
  a('--eval_image_size', type=int, default=None)
  a('--eval_interval_secs', type=float, default=0,
    help='If > 0, evaluate each new checkpoint in --checkpoint_path, waiting this long between.')
  a('--max_number_of_evaluations', type=int, default=None)
  a('--timeout', type=float, default=None, help='Stop looping after this long without a new one.')
  return p


def build_metrics(logits, labels, num_classes):
  """`{name: (value, update)}`: top-1, top-5 accuracy and recall@5."""
  import tensorflow as tf
  import slimdata as slim
  k = min(5, num_classes)
  predictions = tf.argmax(logits, 1)
  in_top_k = tf.cast(tf.nn.in_top_k(targets=tf.cast(labels, tf.int32), predictions=logits, k=k),
                     tf.float32)
  return slim.metrics.aggregate_metric_map({
      'Accuracy': slim.metrics.streaming_accuracy(predictions, labels),
      f'Top{k}_Accuracy': slim.metrics.streaming_mean(in_top_k),
      f'Recall_{k}': slim.metrics.streaming_sparse_recall_at_k(
          logits, tf.expand_dims(tf.cast(labels, tf.int64), 1), k),
  })


def main(argv=None):
  args = build_parser().parse_args(argv)
  if not args.dataset_dir:
    raise SystemExit('--dataset_dir is required: the folder tools/convert.py wrote.')
  import tensorflow as tf
  import descriptors
  import slimdata as slim
  from models import nets_factory, preprocessing_factory
  from providers.dataset_data_provider import DatasetDataProvider
  tf.get_logger().setLevel('ERROR')  # the queue-input deprecation notices

  with tf.Graph().as_default():
    global_step = slim.get_or_create_global_step()
    dataset = descriptors.get_split(args.dataset_name, args.dataset_split_name, args.dataset_dir)
    num_classes = dataset.num_classes - args.labels_offset
    network_fn = nets_factory.get_network_fn(
        args.model_name, num_classes=num_classes, is_training=False)
    preprocessing_fn = preprocessing_factory.get_preprocessing(
        args.preprocessing_name or args.model_name, is_training=False)
    provider = DatasetDataProvider(dataset, shuffle=False, num_epochs=1,
                                   common_queue_capacity=2 * args.batch_size,
                                   common_queue_min=args.batch_size,
                                   decode_in_session=args.decode_in_session)
    image, label = provider.get(['image', 'label'])
    label -= args.labels_offset
    size = args.eval_image_size or network_fn.default_image_size
    image = preprocessing_fn(image, size, size)
    images, labels = tf.compat.v1.train.batch(
        [image, label], batch_size=args.batch_size, num_threads=args.num_preprocessing_threads,
        capacity=5 * args.batch_size, allow_smaller_final_batch=True)
    logits, _ = network_fn(images)

    if args.moving_average_decay:
      averages = tf.compat.v1.train.ExponentialMovingAverage(
          args.moving_average_decay, global_step)
      variables_to_restore = averages.variables_to_restore(slim.get_model_variables())
      variables_to_restore[global_step.op.name] = global_step
    else:
      variables_to_restore = slim.get_variables_to_restore()

    names_to_values, names_to_updates = build_metrics(logits, labels, num_classes)
    # Only the metrics: other summaries in the graph (input images) would read past the
    # split's single epoch.
    summary_op = tf.compat.v1.summary.merge(
        [tf.compat.v1.summary.scalar(f'eval/{name}', value)
         for name, value in names_to_values.items()])

    num_batches = args.max_num_batches  # None: until the split's single epoch ends.
    if num_batches is None:
      print(f'Evaluating {dataset.num_samples} examples '
            f'({math.ceil(dataset.num_samples / args.batch_size)} batches).')
    common = dict(master=args.master, logdir=args.eval_dir, num_evals=num_batches,
                  eval_op=list(names_to_updates.values()), final_op=names_to_values,
                  summary_op=summary_op, variables_to_restore=variables_to_restore)
    if args.eval_interval_secs > 0:
      results = slim.evaluation.evaluation_loop(
          checkpoint_dir=args.checkpoint_path, eval_interval_secs=args.eval_interval_secs,
          max_number_of_evaluations=args.max_number_of_evaluations, timeout=args.timeout,
          **common)
    else:
      path = args.checkpoint_path
      if tf.io.gfile.isdir(path):
        path = tf.train.latest_checkpoint(path)
        if path is None:
          raise SystemExit(f'--checkpoint_path: no checkpoint in {args.checkpoint_path}; '
                           'train first (tools/train.py --train_dir ...).')
      results = slim.evaluation.evaluate_once(checkpoint_path=path, **common)
  if results:
    for name in sorted(results):
      print(f'eval/{name}: {results[name]:.4f}')
  return results


if __name__ == '__main__':
  main()
