"""demos/convvae.py (not in run_all: its full run takes minutes) runs in --quick mode and writes its figure."""
import importlib.util
import os
import re

DEMO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demos", "convvae.py")


def test_convvae_demo_runs_quick(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("demo_convvae", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.main(["--quick", "--out", str(tmp_path)])
    with open(tmp_path / "samples.png", "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    captured = capsys.readouterr()
    assert "ConvVAE's −log p(x) below the best MLP's by" in captured.out
    assert re.search(r"ConvVAE, \d+ epochs: +\d+%\|", captured.err), captured.err[-500:]
    for neg_elbo, neg_log_p in results.values():  # the importance-weighted bound is the tighter one
        assert neg_log_p <= neg_elbo + 0.5, results
