# %% [markdown]
# # Quick start: an autoencoder learns to compress handwritten digits
#
# We train a small autoencoder on scikit-learn's 8×8 digits (bundled with the package,
# nothing is downloaded) and watch its reconstruction loss go down, epoch by epoch.
# Every gradient it follows was derived by hand: see docs/derivations.md.

# %%
import argparse

from minivae import Adam, Autoencoder
from minivae.datasets import load_digits, train_test_split


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds: fewer epochs")
    parser.add_argument("--out", default=None, help="unused here (kept for a common interface)")
    args = parser.parse_args(argv)

    # %% The data: 1,797 images of 64 pixels in [0, 1]
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=0)

    # %% A 64 → 32 → 8 → 32 → 64 autoencoder with a BCE reconstruction loss
    model = Autoencoder(64, hidden_dims=(32,), latent_dim=8, seed=0)
    epochs = 5 if args.quick else 30
    history = model.fit(X_train, epochs=epochs, batch_size=64, optimizer=Adam(3e-3),
                        validation_data=(X_test,), verbose=False)

    # %% The loss goes down
    print("epoch   train loss   test loss   (nats per image)")
    for e, tr, va in zip(history["epoch"], history["loss"], history["val_loss"]):
        print(f"{e:5d}   {tr:10.3f}   {va:9.3f}")
    first, last = history["val_loss"][0], history["val_loss"][-1]
    print(f"test loss fell from {first:.2f} to {last:.2f} nats per image")
    return history


if __name__ == "__main__":
    main()
