"""minivae: autoencoders, VAEs and CVAEs built from plain arrays, every gradient by hand.

Read the source from the bottom up: ``backend`` -> ``ops`` (the maths, forward and
backward pairs) -> ``layers`` -> ``optim`` -> ``models`` -> ``train``.
"""
__version__ = "0.1.0"

from .backend import BackendUnavailableError, get_backend, set_backend, to_numpy  # noqa: F401
from .models import load  # noqa: F401  (the checkpoint format sits below the models; load builds one)
from .gradcheck import check_pair, check_scalar  # noqa: F401
from .layers import Dense, LeakyReLU, ReLU, Sequential, Sigmoid, Softplus, Tanh  # noqa: F401
from .models import CVAE, VAE, Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder  # noqa: F401
from .models import ConvVAE  # noqa: F401
from .conv_layers import Conv2d, ConvTranspose2d, Reshape  # noqa: F401
from .ops import (  # noqa: F401
    bce_with_logits,
    kl_standard_normal,
    mse,
    reparameterize,
    reparameterize_backward,
)
from .optim import SGD, Adam, Optimizer  # noqa: F401
from .train import TrainingDivergedError  # noqa: F401
