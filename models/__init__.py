"""Network definitions with TF-Slim's scope and variable names, and their preprocessing.

    from models import nets_factory, preprocessing_factory
    network_fn = nets_factory.get_network_fn('resnet_v1_50', num_classes=1000)
    logits, end_points = network_fn(preprocessing_factory.get_preprocessing('resnet_v1_50')(
        image, 224, 224)[None])
"""
