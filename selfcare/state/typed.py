"""How a state declares its handlers and its dict fields so that mypy reads them as Reflex means them.
At run time each name here *is* Reflex's own; only their static types differ.

``event``: Reflex's ``rx.event`` decorator; every handler of the app is declared with it (``@event``,
``@event(background=True)``). ``rx.event`` is a class whose ``__new__`` returns the handler's typed stand-in
(``EventCallback[*args]``). Pyright follows that; mypy takes the class's own type instead (a ``__new__``
returning something other than an instance), so every ``State.handler`` would be an ``EventNamespace``,
and ``State.handler(value)`` an error. Declared here with the same overloads as plain functions, a
handler's arguments are checked where a page binds them (``on_click=State.open_order(b["offer_id"])``).

``BoundEvent``: a handler ready to run, with its arguments (``State.go(url)``) or none (``State.load``),
as a helper returns or takes one: an ``EventHandler`` or ``EventSpec`` at run time, ``EventCallback[()]``
to the type checker (Reflex's static stand-in for both).

``DictField`` and ``dict_field()``: a field holding a dict (``view: DictField[dict[str, Any]] = dict_field()``).
``rx.Field[dict[...]]`` read on the class is a Var of the dict (an ``ObjectVar``) for Reflex and pyright,
but mypy solves ``Field.__get__``'s overloads to ``ArrayVar[Never]`` there, so ``State.view["total"]``
would not type-check. Other fields are ``rx.Field[...] = rx.field(...)`` as Reflex documents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, TypeVarTuple, Unpack, overload

import reflex as rx

if TYPE_CHECKING:
    from reflex.event import EventCallback
    from reflex.vars import ObjectVar

__all__ = ["BoundEvent", "DictField", "dict_field", "event"]

P = TypeVarTuple("P")
D = TypeVar("D", bound=Mapping[str, Any])

if TYPE_CHECKING:
    BoundEvent = EventCallback[()]

if TYPE_CHECKING:

    @overload
    def event(func: Callable[[Any, Unpack[P]], Any], /) -> EventCallback[*P]: ...

    @overload
    def event(
        *,
        background: bool | None = None,
        supersedes: bool | None = None,
        stop_propagation: bool | None = None,
        prevent_default: bool | None = None,
        throttle: int | None = None,
        debounce: int | None = None,
        temporal: bool | None = None,
    ) -> Callable[[Callable[[Any, Unpack[P]], Any]], EventCallback[*P]]: ...

    def event(*args: Any, **options: Any) -> Any:
        """Reflex's ``rx.event`` (see the module docstring)."""

else:
    event = rx.event


if TYPE_CHECKING:

    class DictField(Generic[D]):
        """``rx.Field`` of a dict (see the module docstring)."""

        @overload
        def __get__(self, instance: None, owner: Any) -> ObjectVar[D]: ...

        @overload
        def __get__(self, instance: object, owner: Any) -> D: ...

        def __get__(self, instance: object | None, owner: Any) -> ObjectVar[D] | D: ...

        def __set__(self, instance: object, value: D) -> None: ...

    def dict_field() -> DictField[Any]:
        """An empty dict for each session (``rx.field(default_factory=dict)``)."""

else:
    DictField = rx.Field

    def dict_field():
        """An empty dict for each session (``rx.field(default_factory=dict)``)."""
        return rx.field(default_factory=dict)
