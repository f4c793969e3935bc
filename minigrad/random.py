"""Random-number state under PyTorch's names: ``seed``, ``initial_seed``, ``get_rng_state``,
``set_rng_state`` and ``Generator``.

Every random draw in minigrad comes from one NumPy ``Generator`` (``mg.manual_seed`` replaces
it; see ``tensor.py``), unless a ``generator=`` argument names another one.

The state format. PyTorch hands its generator's state out as a uint8 Tensor; so does minigrad,
holding NumPy's PCG64 bit generator (the one ``np.random.default_rng`` uses), 37 bytes in
little-endian order::

    bytes  0-15   state       the 128-bit LCG state
    bytes 16-31   inc         the 128-bit increment (which stream)
    byte  32      has_uint32  1 if half of a 64-bit draw is buffered, else 0
    bytes 33-36   uinteger    the buffered 32-bit half

Plain bytes rather than a pickle: a state read from a file can't run code, and the format is
what is written above, not whatever a NumPy version pickles.
"""

from __future__ import annotations

import importlib

import numpy as np

from .tensor import Tensor

# the module itself (``mg.tensor`` is the function): its _rng and settings are replaced at run
# time, so they are read from the module each time
_tensor_module = importlib.import_module(".tensor", __package__)

_STATE_BYTES = 37


def _pcg64_state_to_bytes(state: dict) -> np.ndarray:
    if state.get("bit_generator") != "PCG64":
        raise RuntimeError(f"get_rng_state: only NumPy's PCG64 generator state can be saved, "
                           f"got {state.get('bit_generator')!r}")
    inner = state["state"]
    raw = (int(inner["state"]).to_bytes(16, "little") + int(inner["inc"]).to_bytes(16, "little")
           + int(state["has_uint32"]).to_bytes(1, "little")
           + int(state["uinteger"]).to_bytes(4, "little"))
    return np.frombuffer(raw, dtype=np.uint8).copy()


def _bytes_to_pcg64_state(op: str, new_state) -> dict:
    if not isinstance(new_state, Tensor):
        raise TypeError(f"{op}: expected a uint8 Tensor (from get_rng_state), got "
                        f"{type(new_state).__name__}")
    array = np.asarray(new_state.detach().cpu().numpy())
    if array.dtype != np.uint8 or array.shape != (_STATE_BYTES,):
        raise RuntimeError(f"{op}: expected a uint8 Tensor of shape ({_STATE_BYTES},) as "
                           f"get_rng_state returns, got dtype {array.dtype} and shape "
                           f"{tuple(array.shape)}")
    raw = array.tobytes()
    return {"bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[0:16], "little"),
                      "inc": int.from_bytes(raw[16:32], "little")},
            "has_uint32": raw[32], "uinteger": int.from_bytes(raw[33:37], "little")}


def get_rng_state() -> Tensor:
    """The default generator's state, as a uint8 Tensor of 37 bytes (format above)."""
    return Tensor._make(_pcg64_state_to_bytes(_tensor_module._rng.bit_generator.state))


def set_rng_state(new_state: Tensor) -> None:
    """Put the default generator back in a state ``get_rng_state`` returned."""
    _tensor_module._rng.bit_generator.state = _bytes_to_pcg64_state("set_rng_state", new_state)


def seed() -> int:
    """Seed the default generator with a nondeterministic seed, and return that seed."""
    new_seed = _tensor_module._fresh_seed()
    _tensor_module.manual_seed(new_seed)
    return new_seed


def initial_seed() -> int:
    """The seed the default generator started from (the last ``manual_seed``/``seed``)."""
    return _tensor_module._initial_seed


class Generator:
    """An independent random-number generator, for the ``generator=`` argument of ``randn``,
    ``rand``, ``randint``, ``randperm``, ``normal``, ``multinomial``, ``nn.init`` and
    ``DataLoader``: ``g = mg.Generator().manual_seed(0); mg.randn(3, generator=g)``.

    It holds a NumPy ``Generator`` and hands every draw to it (``g.standard_normal(...)``), so
    minigrad's samplers take either one.
    """

    def __init__(self, device="cpu"):
        if str(device) != "cpu":
            raise RuntimeError(f"Generator: only device='cpu' generators exist in minigrad, "
                               f"got device={device!r}")
        self.device = device
        self.seed()

    def manual_seed(self, seed: int) -> Generator:
        self._initial_seed = int(seed)
        self._numpy = np.random.default_rng(self._initial_seed)
        return self

    def seed(self) -> int:
        """Reseed nondeterministically; return the new seed."""
        new_seed = _tensor_module._fresh_seed()
        self.manual_seed(new_seed)
        return new_seed

    def initial_seed(self) -> int:
        return self._initial_seed

    def get_state(self) -> Tensor:
        return Tensor._make(_pcg64_state_to_bytes(self._numpy.bit_generator.state))

    def set_state(self, new_state: Tensor) -> Generator:
        self._numpy.bit_generator.state = _bytes_to_pcg64_state("Generator.set_state",
                                                                new_state)
        return self

    def __getattr__(self, name):
        # the draws: standard_normal, random, integers, permutation, choice, ...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._numpy, name)

    def __repr__(self):
        return f"<minigrad.Generator initial_seed={self._initial_seed}>"
