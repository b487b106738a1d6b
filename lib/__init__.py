"""Thin library behind the LAMANAS / LNAS companion book.

Subpackages: ``darts`` (search space, supernet, genotypes, architecture gradients), ``data``
(CIFAR-10, Omniglot few-shot tasks, synthetic stand-ins), ``experiments`` (typed configs with
``smoke`` / ``cpu`` / ``paper`` profiles). Modules: ``flops``, ``results``, ``report``, ``plots``.
"""
