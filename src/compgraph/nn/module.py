"""Module: a container of parameters and sub-modules with a ``forward``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph import scope
from compgraph.nn.parameter import Parameter
from compgraph.tensor import Tensor


class Module:
    """Base class of layers and models, in PyTorch's shape.

    A subclass assigns :class:`Parameter` and ``Module`` attributes in
    ``__init__`` and defines ``forward``; calling the module calls ``forward``.
    Parameters are found by walking the attributes in assignment order, so there
    is no registration step to forget. Layers kept in a list or a dict go in an
    ``nn.ModuleList`` or ``nn.ModuleDict`` (a plain one is refused: see ``__setattr__``).

    Example:
        >>> import compgraph as cg
        >>> class TwoLayer(cg.nn.Module):
        ...     def __init__(self):
        ...         self.hidden = cg.nn.Linear(4, 8)
        ...         self.out = cg.nn.Linear(8, 2)
        ...     def forward(self, x):
        ...         return self.out(self.hidden(x).relu())
        >>> [name for name, _ in TwoLayer().named_parameters()]
        ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    #: Whether the module is in training mode (Dropout drops, BatchNorm uses batch statistics).
    training: bool = True

    def forward(self, *args: Any) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any) -> Tensor:
        modules = scope._stack  # pushed and popped directly: this runs for every module, every step
        modules.append(self)
        try:
            output = self.forward(*args)
        finally:
            modules.pop()
        if _call_observers:  # nn.summary's, while it runs; otherwise one truth test per call
            for observe in _call_observers:
                observe(self, output)
        return output

    def __setattr__(self, name: str, value: Any) -> None:
        """Assign an attribute; refuse to replace a Parameter or a sub-module by anything else.

        Parameters and sub-modules are found from the attributes themselves (see
        ``named_parameters``), so assigning one registers it, in assignment order. Putting
        a plain tensor over a Parameter would silently take it out of ``parameters()``
        (and so out of the optimizer): that is refused. None is allowed, as in PyTorch.

        A plain list, tuple or dict holding modules or Parameters is refused too (a
        TypeError naming ``nn.ModuleList``, ``nn.ModuleDict`` or ``nn.ParameterList``):
        ``parameters()`` does not look inside one, so those layers would never train.
        PyTorch skips them silently.
        """
        if isinstance(value, (list, tuple, dict)):
            _refuse_plain_container(self, name, value)
        current = self.__dict__.get(name)
        if current is not None and value is not None:
            if isinstance(current, Parameter) and not isinstance(value, Parameter):
                raise TypeError(_replacing_parameter(self, name, value))
            if isinstance(current, Module) and not isinstance(value, Module):
                raise TypeError(
                    f"{type(self).__name__}.{name} is a sub-module ({type(current).__name__}); "
                    f"assigning a {type(value).__name__} would take its parameters out of "
                    "parameters(); assign a Module (or None)"
                )
        object.__setattr__(self, name, value)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs in assignment order, each parameter once."""
        yield from self._named_parameters(prefix, set())

    def _named_parameters(self, prefix: str, seen: set[int]) -> Iterator[tuple[str, Parameter]]:
        for name, value in vars(self).items():
            full_name = f"{prefix}.{name}" if prefix else name
            if isinstance(value, Parameter):
                if id(value) not in seen:
                    seen.add(id(value))
                    yield full_name, value
            elif isinstance(value, Module):
                yield from value._named_parameters(full_name, seen)
            elif isinstance(value, (list, dict)):  # filled after assignment: self.layers.append
                _refuse_plain_container(self, name, value)

    def parameters(self) -> list[Parameter]:
        return [parameter for _, parameter in self.named_parameters()]

    def num_parameters(self) -> int:
        """How many numbers training adjusts: the sizes of ``parameters()`` added up (each
        shared parameter once), PyTorch's ``sum(p.numel() for p in model.parameters())``."""
        return sum(parameter.size for parameter in self.parameters())

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module ("" unless ``prefix``) and every module
        inside it, depth first in assignment order, each once."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{child_name}" if name else child_name, child)
                for child_name, child in module.named_children()
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every module inside it, each once."""
        seen: set[int] = set()
        stack: list[Module] = [self]
        while stack:
            module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield module
            stack.extend(child for _, child in reversed(list(module.named_children())))

    def train(self, mode: bool = True) -> Module:
        """Set training mode here and in every sub-module; returns self."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    # --------------------------------------------------------------- buffers and state
    def register_buffer(self, name: str, array: NDArray[Any]) -> None:
        """Keep a non-trainable array (e.g. running statistics) in ``state_dict``."""
        buffers = self.__dict__.setdefault("_buffer_names", [])
        if name not in buffers:
            buffers.append(name)
        setattr(self, name, array)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, NDArray[Any]]]:
        for name in self.__dict__.get("_buffer_names", []):
            yield (f"{prefix}.{name}" if prefix else name), getattr(self, name)
        for child_name, child in self.named_children():
            yield from child.named_buffers(f"{prefix}.{child_name}" if prefix else child_name)

    def state_dict(self) -> dict[str, NDArray[Any]]:
        """Copies of every parameter and buffer, by dotted name."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update((name, np.array(b, copy=True)) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy arrays into the parameters and buffers; names and shapes must match exactly.

        Raises:
            ValueError: listing missing and unexpected names, or the first shape mismatch.
        """
        targets: dict[str, Any] = dict(self.named_parameters())
        targets.update(self.named_buffers())
        missing = sorted(set(targets) - set(state))
        unexpected = sorted(set(state) - set(targets))
        if missing or unexpected:
            raise ValueError(
                f"state_dict does not fit {type(self).__name__}: missing {missing or 'nothing'}, "
                f"unexpected {unexpected or 'nothing'}"
            )
        for name, target in targets.items():
            value = np.asarray(state[name])
            current = target.data if isinstance(target, Tensor) else target
            if value.shape != current.shape:
                raise ValueError(
                    f"state_dict entry {name!r} has shape {value.shape}, but the model's has "
                    f"shape {current.shape}"
                )
        for name, target in targets.items():  # copy only once everything is known to fit
            current = target.data if isinstance(target, Tensor) else target
            current[...] = state[name]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``.grad = None``)."""
        for parameter in self.parameters():
            parameter.grad = None

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): {child!r}".replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    def extra_repr(self) -> str:
        return ""

    @classmethod
    def state_shapes(cls, **config: Any) -> dict[str, tuple[int, ...]]:
        """The shapes of the parameters and buffers of a module built from ``config``.

        Computed without building it, so that a checkpoint's architecture can be
        checked against its weights before anything is allocated. Modules with
        parameters or buffers override this and build them with these shapes.
        """
        return {}

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module (see ``nn.to_config``)."""
        raise TypeError(
            f"{type(self).__name__} cannot describe its architecture; give it a config() "
            "method, or save its state_dict() and rebuild it in code"
        )


