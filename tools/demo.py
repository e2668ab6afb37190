"""The whole job on the embedded MNIST sample: raw idx files -> TFRecords -> LeNet -> accuracy.

    python tools/demo.py --workdir demo_data      # what `make demo` runs

Offline: the sample is generated in MNIST's published idx layout. Each stage
is the real command-line tool, run as a user would run it, and printed first.
"""
import argparse
import os
import subprocess
import sys
import time

# A checkout's tools run without installing: the repository root takes the place
# of tools/ on the path (where tools/inspect.py would shadow the standard library).
_TOOLS = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == _TOOLS:
  sys.path[0] = os.path.dirname(_TOOLS)
ROOT = os.path.dirname(_TOOLS)


def run(args):
  """Runs one tool and prints its command line first, so the user can repeat it."""
  command = [sys.executable] + args
  print('\n$ ' + ' '.join(['python'] + args), flush=True)
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  result = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
  sys.stdout.write(result.stdout)
  if result.returncode:
    raise SystemExit(f'demo: step failed with exit code {result.returncode}: {" ".join(args)}')
  return result.stdout


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--workdir', default='demo_data')
  parser.add_argument('--num_train', type=int, default=6000)
  parser.add_argument('--num_test', type=int, default=1000)
  parser.add_argument('--max_number_of_steps', type=int, default=1000)
  args = parser.parse_args(argv)

  from converters import samples
  start = time.time()
  workdir = os.path.abspath(args.workdir)
  raw, data, train_dir = (os.path.join(workdir, d) for d in ('raw', 'mnist', 'train'))
  print(f'Writing the embedded MNIST sample ({args.num_train} train, {args.num_test} test '
        f'digits) in the published idx layout to {raw}')
  samples.write_mnist_sample(raw, num_train=args.num_train, num_test=args.num_test)

  run(['tools/convert.py', '--dataset', 'mnist', '--source', raw, '--dataset_dir', data])
  run(['tools/train.py', '--dataset_name', 'mnist', '--dataset_dir', data,
       '--model_name', 'lenet', '--train_dir', train_dir,
       '--max_number_of_steps', str(args.max_number_of_steps), '--batch_size', '50',
       '--optimizer', 'adam', '--learning_rate', '0.001', '--opt_epsilon', '1e-8',
       '--learning_rate_decay_type', 'fixed', '--weight_decay', '0', '--num_readers', '1',
       '--num_preprocessing_threads', '2', '--log_every_n_steps', '250',
       '--save_interval_secs', '120', '--save_summaries_secs', '120', '--seed', '0'])
  output = run(['tools/eval.py', '--dataset_name', 'mnist', '--dataset_split_name', 'test',
                '--dataset_dir', data, '--model_name', 'lenet', '--checkpoint_path', train_dir,
                '--eval_dir', os.path.join(workdir, 'eval')])
  accuracy = next((line.split(':')[1].strip() for line in output.splitlines()
                   if line.startswith('eval/Accuracy:')), '?')
  print(f'\nTest accuracy of LeNet on the sample: {accuracy} '
        f'({time.time() - start:.0f} s in all). TensorBoard: tensorboard --logdir {workdir}')


if __name__ == '__main__':
  main()
