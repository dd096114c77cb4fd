"""Reading ``token.pickle`` without running anything it names.

A pickle is a small program: its opcodes name globals (a module and a name) and call them, so
``pickle.load`` on a file from anywhere can run ``os.system``. This unpickler imports nothing.
Each global a pickled ``google.oauth2.credentials.Credentials`` needs is answered here by a
stand-in that only records data: the credentials class and google-auth's helper classes by
recorders that keep the state the pickle gives them, ``datetime`` by a function that accepts
only a datetime's 10 bytes. Every other global is refused, by name, before anything runs.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, Final

from gtoken.errors import ConfigError

__all__ = ["credentials_state"]

CREDENTIALS: Final = ("google.oauth2.credentials", "Credentials")

# google-auth's own modules: their classes become recorders (never imported, never run).
_GOOGLE_AUTH: Final = ("google.auth", "google.oauth2")
# Plain types that appear around google-auth's helper objects; recorders too.
_INERT: Final = frozenset(
    {
        ("builtins", "object"),
        ("__builtin__", "object"),
        ("builtins", "tuple"),
        ("__builtin__", "tuple"),
        ("datetime", "timedelta"),
    }
)


class _Recorder:
    """Stands in for a class the pickle names: takes whatever it is given, runs nothing."""

    origin: ClassVar[str]
    state: object

    def __new__(cls, *args: object, **kwargs: object) -> _Recorder:
        self = object.__new__(cls)
        self.state = None
        return self

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __setstate__(self, state: object) -> None:
        self.state = state


class _Credentials(_Recorder):
    origin = ".".join(CREDENTIALS)


def _datetime(*args: object) -> datetime:
    """``datetime.datetime`` as pickles call it: one 10-byte state, naive (google-auth's UTC)."""
    if len(args) == 1 and isinstance(args[0], bytes | str):
        state = args[0].encode("latin-1") if isinstance(args[0], str) else args[0]
        if len(state) == 10:
            constructor: Any = datetime  # the C type's pickle path: a datetime from its bytes
            result: datetime = constructor(state)
            return result
    raise pickle.UnpicklingError("a datetime in a form google-auth does not write")


def _latin1(text: object, encoding: object = "latin1") -> bytes:
    """``_codecs.encode`` as protocols 0-2 use it for bytes: latin-1 only."""
    if isinstance(text, str) and encoding in ("latin1", "latin-1"):
        return text.encode("latin-1")
    raise pickle.UnpicklingError("an encoding other than latin-1")


def _reconstructor(cls: object, base: object, state: object) -> _Recorder:
    """``copyreg._reconstructor`` (protocols 0 and 1), for recorders only."""
    if isinstance(cls, type) and issubclass(cls, _Recorder):
        return cls.__new__(cls)
    raise pickle.UnpicklingError("copyreg._reconstructor of a class that is not allowed")


_FUNCTIONS: Final[dict[tuple[str, str], Callable[..., object]]] = {
    ("datetime", "datetime"): _datetime,
    ("_codecs", "encode"): _latin1,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("copy_reg", "_reconstructor"): _reconstructor,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, *, source: str) -> None:
        # latin-1: Python 2 pickles' byte strings come back as text, as they were meant.
        super().__init__(io.BytesIO(data), encoding="latin1")
        self.source = source
        self.recorders: dict[tuple[str, str], type[_Recorder]] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == CREDENTIALS:
            return _Credentials
        function = _FUNCTIONS.get((module, name))
        if function is not None:
            return function
        if (module, name) in _INERT or _is_google_auth(module):
            return self._recorder(module, name)
        raise ConfigError(
            f"{self.source} asks to run {_shown(module)}.{_shown(name)} when unpickled, which a "
            "saved google-auth Credentials never does; gtoken refused it and ran nothing",
            hint="Do not load this file with pickle anywhere: it may be malicious. Sign in "
            "with gtoken login instead.",
        )

    def _recorder(self, module: str, name: str) -> type[_Recorder]:
        found = self.recorders.get((module, name))
        if found is None:
            found = type(name, (_Recorder,), {"origin": f"{_shown(module)}.{_shown(name)}"})
            self.recorders[(module, name)] = found
        return found


def _is_google_auth(module: str) -> bool:
    return any(module == top or module.startswith(top + ".") for top in _GOOGLE_AUTH)


def _shown(text: str) -> str:
    return repr(text[:80])[1:-1]


def credentials_state(data: bytes, *, source: str) -> dict[str, object]:
    """The attributes of the ``google.oauth2.credentials.Credentials`` pickled in ``data``.

    Raises ConfigError naming ``source`` when a global other than the allowed ones is named (before
    anything runs), when the pickle is unreadable, or when it holds something else."""
    unpickler = _Unpickler(data, source=source)
    try:
        loaded = unpickler.load()
    except ConfigError:
        raise
    except RecursionError:
        raise ConfigError(f"{source} is a pickle nested too deeply to be a token") from None
    except Exception as exc:
        raise ConfigError(
            f"{source} is not a readable pickle of google-auth Credentials "
            f"({type(exc).__name__}); it may be damaged or cut short",
            hint="Sign in with gtoken login instead.",
        ) from None
    if type(loaded) is not _Credentials:
        what = loaded.origin if isinstance(loaded, _Recorder) else type(loaded).__name__
        raise ConfigError(
            f"{source} holds a pickled {what}, not google.oauth2.credentials.Credentials",
            hint="gtoken import reads the token.pickle of Google's Python quickstarts; for "
            "anything else, sign in with gtoken login.",
        )
    state = loaded.state
    if isinstance(state, tuple) and len(state) == 2:  # (__dict__, __slots__ values)
        state = state[0]
    if not isinstance(state, dict) or not all(isinstance(key, str) for key in state):
        raise ConfigError(f"{source} holds Credentials without their attributes")
    return state