#: Functions called as ``observe(module, output)`` after each module's forward: empty but
#: while ``nn.summary`` records the output shapes.
_call_observers: list[Callable[[Module, Any], None]] = []


def _refuse_plain_container(module: Module, name: str, value: Any) -> None:
    """Raise the TypeError for ``module.name = value`` if value (a list, tuple or dict, or
    one nested in it) holds a module or a Parameter, which ``parameters()`` would not find."""
    stack, seen = [value], {id(value)}
    while stack:
        items = stack.pop()
        for item in items.values() if isinstance(items, dict) else items:
            if isinstance(item, (list, tuple, dict)) and id(item) not in seen:
                seen.add(id(item))
                stack.append(item)
            elif isinstance(item, (Module, Parameter)):
                raise TypeError(_plain_container(module, name, value, item))


def _plain_container(module: Module, name: str, value: Any, item: Module | Parameter) -> str:
    where, kind = f"{type(module).__name__}.{name}", type(value).__name__
    if isinstance(item, Module):
        wrapper = "ModuleDict({...})" if isinstance(value, dict) else "ModuleList([...])"
        return (
            f"{where} is a plain {kind} holding a {type(item).__name__}: parameters() does "
            "not look inside plain lists, tuples or dicts, so its parameters would never be "
            "trained, saved or loaded (PyTorch skips them silently). Wrap it: "
            f"self.{name} = cg.nn.{wrapper} (or cg.nn.Sequential(...) for layers applied one "
            "after another)"
        )
    return (
        f"{where} is a plain {kind} holding a Parameter: parameters() does not look inside "
        "plain lists, tuples or dicts, so it would never be trained, saved or loaded "
        f"(PyTorch skips it silently). Wrap it: self.{name} = cg.nn.ParameterList([...]), "
        "or assign each Parameter as an attribute of its own"
    )


def _replacing_parameter(module: Module, name: str, value: Any) -> str:
    """Why ``module.name = value`` is refused, and the update that was meant."""
    where = f"{type(module).__name__}.{name}"
    return (
        f"{where} is a Parameter; assigning a {type(value).__name__} over it would take it "
        "out of parameters() (and so out of the optimizer). To update it, use an optimizer "
        "(cg.optim.SGD(model.parameters(), lr).step()) or change it in place: "
        "p.data -= lr * p.grad; to replace it, assign a cg.nn.Parameter"
    )
