"""Containers: Sequential (modules applied one after another), ModuleList, ParameterList
and ModuleDict (sub-modules or parameters kept in a list or a dict, each registered)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar, Generic, TypeVar, overload

from compgraph.nn.config import to_config
from compgraph.nn.from_node import FromNode
from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter
from compgraph.node import Node, ShapeError
from compgraph.tensor import Tensor


class Sequential(Module):
    """y = f_n(… f_2(f_1(x))): the given modules applied in order.

    Args:
        modules: the layers, first to last. They are named "0", "1", … in
            ``named_parameters()`` and ``state_dict()``. A node instance (compgraph's,
            or your own Node subclass) is wrapped in :class:`FromNode`.

    A shape error in a layer names it: "layer 0 (Linear) of Sequential: …" (in a
    Sequential inside another, "layer 2.0 (Linear)": layer 0 of the outer one's layer 2).

    Example:
        >>> import compgraph as cg
        >>> model = cg.nn.Sequential(cg.nn.Linear(784, 10), cg.nn.Softmax())
        >>> [name for name, _ in model.named_parameters()]
        ['0.weight', '0.bias']
    """

    def __init__(self, *modules: Module | Node) -> None:
        for index, module in enumerate(modules):
            if isinstance(module, Node):
                module = FromNode(module)
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: item {index} is a {type(module).__name__}, not a Module "
                    "or a node instance"
                )
            setattr(self, str(index), module)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if isinstance(value, Module) or name.isdigit():
            # The layers in order, kept as a tuple: forward() runs every step. (Set past
            # Module.__setattr__, which refuses a plain tuple of modules.)
            layers = tuple(child for _, child in self.named_children())
            object.__setattr__(self, "_layers", layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.__dict__.get("_layers", ()))

    def __len__(self) -> int:
        return len(self.__dict__.get("_layers", ()))

    def __getitem__(self, index: int) -> Module:
        return self.__dict__.get("_layers", ())[index]  # type: ignore[no-any-return]

    def config(self) -> dict[str, Any]:
        return {"layers": [to_config(module) for module in self]}

    def forward(self, x: Tensor) -> Tensor:
        for index, module in enumerate(self.__dict__.get("_layers", ())):
            try:
                x = module(x)
            except ShapeError as error:
                _name_layer(error, index, module)
                raise  # the same exception, type and traceback kept
        return x


def _name_layer(error: ShapeError, index: int, module: Module) -> None:
    """Start ``error``'s message with the layer that raised it: "layer 0 (Linear) of
    Sequential: …". Named once: a Sequential around the one that named it adds its own
    index in front ("layer 2.0 (Linear)"); one around a custom module leaves it as it is."""
    named: tuple[str, str, str] | None = getattr(error, "_sequential_layer", None)
    if named is None:
        path, layer, message = str(index), type(module).__name__, str(error)
    elif isinstance(module, Sequential):
        path, layer, message = f"{index}.{named[0]}", named[1], named[2]
    else:
        return
    error._sequential_layer = (path, layer, message)  # type: ignore[attr-defined]
    error.args = (f"layer {path} ({layer}) of Sequential: {message}",)


ItemT = TypeVar("ItemT", Module, Parameter)
ListT = TypeVar("ListT", bound="_Numbered[Any]")


class _Numbered(Module, Generic[ItemT]):
    """Entries of one kind (modules or parameters) kept as the attributes "0", "1", … in
    order, so that ``named_parameters()`` and ``state_dict()`` name them as PyTorch does."""

    _kind: ClassVar[type[Any]]
    _items: tuple[ItemT, ...] = ()

    def __init__(self, items: Iterable[ItemT] = ()) -> None:
        self._store(list(items))

    def _store(self, items: list[ItemT]) -> None:
        for index, item in enumerate(items):
            if not isinstance(item, self._kind):
                raise TypeError(
                    f"{type(self).__name__}: item {index} is a {type(item).__name__}, not a "
                    f"{self._kind.__name__}"
                )
        for key in [key for key in self.__dict__ if key.isdigit()]:
            del self.__dict__[key]
        for index, item in enumerate(items):  # past Module.__setattr__: checked above
            object.__setattr__(self, str(index), item)
        object.__setattr__(self, "_items", tuple(items))

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[ItemT]:
        return iter(self._items)

    @overload
    def __getitem__(self, index: int) -> ItemT: ...
    @overload
    def __getitem__(self: ListT, index: slice) -> ListT: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)(self._items[index])
        return self._items[index]

    def __setitem__(self, index: int, item: ItemT) -> None:
        items = list(self._items)
        items[index] = item
        self._store(items)

    def __delitem__(self, index: int | slice) -> None:
        items = list(self._items)
        del items[index]
        self._store(items)

    def append(self: ListT, item: Any) -> ListT:
        """Add ``item`` at the end (named ``str(len(self))``); returns self."""
        self._store([*self._items, item])
        return self

    def extend(self: ListT, items: Iterable[Any]) -> ListT:
        """Add each of ``items`` at the end; returns self."""
        self._store([*self._items, *items])
        return self

    def insert(self, index: int, item: ItemT) -> None:
        """Put ``item`` before position ``index``; the entries after it are renumbered."""
        items = list(self._items)
        items.insert(index, item)
        self._store(items)

    def forward(self, *args: Any) -> Any:
        raise TypeError(
            f"{type(self).__name__} has no forward of its own: call its entries in your "
            "module's forward (for layer in self.layers: x = layer(x)), or use "
            "nn.Sequential for layers applied one after another"
        )

    def config(self) -> dict[str, Any]:
        # A TypeError, as for a module of your own: compgraph.save then writes the weights
        # only, and the model that holds this list is rebuilt in code.
        raise TypeError(
            f"a {type(self).__name__} has no architecture of its own to save (the module "
            "holding it decides what it computes); save model.state_dict() and rebuild the "
            "model in code before load_state_dict()"
        )


class ModuleList(_Numbered[Module]):
    """[m_0, m_1, …]: sub-modules kept in a list, each registered, as PyTorch's.

    They are named "0", "1", … in ``named_parameters()`` and ``state_dict()``
    ("layers.0.weight" for ``self.layers = ModuleList(...)``, as in PyTorch). A plain
    list of modules in an attribute would hide their parameters from ``parameters()``:
    compgraph refuses one, naming this class (PyTorch skips it silently).

    A ModuleList has no forward: the module holding it calls the layers, in any order.
    It supports ``append``, ``extend``, ``insert``, ``len``, iteration, ``[i]`` (get,
    set, del; later entries are renumbered) and slices (a ModuleList of the same modules).

    Args:
        modules: the first entries.

    Example:
        >>> import compgraph as cg
        >>> class MLP(cg.nn.Module):
        ...     def __init__(self, sizes):
        ...         pairs = zip(sizes, sizes[1:])
        ...         self.layers = cg.nn.ModuleList(cg.nn.Linear(m, n, rng=0) for m, n in pairs)
        ...     def forward(self, x):
        ...         for layer in self.layers[:-1]:
        ...             x = layer(x).relu()
        ...         return self.layers[-1](x)
        >>> [name for name, _ in MLP([4, 8, 2]).named_parameters()]
        ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']
    """

    _kind = Module


class ParameterList(_Numbered[Parameter]):
    """[p_0, p_1, …]: Parameters kept in a list, each registered, as PyTorch's.

    Named "0", "1", … in ``named_parameters()`` and ``state_dict()``; the same list
    operations as :class:`ModuleList`.

    Args:
        parameters: the first entries.
    """

    _kind = Parameter

    def extra_repr(self) -> str:
        return ", ".join(f"({index}): {parameter!r}" for index, parameter in enumerate(self))


class ModuleDict(Module):
    """{name: module}: sub-modules kept by name, each registered, as PyTorch's.

    Each key is the module's name in ``named_parameters()`` and ``state_dict()``
    ("heads.digits.weight" for ``self.heads = ModuleDict({"digits": …})``). Keys are
    kept in insertion order. A plain dict of modules in an attribute is refused, naming
    this class. No forward: the module holding it calls the entries.

    Args:
        modules: a mapping, or (name, module) pairs.

    Raises:
        KeyError: a key that is not a string, is empty, holds a ".", starts with "_" or
            names an attribute of ModuleDict itself ("train", "training", …).
    """

    _names: list[str]

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] = ()) -> None:
        object.__setattr__(self, "_names", [])
        self.update(modules)

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace entries from a mapping or from (name, module) pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in pairs:
            self[key] = module

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict[{key!r}]: a {type(module).__name__}, not a Module")
        if (
            not isinstance(key, str)
            or not key
            or "." in key
            or key.startswith("_")
            or hasattr(type(self), key)
        ):
            raise KeyError(
                f"ModuleDict: {key!r} cannot name a module: use a non-empty string without "
                "'.', not starting with '_' and not an attribute of ModuleDict"
            )
        setattr(self, key, module)
        if key not in self._names:
            self._names.append(key)

    def __getitem__(self, key: str) -> Module:
        if key not in self._names:
            raise KeyError(f"{key!r}: not in this ModuleDict, whose keys are {self._names}")
        module: Module = self.__dict__[key]
        return module

    def __delitem__(self, key: str) -> None:
        self.pop(key)

    def pop(self, key: str) -> Module:
        """Remove the entry ``key`` and return its module."""
        module = self[key]
        self._names.remove(key)
        del self.__dict__[key]
        return module

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __contains__(self, key: object) -> bool:
        return key in self._names

    def keys(self) -> list[str]:
        return list(self._names)

    def values(self) -> list[Module]:
        return [self.__dict__[key] for key in self._names]

    def items(self) -> list[tuple[str, Module]]:
        return [(key, self.__dict__[key]) for key in self._names]

    def forward(self, *args: Any) -> Any:
        raise TypeError(
            "ModuleDict has no forward of its own: call its entries in your module's "
            "forward (self.heads[name](x))"
        )

    def config(self) -> dict[str, Any]:
        raise TypeError(
            "a ModuleDict has no architecture of its own to save (the module holding it "
            "decides what it computes); save model.state_dict() and rebuild the model in "
            "code before load_state_dict()"
        )
