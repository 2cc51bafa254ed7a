"""The checkpoint file format: named arrays and a JSON config in one ``.npz``, checked before it is trusted.

A checkpoint is what ``numpy.savez`` writes, a zip archive of ``.npy`` files stored
uncompressed::

    __config__.npy     uint8, the UTF-8 bytes of a JSON object: {"format": "minivae-checkpoint",
                       "format_version": 1, "class": ..., "version": ..., "config": {...}}
    param:<name>.npy   one float32 or float64 array per parameter, little-endian, C order

This module knows arrays, shapes and a config, and never imports a model: the models
(``minivae/models/base.py``) say which arrays a config implies, and this module checks
the file against that before it reads a single array.

Reading (:class:`Checkpoint`) goes from the outside in and reads nothing it has not sized:

1. only a regular file is opened (a FIFO would block, ``/dev/zero`` never ends);
2. the zip directory is at most :data:`MAX_DIRECTORY` bytes; every entry is a ``.npy``
   file listed once, stored uncompressed and unencrypted, and together the entries are
   no larger than the file. So the file's size bounds everything read from it: a
   compressed entry could unpack to a thousand times its size, and ``model.save``
   never writes one (deflate shrinks trained float32 weights by only ~7%);
3. the config is at most :data:`MAX_CONFIG` bytes of JSON, nested at most
   :data:`MAX_DEPTH` deep, with whole numbers of at most :data:`MAX_DIGITS` digits, no
   NaN or infinity and no repeated key;
4. :meth:`Checkpoint.expect` takes the arrays the config implies (name -> shape, and a
   dtype): their total size must fit in the file, every one must be present and
   nothing else, each ``.npy`` header must say exactly that shape, dtype and C order,
   and each entry must be exactly its header plus its data;
5. :meth:`Checkpoint.read` reads exactly that many bytes (the zip's CRC is checked) and
   refuses NaN or infinity.

Every failure is a ``ValueError`` naming the file and what was wrong; nothing is
unpickled. :func:`write` writes atomically; its callers first run the same checks
(:func:`encode_config`, :func:`check_arrays`), so a file ``save`` writes is one that
``load`` reads.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import secrets
import stat
import zipfile

import numpy
from numpy.lib import format as npy

try:
    import fcntl  # locks that tell a live writer's temporary file from a stale one (not on Windows)
except ImportError:  # pragma: no cover
    fcntl = None

FORMAT = "minivae-checkpoint"
FORMAT_VERSION = 1
CONFIG = "__config__"
PREFIX = "param:"

MAX_DIRECTORY = 256 * 1024  # bytes of zip directory: ~4,000 arrays at the 66 bytes save writes per
                            # array; parsing a directory costs ~10 times its size
MAX_ARRAYS = MAX_DIRECTORY // 46  # the most entries such a directory can list (46 bytes each at least)
MAX_CONFIG = 64 * 1024      # bytes of JSON
MAX_DEPTH = 16              # nesting of the JSON (a config is 3 deep)
MAX_DIGITS = 40             # digits of a whole number in the JSON (a seed of 2**128 has 39)
MAX_HEADER = 4096           # bytes of one .npy header (numpy writes ~128)
CHUNK = 64 * 1024           # bytes read at a time


def npz_path(path):
    """``path`` as a string, with ``.npz`` appended if it lacks it."""
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


def kind_of(mode):
    """What a file of ``st_mode`` is, in words, for messages: ``"a FIFO (named pipe)"``."""
    kinds = ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((words for test, words in kinds if test(mode)), "a special file")


def _size(n):
    """``n`` bytes in words: ``"149.0 GiB"``."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} bytes"


def _dtype_text(dtype):
    return dtype.name if dtype.byteorder != ">" else f"{dtype.name} (big-endian)"


# ---------------------------------------------------------------------- the checks load and save share
def mismatch(path, name, shape, dtype, expected_shape, expected_dtype):
    """The message for an array whose shape or dtype is not the one its config implies."""
    return (f"{path!r}: parameter {name} has shape {tuple(shape)} and dtype {_dtype_text(dtype)}; "
            f"expected {tuple(expected_shape)} and {_dtype_text(expected_dtype)}")


