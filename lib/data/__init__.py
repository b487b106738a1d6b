"""Datasets: CIFAR-10 (official archive or JPEG image-folder export), Omniglot few-shot tasks, synthetic stand-ins.

Modules: ``source`` (data root, ``DataSource`` provenance, ``DatasetMissingError``), ``cifar10`` (loader,
``normalize``, ``split_indices``, ``TensorBatches``), ``omniglot`` (``FewShotTasks``), ``tasks`` (``Task``),
``synthetic`` (``synthetic_images``, ``SyntheticFewShotTasks``), ``fetch`` (the ``make data`` command).
"""
