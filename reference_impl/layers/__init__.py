"""Layers with a forward and a backward pass, and the containers that chain them.

In teaching order: ``base`` (the Module API) → ``linear`` → ``elementwise`` and
``activation`` → ``loss`` → ``zoo`` (add, multiply, sum, max, switch) → ``dropout`` →
``batchnorm`` → ``container`` (Sequential, mlp) and ``counting`` (count_parameters).

Each name is imported from its module on first use, so that a notebook's sandbox can
leave out the modules its students write (notebook 6's sandbox has ``base`` and none of
the layers) while the rest still imports. The factory ``activation(name)`` is imported
from its module, ``reference_impl.layers.activation``, whose name it shares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reference_impl._lazy import lazy_exports

if TYPE_CHECKING:
    from reference_impl.layers.activation import (
        ACTIVATION_LAYERS,
        ELU,
        SELU,
        Identity,
        LeakyReLU,
        Maxout,
        PReLU,
        ReLU,
        Sigmoid,
        Softmax,
        Tanh,
    )
    from reference_impl.layers.base import Module
    from reference_impl.layers.batchnorm import BatchNorm
    from reference_impl.layers.container import Sequential, mlp
    from reference_impl.layers.counting import count_parameters
    from reference_impl.layers.dropout import Dropout
    from reference_impl.layers.elementwise import Activation
    from reference_impl.layers.linear import Linear
    from reference_impl.layers.loss import (
        AbsoluteError,
        L1Loss,
        MSELoss,
        SoftmaxCrossEntropy,
        SquaredError,
    )
    from reference_impl.layers.zoo import Add, Max, Multiply, Sum, Switch

_EXPORTS = {
    **dict.fromkeys(["ACTIVATION_LAYERS", "ELU", "SELU", "Identity", "LeakyReLU", "Maxout",
                     "PReLU", "ReLU", "Sigmoid", "Softmax", "Tanh"], "activation"),
    "Activation": "elementwise",
    "Module": "base",
    "BatchNorm": "batchnorm",
    "Sequential": "container", "mlp": "container",
    "count_parameters": "counting",
    "Dropout": "dropout",
    "Linear": "linear",
    **dict.fromkeys(["AbsoluteError", "L1Loss", "MSELoss", "SoftmaxCrossEntropy",
                     "SquaredError"], "loss"),
    **dict.fromkeys(["Add", "Max", "Multiply", "Sum", "Switch"], "zoo"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = [
    "ACTIVATION_LAYERS",
    "ELU",
    "SELU",
    "AbsoluteError",
    "Activation",
    "Add",
    "BatchNorm",
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
    "count_parameters",
    "mlp",
]
