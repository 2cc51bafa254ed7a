"""The stand-in's device array and its rules: what may enter a device operation, what is a host read.

A ``cupy.ndarray`` here is a NumPy array kept out of NumPy's reach. The rules are CuPy
14's (``cupy/_core/core.pyx`` and ``_kernel.pyx``, read line by line):

- ``__array__`` raises ``TypeError`` ("Implicit conversion to a NumPy array is not
  allowed"), so ``numpy.asarray(device_array)`` and every NumPy function that converts
  its input fail, as on CuPy;
- a ufunc, an operator or a kernel refuses a NumPy array among its inputs
  (``TypeError: Unsupported type``), as CuPy's ``CScalar`` does; Python and NumPy
  scalars are fine;
- ``.get()``, ``float()``, ``int()``, ``bool()``, ``.item()``, ``.tolist()``, ``repr``
  and ``format`` copy to the host: each is counted in :data:`HOST_READS` and refused
  inside :func:`forbid_host_reads` (``cupyx.allow_synchronize(False)`` on a GPU);
- ``float()`` of an array of more than one element fails as NumPy's does on ``get()``;
- indexing and assignment accept NumPy arrays (CuPy copies them to the device).
"""
from __future__ import annotations

import collections
import contextlib
import inspect
import json
from pathlib import Path

import numpy

API = json.loads(Path(__file__).with_name("cupy_api.json").read_text())

#: host reads so far, by kind ("get", "float", "bool", ...)
HOST_READS = collections.Counter()
_FORBID = [0]


class HostReadForbidden(RuntimeError):
    """A host read inside :func:`forbid_host_reads` (CuPy: ``cupyx.DeviceSynchronized``)."""


def host_read(kind):
    if _FORBID[0]:
        raise HostReadForbidden(f"a host read ({kind}) where none is allowed")
    HOST_READS[kind] += 1


@contextlib.contextmanager
def forbid_host_reads():
    """Inside, any copy from the device to the host raises :class:`HostReadForbidden`."""
    _FORBID[0] += 1
    try:
        yield
    finally:
        _FORBID[0] -= 1


class _Source(str):
    """A default value as CuPy's source writes it (shown unquoted in a signature)."""

    def __repr__(self):
        return str(self)


def signature(params):
    """An ``inspect.Signature`` from the ``[[name, kind, default], ...]`` of ``cupy_api.json``."""
    kinds = {"positional_or_keyword": inspect.Parameter.POSITIONAL_OR_KEYWORD,
             "var_positional": inspect.Parameter.VAR_POSITIONAL,
             "keyword_only": inspect.Parameter.KEYWORD_ONLY,
             "var_keyword": inspect.Parameter.VAR_KEYWORD}
    out = []
    for name, kind, default in params:
        default = inspect.Parameter.empty if default is None else _Source(default)
        out.append(inspect.Parameter(name, kinds[kind], default=default))
    return inspect.Signature(out)


def check_call(where, params, args, kwargs):
    """``TypeError`` for a call that CuPy's signature of ``where`` would not accept."""
    try:
        signature(params).bind(*args, **kwargs)
    except TypeError as err:
        raise TypeError(f"{where}: {err} (CuPy's signature: {signature(params)})") from None


_SCALARS = (int, float, bool, complex, numpy.generic)


