"""vae_backward: the decoder's dz (first J columns), the reparameterization, + β·KL, both heads, the encoder."""
import numpy as np

from minivae import ops

from . import right, wrong

E = "vae_backward"


def _heads(model, dmu, dlogvar):
    dh = model.blocks["mu"].backward(dmu) + model.blocks["logvar"].backward(dlogvar)
    model.encoder.backward(dh, need_input_grad=False)
    return model._collect_grads()


@right(E)
def as_derived(model, dout, z_cache, dmu_kl, dlogvar_kl):
    dz = model.decoder.backward(dout)[:, :model.latent_dim]
    dmu, dlogvar = ops.reparameterize_backward(dz, z_cache)
    return _heads(model, dmu + model.beta * dmu_kl, dlogvar + model.beta * dlogvar_kl)


@right(E)
def reparameterization_by_hand(model, dout, z_cache, dmu_kl, dlogvar_kl):
    dz = model.decoder.backward(dout)[:, :model.latent_dim]
    dmu = dz + model.beta * dmu_kl
    dlogvar = 0.5 * dz * z_cache.std * z_cache.eps + model.beta * dlogvar_kl
    return _heads(model, dmu, dlogvar)


@right(E)
def split_columns(model, dout, z_cache, dmu_kl, dlogvar_kl):
    dz = np.split(model.decoder.backward(dout), [model.latent_dim], axis=1)[0]
    dmu, dlogvar = ops.reparameterize_backward(dz, z_cache)
    dmu += model.beta * dmu_kl
    dlogvar += model.beta * dlogvar_kl
    return _heads(model, dmu, dlogvar)


@right(E)
def logvar_head_first(model, dout, z_cache, dmu_kl, dlogvar_kl):
    J = model.latent_dim
    dz = model.decoder.backward(dout)[:, :J]
    dmu, dlogvar = ops.reparameterize_backward(dz, z_cache)
    dh = model.blocks["logvar"].backward(dlogvar + model.beta * dlogvar_kl)
    dh = dh + model.blocks["mu"].backward(dmu + model.beta * dmu_kl)
    model.encoder.backward(dh, need_input_grad=False)
    return model._collect_grads()


@right(E)
def encoder_with_its_input_gradient(model, dout, z_cache, dmu_kl, dlogvar_kl):
    dz = model.decoder.backward(dout)[:, :model.latent_dim]
    dmu, dlogvar = ops.reparameterize_backward(dz, z_cache)
    dh = model.blocks["mu"].backward(dmu + model.beta * dmu_kl)
    dh += model.blocks["logvar"].backward(dlogvar + model.beta * dlogvar_kl)
    model.encoder.backward(dh)
    return model._collect_grads()


@wrong(E, "a CVAE's dz taken from the last J columns (the labels') instead of the first J")
def last_columns(model, dout, z_cache, dmu_kl, dlogvar_kl):
    dz = model.decoder.backward(dout)[:, -model.latent_dim:]
    dmu, dlogvar = ops.reparameterize_backward(dz, z_cache)
    return _heads(model, dmu + model.beta * dmu_kl, dlogvar + model.beta * dlogvar_kl)


@wrong(E, "β on the reconstruction's part instead of the KL's")
def beta_on_the_wrong_term(model, dout, z_cache, dmu_kl, dlogvar_kl):
    dz = model.decoder.backward(dout)[:, :model.latent_dim]
    dmu, dlogvar = ops.reparameterize_backward(dz, z_cache)
    return _heads(model, model.beta * dmu + dmu_kl, model.beta * dlogvar + dlogvar_kl)


@wrong(E, "dz not cut to its first J columns (a CVAE's labels too)", "broadcast")
def all_columns(model, dout, z_cache, dmu_kl, dlogvar_kl):
    dz = model.decoder.backward(dout)
    dmu, dlogvar = ops.reparameterize_backward(dz, z_cache)
    return _heads(model, dmu + model.beta * dmu_kl, dlogvar + model.beta * dlogvar_kl)


@wrong(E, "dlogvar by hand without the ½")
def reparameterization_without_half(model, dout, z_cache, dmu_kl, dlogvar_kl):
    dz = model.decoder.backward(dout)[:, :model.latent_dim]
    return _heads(model, dz + model.beta * dmu_kl, dz * z_cache.std * z_cache.eps + model.beta * dlogvar_kl)


@wrong(E, "the logvar head's gradient counted twice, the μ head's never")
def logvar_head_twice(model, dout, z_cache, dmu_kl, dlogvar_kl):
    dz = model.decoder.backward(dout)[:, :model.latent_dim]
    dmu, dlogvar = ops.reparameterize_backward(dz, z_cache)
    model.blocks["mu"].backward(dmu + model.beta * dmu_kl)
    dh = model.blocks["logvar"].backward(dlogvar + model.beta * dlogvar_kl)
    model.encoder.backward(2 * dh, need_input_grad=False)
    return model._collect_grads()


@wrong(E, "the KL's gradients subtracted")
def kl_subtracted(model, dout, z_cache, dmu_kl, dlogvar_kl):
    dz = model.decoder.backward(dout)[:, :model.latent_dim]
    dmu, dlogvar = ops.reparameterize_backward(dz, z_cache)
    return _heads(model, dmu - model.beta * dmu_kl, dlogvar - model.beta * dlogvar_kl)
