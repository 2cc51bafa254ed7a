"""The maths: pure forward/backward pairs, each caching exactly what its backward needs."""
from .activations import (  # noqa: F401
    identity_backward,
    identity_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid,
    sigmoid_backward,
    sigmoid_forward,
    softplus_backward,
    softplus_forward,
    tanh_backward,
    tanh_forward,
)
from .dense import dense_backward, dense_forward  # noqa: F401
from .gaussian import kl_standard_normal, reparameterize, reparameterize_backward  # noqa: F401
from .losses import bce_with_logits, mse, softmax_cross_entropy  # noqa: F401
from .conv import (  # noqa: F401
    conv2d_backward,
    conv2d_forward,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
)
