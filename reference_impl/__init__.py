"""A numpy reference implementation of the foundations of deep learning.

Solutions, hidden tests and plots of the course all stand on this package. Modules
come in teaching order: ``activations`` → ``initializers`` → ``losses`` →
``optimizers`` → ``schedules`` → ``layers`` → ``gradcheck`` → ``data`` → ``training``
→ ``serialization`` → ``plotting``.

Shape glossary, used by every docstring:

- ``N``: batch size (number of examples).
- ``D``: features into a layer (fan-in, ``d_in``).
- ``M``: features out of a layer (fan-out, ``d_out``).
- ``C``: number of classes.
- ``K``: pieces of a maxout unit; ``k`` in top-k error.

Conventions: a batch is a row per example, ``x`` is ``(N, D)``, a weight matrix is
``(D, M)`` so that ``y = x @ W + b``; computations are float64 by default and keep
float32 when given float32; randomness only enters through an explicit
``numpy.random.Generator``.
"""

from typing import TYPE_CHECKING

from reference_impl._lazy import lazy_exports

if TYPE_CHECKING:
    from reference_impl.layers.container import Sequential, mlp
    from reference_impl.layers.counting import count_parameters

__version__ = "0.1.0"

# Imported on first use: importing the package imports nothing else, so a notebook's
# sandbox can hold just the modules it needs.
_EXPORTS = {"Sequential": "layers.container", "mlp": "layers.container",
            "count_parameters": "layers.counting"}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = ["Sequential", "__version__", "count_parameters", "mlp"]
