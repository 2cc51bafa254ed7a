"""Run every demo on the embedded data sets and say where the pictures are.

    python demos/run_all.py            # the full stories (about a minute on 2 cores)
    python demos/run_all.py --quiet    # the same without progress bars (they go to stderr)
    python demos/run_all.py --quick    # seconds each: what the test suite runs
"""
import argparse
import importlib.util
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

#: the stories, in the order a course would tell them
DEMOS = [
    "ae_basics",                 # encoder, bottleneck, decoder; MSE against BCE
    "dimensionality_reduction",  # AE against PCA; the linear AE that equals PCA; 2-D codes
    "denoising",                 # plain against denoising AE, three corruptions
    "anomaly_detection",         # reconstruction error and -ELBO as anomaly scores, ROC AUC
    "sparse_contractive",        # activation histograms, Jacobian norms
    "features",                  # pretraining and feature extraction for a small classifier
    "vae",                       # mu and sigma, sampling, the latent manifold, beta
    "cvae",                      # "generate a 7": every digit on demand
]


def load(name):
    spec = importlib.util.spec_from_file_location(f"minivae_demo_{name}", os.path.join(HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run every minivae demo.")
    parser.add_argument("--quick", action="store_true", help="tiny runs, seconds each")
    parser.add_argument("--out", default="out", help="folder for the figures (default: ./out)")
    parser.add_argument("--only", nargs="*", choices=DEMOS, help="run just these demos")
    parser.add_argument("--quiet", action="store_true", help="no progress bars (they go to stderr)")
    args = parser.parse_args(argv)
    names = args.only or DEMOS
    for name in names:
        print(f"\n=== {name} " + "=" * (60 - len(name)), flush=True)
        start = time.perf_counter()
        demo_args = ["--out", os.path.join(args.out, name)] + (["--quick"] if args.quick else []) \
            + (["--quiet"] if args.quiet else [])
        load(name).main(demo_args)
        print(f"--- {name} done in {time.perf_counter() - start:.1f} s", flush=True)
    print(f"\nFigures are in {os.path.abspath(args.out)}/<demo>/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