def check_names(path, stored, expected, model, others=()):
    """Raise unless the parameter names ``stored`` are exactly ``expected`` (and no ``others``).

    ``model`` is the class name of the model the config describes, for the message.
    """
    missing, extra = sorted(set(expected) - set(stored)), sorted(set(stored) - set(expected)) + sorted(others)
    if missing or extra:
        raise ValueError(f"{path!r}: its arrays are not the parameters of the {model} its config describes: "
                         f"missing {missing}, unexpected {extra}")


def check_finite(path, name, a):
    """Raise if the array ``a`` holds NaN or infinity."""
    if not numpy.isfinite(a).all():
        raise ValueError(f"{path!r}: parameter {name} holds NaN or infinite values")


def check_arrays(path, arrays, shapes, dtype, model):
    """What :meth:`Checkpoint.expect` and :meth:`Checkpoint.read` check, for arrays in memory.

    ``arrays``: name -> NumPy array; ``shapes``: name -> the shape the config implies.
    """
    check_names(path, arrays, shapes, model)
    for name, a in arrays.items():
        if a.shape != tuple(shapes[name]) or a.dtype != dtype:
            raise ValueError(mismatch(path, name, a.shape, a.dtype, shapes[name], dtype))
        check_finite(path, name, a)


class _BadValue(ValueError):
    """A value the JSON parser accepts but a checkpoint's config may not hold."""


def _whole_number(digits):
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise _BadValue(f"holds a whole number longer than {MAX_DIGITS} digits")
    return int(digits)


def _finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise _BadValue(f"holds {text}, a number too large for a float")
    return value


def _no_constant(name):
    raise _BadValue(f"holds {name}, which is not a number JSON allows")


def _no_repeated_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _BadValue(f"repeats the key {next(k for k in keys if keys.count(k) > 1)!r}")
    return dict(pairs)


def _nesting(text):
    """How deeply the JSON ``text`` nests lists and objects (brackets inside strings do not count)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # too few brackets to nest too deeply: skip the scan
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (c == "\\", c != '"')
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


def parse_config(path, raw):
    """The checked JSON object of a checkpoint's ``__config__`` bytes ``raw``."""
    if len(raw) > MAX_CONFIG:
        raise ValueError(f"{path!r}: its config is {len(raw):,} bytes; a checkpoint's is at most {MAX_CONFIG:,}")
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path!r}: its config is not valid JSON ({err})") from None
    depth = _nesting(text)
    if depth > MAX_DEPTH:
        raise ValueError(f"{path!r}: its config nests {depth} deep; a checkpoint's nests at most {MAX_DEPTH} deep")
    try:
        meta = json.loads(text, parse_int=_whole_number, parse_float=_finite, parse_constant=_no_constant,
                          object_pairs_hook=_no_repeated_keys)
    except _BadValue as err:
        raise ValueError(f"{path!r}: its config {err}") from None
    except ValueError as err:  # json.JSONDecodeError
        raise ValueError(f"{path!r}: its config is not valid JSON ({err})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path!r}: malformed config (a JSON {type(meta).__name__}, not an object)")
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path!r} is not a minivae checkpoint (format {meta.get('format')!r})")
    version = meta.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise ValueError(f"{path!r}: checkpoint format version {version!r} is not supported")
    return meta


def _check_whole_numbers(path, value, depth=0):
    """Refuse, as :func:`parse_config` would, a whole number json.dumps may not even write."""
    if isinstance(value, int) and abs(value) >= 10**MAX_DIGITS:
        raise ValueError(f"{path!r}: its config holds a whole number longer than {MAX_DIGITS} digits")
    if depth <= MAX_DEPTH and isinstance(value, (dict, list, tuple)):
        for v in value.values() if isinstance(value, dict) else value:
            _check_whole_numbers(path, v, depth + 1)


def encode_config(path, meta):
    """``(raw, meta)``: the JSON bytes of ``meta``, with the format's own keys, and what loading reads back.

    Raises exactly the ``ValueError`` that :func:`parse_config` would raise on those bytes.
    """
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **meta}
    _check_whole_numbers(path, meta)
    try:
        raw = json.dumps(meta).encode("utf-8")
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path!r}: its config cannot be written as JSON ({err})") from None
    return raw, parse_config(path, raw)


