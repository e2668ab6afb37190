"""Installs slimdata's five packages; Beam ships this file to remote workers (--setup_file)."""
import setuptools

setuptools.setup(
    name='slimdata',
    version='0.1.0',
    description='TF-Slim data and training stack on current TensorFlow, with Beam converters.',
    python_requires='>=3.10',
    packages=setuptools.find_packages(include=[
        'slimdata', 'slimdata.*', 'descriptors', 'descriptors.*', 'providers', 'providers.*',
        'converters', 'converters.*', 'models', 'models.*']),
    install_requires=[
        'tensorflow>=2.21',
        'apache-beam>=2.77',
        'pillow',
        'tqdm',
        'google-crc32c',
    ],
    extras_require={'test': ['pytest', 'pytest-xdist', 'hypothesis', 'tf-slim', 'tf-keras']},
)
