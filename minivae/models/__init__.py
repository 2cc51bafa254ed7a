"""The models, built from the layers and ops below them."""
from .autoencoder import Autoencoder  # noqa: F401
from .base import MODELS, Model, load  # noqa: F401
from .contractive import ContractiveAutoencoder  # noqa: F401
from .convvae import ConvVAE  # noqa: F401
from .cvae import CVAE  # noqa: F401
from .denoising import DenoisingAutoencoder  # noqa: F401
from .sparse import SparseAutoencoder  # noqa: F401
from .vae import VAE  # noqa: F401

MODELS.update({cls.__name__: cls for cls in (Autoencoder, VAE, CVAE, DenoisingAutoencoder, SparseAutoencoder,
                                             ContractiveAutoencoder, ConvVAE)})