def kernel_arg(x):
    """An input of a ufunc, operator or kernel: a device array's data or a scalar, as CuPy accepts."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, _SCALARS):
        return x
    raise TypeError(f"Unsupported type {type(x)}")


def to_host_index(key):
    """An index, with device arrays in it replaced by their data (no host read: it stays on the device)."""
    if isinstance(key, ndarray):
        return key._a
    if isinstance(key, tuple):
        return tuple(to_host_index(k) for k in key)
    return key


def wrap(result):
    """NumPy results as device arrays: arrays, and NumPy scalars as 0-d arrays (CuPy returns those)."""
    if isinstance(result, numpy.ndarray):
        return ndarray._of(result)
    if isinstance(result, numpy.generic):
        return ndarray._of(numpy.asarray(result))
    if isinstance(result, tuple):
        return tuple(wrap(r) for r in result)
    if isinstance(result, list):
        return [wrap(r) for r in result]
    return result


def apply_ufunc(ufunc, inputs, kwargs):
    """Call NumPy's ``ufunc`` under CuPy's rules for ``ufunc.__call__``."""
    unknown = set(kwargs) - set(API["ufunc.__call__"])
    if unknown:
        raise TypeError(f"Wrong arguments {unknown}: cupy's ufunc {ufunc.__name__} takes {API['ufunc.__call__']}")
    kw = dict(kwargs)
    out = kw.pop("out", None)
    if "_where" in kw:
        kw["where"] = kernel_arg(kw.pop("_where"))
    args = [kernel_arg(x) for x in inputs]
    if out is not None:
        if not isinstance(out, ndarray):
            raise TypeError("Output arguments must be cupy.ndarray")
        ufunc(*args, out=out._a, **kw)
        return out
    return wrap(ufunc(*args, **kw))


class _FlatIter:
    """``a.flat`` (``cupy/_indexing/iterate.py``): an int or a slice, nothing else."""

    def __init__(self, a):
        self._base = a

    def _key(self, ind):
        if ind is Ellipsis:
            return slice(None)
        if isinstance(ind, (tuple, bool, numpy.bool_)) or not isinstance(ind, (int, numpy.integer, slice)):
            raise IndexError("unsupported iterator index")
        return ind

    def __getitem__(self, ind):
        r = self._base._a.reshape(-1)[self._key(ind)]
        return ndarray._of(numpy.array(r))  # an element comes back as a 0-d device array (a copy)

    def __setitem__(self, ind, value):
        flat = self._base._a.reshape(-1)
        if not numpy.shares_memory(flat, self._base._a):
            raise NotImplementedError("the stand-in writes through .flat only into contiguous arrays")
        flat[self._key(ind)] = value._a if isinstance(value, ndarray) else value


class _Flags:
    def __init__(self, a):
        self.c_contiguous = bool(a.flags.c_contiguous)
        self.f_contiguous = bool(a.flags.f_contiguous)
        self.owndata = bool(a.flags.owndata)


def _method(name):
    params = API["ndarray"][name]

    def method(self, *args, **kwargs):
        check_call(f"cupy.ndarray.{name}", params, args, kwargs)
        out = signature(params).bind(*args, **kwargs).arguments.get("out")
        if out is not None and not isinstance(out, ndarray):
            raise TypeError("Output arguments must be cupy.ndarray")
        args = tuple(a._a if isinstance(a, ndarray) else a for a in args)
        kwargs = {k: (v._a if isinstance(v, ndarray) else v) for k, v in kwargs.items()}
        result = getattr(self._a, name)(*args, **kwargs)
        return out if out is not None else wrap(result)

    method.__name__ = name
    return method


def _binary(ufunc, reflected=False, inplace=False):
    def op(self, other):
        if inplace:
            return apply_ufunc(ufunc, (self, other), {"out": self})
        if not isinstance(other, (ndarray, *_SCALARS)):
            if isinstance(other, numpy.ndarray):
                raise TypeError(f"Unsupported type {type(other)}")
            return NotImplemented
        return apply_ufunc(ufunc, (other, self) if reflected else (self, other), {})

    return op


class ndarray:  # noqa: N801 (CuPy's name)
    """A device array of the stand-in (its data: a NumPy array that NumPy cannot reach)."""

    __module__ = "cupy"  # what minivae.backend.is_cupy_array looks at
    __slots__ = ("_a",)
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._a = numpy.empty(shape, dtype=dtype, order=order)

    @classmethod
    def _of(cls, a):
        self = object.__new__(cls)
        self._a = a
        return self

    # attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    size = property(lambda self: self._a.size)
    ndim = property(lambda self: self._a.ndim)
    strides = property(lambda self: self._a.strides)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    flags = property(lambda self: _Flags(self._a))
    T = property(lambda self: ndarray._of(self._a.T))
    flat = property(lambda self: _FlatIter(self))

    # host reads
    def get(self, stream=None, order="C", out=None, blocking=True):
        host_read("get")
        return numpy.array(self._a, order=order)

    def item(self):
        host_read("item")
        return self._a.item()

    def tolist(self):
        host_read("tolist")
        return self._a.tolist()

    def __float__(self):
        host_read("float")
        return float(numpy.array(self._a))

    def __int__(self):
        host_read("int")
        return int(numpy.array(self._a))

    def __complex__(self):
        host_read("complex")
        return complex(numpy.array(self._a))

    def __bool__(self):
        if self.size == 1:
            host_read("bool")
            return bool(self._a.reshape(()))
        if self.size == 0:
            return False
        raise ValueError("The truth value of an array with more than one element is ambiguous. "
                         "Use a.any() or a.all()")

    def __repr__(self):
        host_read("repr")
        return repr(self._a)

    def __str__(self):
        host_read("str")
        return str(self._a)

    def __format__(self, spec):
        host_read("format")
        return format(self._a, spec)

    # conversions CuPy refuses
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or ufunc.__name__ not in API["cupy"]:
            return NotImplemented
        if "out" in kwargs:
            kwargs["out"] = kwargs["out"][0]
        return apply_ufunc(ufunc, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        import cupy

        fn = getattr(cupy, func.__name__, None) if func.__name__ in API["cupy"] else None
        return NotImplemented if fn is None else fn(*args, **kwargs)

    # containers
    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return len(self._a)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __getitem__(self, key):
        return wrap(self._a[to_host_index(key)])

    def __setitem__(self, key, value):
        if isinstance(value, ndarray):
            value = value._a
        elif not isinstance(value, (numpy.ndarray, *_SCALARS, list, tuple)):
            raise TypeError(f"Unsupported type {type(value)}")
        self._a[to_host_index(key)] = value  # a NumPy value is copied to the device, as CuPy does

    def __copy__(self):
        return ndarray._of(self._a.copy())

    # arithmetic: NumPy's ufuncs under CuPy's input rules
    __add__, __radd__, __iadd__ = (_binary(numpy.add), _binary(numpy.add, True), _binary(numpy.add, inplace=True))
    __sub__, __rsub__, __isub__ = (_binary(numpy.subtract), _binary(numpy.subtract, True),
                                   _binary(numpy.subtract, inplace=True))
    __mul__, __rmul__, __imul__ = (_binary(numpy.multiply), _binary(numpy.multiply, True),
                                   _binary(numpy.multiply, inplace=True))
    __truediv__, __rtruediv__, __itruediv__ = (_binary(numpy.true_divide), _binary(numpy.true_divide, True),
                                               _binary(numpy.true_divide, inplace=True))
    __floordiv__, __rfloordiv__ = _binary(numpy.floor_divide), _binary(numpy.floor_divide, True)
    __mod__, __rmod__ = _binary(numpy.remainder), _binary(numpy.remainder, True)
    __pow__, __rpow__, __ipow__ = (_binary(numpy.power), _binary(numpy.power, True),
                                   _binary(numpy.power, inplace=True))
    __matmul__, __rmatmul__ = _binary(numpy.matmul), _binary(numpy.matmul, True)
    __and__, __rand__, __iand__ = (_binary(numpy.bitwise_and), _binary(numpy.bitwise_and, True),
                                   _binary(numpy.bitwise_and, inplace=True))
    __or__, __ror__, __ior__ = (_binary(numpy.bitwise_or), _binary(numpy.bitwise_or, True),
                                _binary(numpy.bitwise_or, inplace=True))
    __lt__, __le__ = _binary(numpy.less), _binary(numpy.less_equal)
    __gt__, __ge__ = _binary(numpy.greater), _binary(numpy.greater_equal)
    __eq__, __ne__ = _binary(numpy.equal), _binary(numpy.not_equal)

    def __neg__(self):
        return apply_ufunc(numpy.negative, (self,), {})

    def __pos__(self):
        return apply_ufunc(numpy.positive, (self,), {})

    def __abs__(self):
        return apply_ufunc(numpy.absolute, (self,), {})

    def __invert__(self):
        return apply_ufunc(numpy.invert, (self,), {})


for _name in API["ndarray"]:
    if (not _name.startswith("_") and _name not in vars(ndarray) and isinstance(API["ndarray"][_name], list)
            and hasattr(numpy.ndarray, _name)):
        setattr(ndarray, _name, _method(_name))
