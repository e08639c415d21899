"""Networks as chains of modules: Sequential and the multilayer perceptron."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from reference_impl._validation import check_generator
from reference_impl.layers._common import check_layer_sizes, zero_grads_in_place
from reference_impl.layers.base import Array, Module

__all__ = ["Sequential", "mlp"]

_RELU_FAMILY = frozenset({"relu", "leaky_relu", "prelu"})


class Sequential(Module):
    """A chain of modules: y = f_L(… f_2(f_1(x))); backward runs the chain in reverse.

    Each module's ``backward`` turns the gradient of its output into the gradient of
    its input, so walking the list backwards is the chain rule, one layer at a time.
    Parameters stay in the modules; ``parameters()`` and ``named_parameters()``
    collect them in order (names like "0.W", "0.b", "2.W"), which is what an
    optimizer, ``state_dict`` and ``n_parameters`` use. The chain's own ``params``
    and ``grads`` dicts stay empty.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential takes Module instances, got {type(module).__name__} at "
                    f"position {i}; wrap functions in a layer such as Activation(fn, grad)"
                )
        self.modules: list[Module] = list(modules)

    def forward(self, x: Any, training: bool = True) -> Any:  # type: ignore[override]
        """y = f_L(… f_1(x)). x: what the first module takes, e.g. (N, D)."""
        self.training = bool(training)
        for module in self.modules:
            x = module.forward(x, training=training)
        return x

    def backward(self, dy: Any) -> Any:
        """dx from dy, through every module in reverse; parameter gradients accumulate."""
        for module in reversed(self.modules):
            dy = module.backward(dy)
            if dy is None:  # a first layer that was told its input needs no gradient
                break
        return dy

    def named_parameters(self) -> list[tuple[str, Array, Array]]:
        """(name, parameter, gradient) triples in layer order, e.g. ("0.W", W, dW)."""
        out: list[tuple[str, Array, Array]] = []
        for i, module in enumerate(self.modules):
            if isinstance(module, Sequential):
                out.extend((f"{i}.{name}", p, g) for name, p, g in module.named_parameters())
            else:
                grads = module.grads
                for name, p in module.params.items():
                    # A custom module may not have created its gradient yet.
                    out.append((f"{i}.{name}", p, grads.setdefault(name, np.zeros_like(p))))
        return out

    def parameters(self) -> list[tuple[Array, Array]]:
        """(parameter, gradient) pairs in layer order, for an optimizer's ``step``."""
        return [(p, g) for _, p, g in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every gradient to 0 in place, so pairs already handed out stay valid."""
        for module in self.modules:
            if isinstance(module, Sequential):
                module.zero_grad()
            else:
                zero_grads_in_place(module)

    @property
    def n_parameters(self) -> int:
        """The number of trainable numbers: Σ over parameters of their sizes."""
        return sum(int(p.size) for p, _ in self.parameters())

    def state_dict(self) -> dict[str, Array]:
        """A copy of every parameter by name: a snapshot that later training cannot change."""
        return {name: p.copy() for name, p, _ in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Array]) -> None:
        """Copy a ``state_dict`` back into the parameters, in place (e.g. the best epoch's).

        The names and shapes must match this network exactly; if they do not, ValueError
        says which, and no parameter has been changed.
        """
        own = {name: p for name, p, _ in self.named_parameters()}
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(
                f"state_dict does not fit this network: missing {missing}, unexpected "
                f"{unexpected}; load a state_dict saved from the same architecture"
            )
        values = {name: np.asarray(state[name]) for name in own}
        for name, p in own.items():
            if values[name].shape != p.shape:
                raise ValueError(f"state_dict entry {name!r} has shape {values[name].shape}, expected {p.shape}")
        for name, p in own.items():  # checked first, so a refusal leaves the network as it was
            p[...] = values[name]

    def __len__(self) -> int:
        return len(self.modules)

    def __getitem__(self, index: int) -> Module:
        return self.modules[index]

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def __repr__(self) -> str:
        inner = ",\n".join(f"  ({i}) {module!r}" for i, module in enumerate(self.modules))
        return f"Sequential(\n{inner}\n)" if self.modules else "Sequential()"


def mlp(
    layer_sizes: Sequence[int],
    *,
    rng: np.random.Generator,
    activation: str = "relu",
    init: str | None = None,
    dropout: float = 0.0,
    dtype: DTypeLike = np.float64,
) -> Sequential:
    """A multilayer perceptron: Linear → activation (→ Dropout) per hidden layer, then Linear.

    The last Linear has no activation: it returns logits, for SoftmaxCrossEntropy.

    Args:
        layer_sizes: widths from input to output, e.g. [784, 128, 32, 10].
        rng: draws the weights and the dropout masks.
        activation: a hidden activation name ("relu", "tanh", …; not "maxout", which
            changes widths).
        init: the weight initializer; by default "kaiming_normal" for the ReLU family
            (relu, leaky_relu, prelu) and "glorot_uniform" otherwise.
        dropout: drop probability after every hidden activation (0 adds no Dropout).
        dtype: float64 or float32 parameters.

    With a parameter-free activation, ``mlp(sizes, ...).n_parameters ==
    count_parameters(sizes)``; PReLU adds one slope per hidden unit.
    """
    # The parts are imported here so that Sequential alone needs none of them (notebook 6's
    # sandbox has Sequential's module without the layers it asks students to write).
    from reference_impl.layers.activation import PReLU, check_activation_name
    from reference_impl.layers.activation import activation as make_activation
    from reference_impl.layers.linear import Linear

    sizes = check_layer_sizes(layer_sizes)
    rng = check_generator(rng)
    if check_activation_name(activation) == "maxout":
        raise ValueError(
            "mlp does not build maxout nets (each unit needs K linear pieces); "
            "compose Linear(d_in, M*K) and Maxout(K) in a Sequential instead"
        )
    if dropout:  # notebook 7 writes its own dropout: its sandbox lacks the module
        from reference_impl.layers.dropout import Dropout, check_drop_probability

        dropout = check_drop_probability(dropout)
    if init is None:
        init = "kaiming_normal" if activation in _RELU_FAMILY else "glorot_uniform"
    modules: list[Module] = []
    n_layers = len(sizes) - 1
    for i, (d_in, d_out) in enumerate(pairwise(sizes)):
        modules.append(Linear(d_in, d_out, rng=rng, init=init, dtype=dtype))
        if i == n_layers - 1:
            break
        modules.append(PReLU(d_out, dtype=dtype) if activation == "prelu" else make_activation(activation))
        if dropout:
            modules.append(Dropout(dropout, rng=rng))
    return Sequential(*modules)
