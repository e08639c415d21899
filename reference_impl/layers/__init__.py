"""Layers with a forward and a backward pass, and the containers that chain them.

In teaching order: ``base`` (the Module API) → ``linear`` → ``activation`` →
``loss`` → ``zoo`` (add, multiply, sum, max, switch) → ``dropout`` → ``container``
(Sequential, mlp, count_parameters).
"""

from reference_impl.layers.activation import (
    ACTIVATION_LAYERS,
    ELU,
    SELU,
    Activation,
    Identity,
    LeakyReLU,
    Maxout,
    PReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    activation,
)
from reference_impl.layers.base import Module
from reference_impl.layers.container import Sequential, count_parameters, mlp
from reference_impl.layers.dropout import Dropout
from reference_impl.layers.linear import Linear
from reference_impl.layers.loss import (
    AbsoluteError,
    L1Loss,
    MSELoss,
    SoftmaxCrossEntropy,
    SquaredError,
)
from reference_impl.layers.zoo import Add, Max, Multiply, Sum, Switch

__all__ = [
    "ACTIVATION_LAYERS",
    "ELU",
    "SELU",
    "AbsoluteError",
    "Activation",
    "Add",
    "Dropout",
    "Identity",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "MSELoss",
    "Max",
    "Maxout",
    "Module",
    "Multiply",
    "PReLU",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "SoftmaxCrossEntropy",
    "SquaredError",
    "Sum",
    "Switch",
    "Tanh",
    "activation",
    "count_parameters",
    "mlp",
]