# ---------------------------------------------------------------------- reading
def open_regular(path):
    """Open ``path`` for reading (binary) if it is a regular file; refuse anything else.

    Opened without blocking, so that a FIFO is seen for what it is instead of waiting
    for a writer; then ``fstat`` of the open file decides (a symlink counts as its target).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise FileNotFoundError(f"no checkpoint at {path!r}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise ValueError(f"{path!r} is {kind_of(mode)}, not a regular file: a checkpoint is read only from "
                         "a regular file (a FIFO can block for ever, a device can never end)")
    return _BoundedFile(fd, "rb")


class _TooBig(ValueError):
    def __init__(self, size):
        super().__init__(f"a read of {size:,} bytes, more than {MAX_DIRECTORY:,}")
        self.size = size


class _BoundedFile(io.FileIO):
    """A file that refuses any single read of more than :data:`MAX_DIRECTORY` bytes.

    ``zipfile`` reads the whole zip directory at once, as large as the end record
    claims; through this file a claim larger than a checkpoint's directory is refused
    before anything is allocated. Headers and data are read in :data:`CHUNK` pieces.
    """

    def read(self, size=-1):
        if size is None or size < 0:
            size = max(0, os.fstat(self.fileno()).st_size - self.tell())
        if size > MAX_DIRECTORY:
            raise _TooBig(size)
        return super().read(size)


# what zipfile and numpy raise on a damaged archive or .npy header
DAMAGED = _DAMAGED = (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, SyntaxError, TypeError)


def read_npy_header(f):
    """``(shape, fortran_order, dtype)`` of the .npy array whose stream ``f`` starts here; reads only the header.

    ``f`` is left just past the header. A header longer than :data:`MAX_HEADER` bytes,
    or of a format version other than 1.0 and 2.0, is refused; what a damaged header
    raises is one of :data:`DAMAGED`.
    """
    version = npy.read_magic(f)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f"npy format version {version} is not supported")
    read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
    return read_header(f, max_header_size=MAX_HEADER)


class Checkpoint:
    """A checkpoint file opened for reading: its directory and config checked, no array read yet.

    Use as a context manager::

        with Checkpoint(path) as ckpt:
            ckpt.meta                               # the checked JSON config
            ckpt.expect(shapes, dtype, "VAE")       # name -> shape the config implies
            a = ckpt.read(name)                     # one array, exactly as expected

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For anything else wrong with the file, naming the file and the problem.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self._file = open_regular(self.path)
        self._zip = None
        self._expected = None
        try:
            self.size = os.fstat(self._file.fileno()).st_size
            self._zip = self._open_zip()
            self._entries = self._directory()
            self.meta = self._read_config()
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._zip is not None:
            self._zip.close()
        self._file.close()

    def _error(self, why):
        return ValueError(f"{self.path!r} is not a readable minivae checkpoint (.npz): {why}")

    def _open_zip(self):
        try:
            return zipfile.ZipFile(self._file)
        except _TooBig as err:
            raise self._error(f"its zip directory claims {err.size:,} bytes; a checkpoint's is at most "
                              f"{MAX_DIRECTORY:,}") from None
        except _DAMAGED as err:
            raise self._error(f"not an .npz archive (a zip of .npy files): {err}") from None

    def _directory(self):
        """Entry name (without ``.npy``) -> ZipInfo, every entry checked as the docstring says."""
        entries = {}
        for info in self._zip.infolist():
            name = info.filename
            if not name.endswith(".npy"):
                raise self._error(f"entry {name!r} is not a .npy array")
            if name[:-4] in entries:
                raise self._error(f"entry {name!r} is listed twice")
            if info.flag_bits & 0x1:
                raise self._error(f"entry {name!r} is encrypted")
            if info.compress_type != zipfile.ZIP_STORED:
                raise self._error(f"entry {name!r} is compressed (zip method {info.compress_type}); minivae "
                                  "stores arrays uncompressed, so that a file's size bounds what loading it costs")
            if info.compress_size != info.file_size:
                raise self._error(f"entry {name!r} claims {info.file_size:,} bytes but stores {info.compress_size:,}")
            entries[name[:-4]] = info
        total = sum(info.file_size for info in entries.values())
        if total > self.size:
            raise self._error(f"its entries claim {total:,} bytes in all, more than the file's {self.size:,}")
        return entries

    def _open_array(self, name):
        """``(stream, shape, dtype, fortran_order)`` of entry ``name``, the stream just past its .npy header."""
        try:
            f = self._zip.open(self._entries[name])
            shape, fortran_order, dtype = read_npy_header(f)
        except DAMAGED as err:
            raise self._error(f"entry {name + '.npy'!r} is not a .npy array ({err})") from None
        return f, shape, dtype, fortran_order

    def _fill(self, name, f, out):
        """Read exactly ``out.nbytes`` bytes of entry ``name`` from ``f`` into ``out``, then its end."""
        info = self._entries[name]
        n = out.nbytes
        if info.file_size != f.tell() + n:
            raise self._error(f"entry {info.filename!r} holds {info.file_size:,} bytes; its .npy header says "
                              f"{f.tell() + n:,}")
        view = memoryview(out.reshape(-1)).cast("B") if n else memoryview(b"")
        got = 0
        try:
            while got < n:
                chunk = f.read(min(CHUNK, n - got))
                if not chunk:
                    raise EOFError(f"it ends after {got:,} of its {n:,} bytes")
                view[got:got + len(chunk)] = chunk
                got += len(chunk)
            f.read(1)  # reaches the end of the entry, where zipfile checks its CRC
        except _DAMAGED as err:
            raise self._error(f"entry {info.filename!r} is damaged ({err})") from None
        return out

    def _read_config(self):
        if CONFIG not in self._entries:
            raise ValueError(f"{self.path!r} is an .npz file but not a minivae checkpoint (no {CONFIG} entry)")
        f, shape, dtype, fortran_order = self._open_array(CONFIG)
        if dtype != numpy.uint8 or len(shape) != 1:
            raise self._error(f"its {CONFIG} entry holds {dtype} of shape {shape}, not the bytes of a JSON text")
        if shape[0] > MAX_CONFIG:
            raise ValueError(f"{self.path!r}: its config is {shape[0]:,} bytes; a checkpoint's is at most "
                             f"{MAX_CONFIG:,}")
        raw = self._fill(CONFIG, f, numpy.empty(shape, numpy.uint8))
        return parse_config(self.path, raw.tobytes())

    def expect(self, shapes, dtype, model):
        """Check the file holds exactly the parameters ``shapes`` (name -> shape), of ``dtype``; read no data.

        ``model`` is the class name of the model the config describes, for messages.
        """
        dtype = numpy.dtype(dtype).newbyteorder("<")
        need = sum(math.prod(s) for s in shapes.values()) * dtype.itemsize
        if need > self.size:
            a_model = f"{'an' if model[:1] in 'AEIOU' else 'a'} {model}"
            raise ValueError(f"{self.path!r}: its config describes {a_model} with {need // dtype.itemsize:,} "
                             f"parameters ({_size(need)}), more than the whole file ({_size(self.size)}) can hold")
        stored = {k[len(PREFIX):] for k in self._entries if k.startswith(PREFIX)}
        others = [k for k in self._entries if k != CONFIG and not k.startswith(PREFIX)]
        check_names(self.path, stored, shapes, model, others)
        for name, shape in shapes.items():
            f, got_shape, got_dtype, fortran_order = self._open_array(PREFIX + name)
            if got_shape != tuple(shape) or got_dtype != dtype:
                raise ValueError(mismatch(self.path, name, got_shape, got_dtype, shape, dtype))
            if fortran_order:
                raise ValueError(f"{self.path!r}: parameter {name} is stored in Fortran order; expected C order")
            size = f.tell() + math.prod(shape) * dtype.itemsize
            info = self._entries[PREFIX + name]
            if info.file_size != size:
                raise self._error(f"entry {info.filename!r} holds {info.file_size:,} bytes; its .npy header says "
                                  f"{size:,}")
            f.close()
        self._expected = (dict(shapes), dtype)

    def read(self, name):
        """Parameter ``name`` as a new NumPy array, after :meth:`expect` has accepted the file."""
        if self._expected is None:
            raise RuntimeError("call Checkpoint.expect before Checkpoint.read")
        shapes, dtype = self._expected
        f, shape, got_dtype, _ = self._open_array(PREFIX + name)
        if shape != tuple(shapes[name]) or got_dtype != dtype:  # the file changed since expect
            raise ValueError(mismatch(self.path, name, shape, got_dtype, shapes[name], dtype))
        with f:
            out = self._fill(PREFIX + name, f, numpy.empty(shape, dtype))
        check_finite(self.path, name, out)
        return out


