"""Published DARTS cells, kept as data: the reference point for the genotypes our searches derive."""

from lib.darts.genotype import Genotype

# DARTS (second order) on CIFAR-10, ``DARTS_V2`` in quark0/darts ``cnn/genotypes.py`` (Liu et al. 2019, Table 1:
# 2.76% test error, 3.3 M parameters at C=36 and 20 cells).
DARTS_V2_TEXT = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), "
    "('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
DARTS_V2 = Genotype.from_string(DARTS_V2_TEXT)
