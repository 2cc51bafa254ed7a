"""Reading a child process's output with a deadline, so that a child that hangs fails its
test in seconds instead of holding the whole run (``readline`` on a pipe has no timeout)."""
import queue
import threading

#: seconds a test waits for one line from a child before it fails
LINE_TIMEOUT = 60


class Lines:
    """The lines a child writes to the text stream ``stream``, read by a background thread.

    ``readline(timeout)`` returns the next line (``""`` once the child has closed the
    stream, as ``stream.readline()`` would) or raises ``AssertionError`` after ``timeout``
    seconds without one.
    """

    def __init__(self, stream):
        self._lines = queue.Queue()
        self._ended = False
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream):
        try:
            for line in iter(stream.readline, ""):
                self._lines.put(line)
        except (OSError, ValueError):  # the stream was closed under us: that is its end too
            pass
        self._lines.put("")

    def readline(self, timeout=LINE_TIMEOUT):
        if self._ended:
            return ""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the child wrote no line within {timeout} s (hung?)") from None
        self._ended = line == ""
        return line