# ---------------------------------------------------------------------- writing
def _temp_prefix(name):
    """Temporary files of target ``name`` are ``.minivae-<name>.<8 hex digits>.tmp``."""
    stem = name if len(os.fsencode(name)) <= 200 else hashlib.sha256(os.fsencode(name)).hexdigest()[:32]
    return f".minivae-{stem}."


def _lock(fd):
    """Take the exclusive lock on an open file without waiting; False if a live process holds it."""
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _same_file(fd, path):
    try:
        return os.path.samestat(os.fstat(fd), os.lstat(path))
    except OSError:
        return False


def remove_stale_temporaries(folder, name):
    """Remove the temporary files a killed ``save`` of ``folder/name`` left behind; return how many.

    A temporary file is stale when no live process holds its lock: a writer locks its
    temporary file from creation to rename, and the lock dies with the process.
    (Where there are no such locks, on Windows, nothing is removed.)
    """
    if fcntl is None:  # pragma: no cover
        return 0
    pattern = re.compile(re.escape(_temp_prefix(name)) + r"[0-9a-f]{8}\.tmp\Z")
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    removed = 0
    for entry in filter(pattern.match, names):
        path = os.path.join(folder, entry)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            continue
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode) and _lock(fd) and _same_file(fd, path):
                os.remove(path)
                removed += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _create_temporary(folder, name):
    """``(fd, path)`` of a new, locked temporary file beside the target; mode 0666 less the umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = os.path.join(folder, f"{_temp_prefix(name)}{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(path, flags, 0o666)
        except FileExistsError:
            continue
        # a cleaner may have taken it in the instant between creating and locking: then try another name
        if _lock(fd) and _same_file(fd, path):
            return fd, path
        os.close(fd)
    raise FileExistsError(f"could not create a temporary file for {name!r} in {folder!r}")


def write(path, raw_config, arrays):
    """Write ``raw_config`` (bytes) and ``arrays`` (name -> NumPy array) to ``path`` atomically.

    The caller has checked both (:func:`encode_config`, :func:`check_arrays`); the file
    itself is written by :func:`write_atomically`.
    """
    entries = {PREFIX + k: v.astype(v.dtype.newbyteorder("<"), copy=False) for k, v in arrays.items()}
    entries[CONFIG] = numpy.frombuffer(raw_config, dtype=numpy.uint8)
    return write_atomically(path, lambda f: numpy.savez(f, **entries), what="a checkpoint")


def write_atomically(path, write_to, *, what="a file"):
    """Call ``write_to(f)`` on a binary temporary file beside ``path``, then rename it over ``path``.

    The temporary file is locked, flushed to disk, and renamed over the target, so a
    crash at any moment leaves either the old file or the new one. Stale temporary
    files of the same target are removed first. A new file gets the mode the umask
    gives; a replaced file keeps its mode. A symlink is written through: its target is
    replaced and the link kept, as an editor does, since whoever made the link meant
    the file behind it. Anything but a regular file is refused. An ``OSError`` that names
    no file (a full disk, a file-size limit) is raised again naming ``path``. Returns ``path``.
    """
    target = os.path.realpath(path)
    folder, name = os.path.split(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save {path!r}: there is no folder {folder!r}")
    try:
        st = os.stat(target)
        keep_mode = stat.S_IMODE(st.st_mode)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{path!r} is {kind_of(st.st_mode)}, not a regular file: {what} is written "
                             "only to a new file or over a regular file")
    except FileNotFoundError:
        keep_mode = None
    remove_stale_temporaries(folder, name)
    fd, tmp = _create_temporary(folder, name)
    try:
        if keep_mode is not None:
            os.chmod(tmp, keep_mode)
        with open(fd, "wb", closefd=False) as f:
            write_to(f)
            f.flush()
            os.fsync(fd)
        os.replace(tmp, target)  # still locked: no cleaner can take it before the rename
    except BaseException as err:
        if _same_file(fd, tmp):
            os.remove(tmp)
        if isinstance(err, OSError) and err.filename is None:  # a full disk, a file-size limit: name the file
            raise OSError(err.errno, err.strerror or str(err), os.fspath(path)) from err
        raise
    finally:
        os.close(fd)
    _sync_folder(folder)
    return path


def _sync_folder(folder):
    """Flush the rename itself to disk (where a folder can be opened: not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
