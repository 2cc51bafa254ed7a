"""The models, built from the layers and ops below them."""
from .autoencoder import Autoencoder  # noqa: F401
from .base import Model  # noqa: F401

MODELS = {cls.__name__: cls for cls in (Autoencoder,)}
