"""Image preprocessing for the nets, one module per family (research/slim's names).

    from models import preprocessing_factory
    preprocess = preprocessing_factory.get_preprocessing('inception_v3', is_training=True)
    image = preprocess(image, 299, 299)
"""
