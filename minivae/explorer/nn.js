// The forward pass of a minivae VAE or CVAE, in plain JavaScript.
//
// It mirrors the Python library line for line: `dense` is minivae/ops/dense.py's
// x @ W + b, ACTIVATIONS are minivae/ops/activations.py (the stable sigmoid and
// softplus included), and `encode` / `decode` are VAE.encode / VAE.decode of
// minivae/models/vae.py (a CVAE appends the one-hot label to the encoder's input and
// to the code the decoder reads, docs/derivations.md §9.4). The weights arrive as
// float32, exactly as the model stores them; every sum here is done in float64, so the
// results equal NumPy's to float32 rounding (the browser tests check it).
//
// The contract, for tests and teachers (type these in the browser's console):
//   minivae.encode(pixels, label) -> {mu: [...], logvar: [...]}   (label ignored by a VAE)
//   minivae.decode(z, label)      -> [...] the mean of p(x | z): one number per pixel
//   minivae.terms(pixels, label, eps) -> {kl, klPerDim, recon, elbo, mu, logvar, z}
//       the one-sample ELBO of minivae's VAE.loss_terms_and_grads for z = mu + sigma * eps:
//       kl = KL(q(z | x) || N(0, I)) (§5.1), recon = -log p(x | z) in nats (§9.2),
//       elbo = -recon - kl (§9.1); eps = zeros gives the terms at z = mu
//   minivae.info                  -> sizes, the plane, the architecture
"use strict";

(function (global) {
  // ------------------------------------------------------------ reading the embedded arrays
  function bytesFromBase64(text) {
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  // little-endian float32 -> a Float64Array (every float32 is exactly a float64), or a
  // Float32Array for the weights: half the memory to stream through on every decode
  function float32FromBase64(text, Type = Float64Array) {
    const bytes = bytesFromBase64(text);
    const view = new DataView(bytes.buffer);
    const out = new Type(bytes.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }

  // ------------------------------------------------------------ the ops (§1, §3)
  // dense: out_j = b_j + sum_i x_i W_ij, with W stored row by row, shape (in, out)
  function dense(x, layer) {
    const { W, b, nIn, nOut } = layer;
    const out = Float64Array.from(b);
    for (let i = 0; i < nIn; i++) {
      const xi = x[i];
      if (xi === 0) continue; // blank pixels and silent ReLUs add nothing
      const row = i * nOut;
      for (let j = 0; j < nOut; j++) out[j] += xi * W[row + j];
    }
    return out;
  }

  // e = exp(-|x|) never overflows; sigma(x) = 1/(1+e) for x >= 0 and e/(1+e) for x < 0 (§3.3)
  function sigmoid(x) {
    const e = Math.exp(-Math.abs(x));
    return (x >= 0 ? 1 : e) / (1 + e);
  }

  const ACTIVATIONS = {
    relu: () => (x) => Math.max(x, 0), // §3.1
    leaky_relu: (layer) => (x) => (x > 0 ? x : layer.negative_slope * x), // §3.2
    sigmoid: () => sigmoid, // §3.3
    tanh: () => Math.tanh, // §3.4
    softplus: () => (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), // §3.5
    linear: () => (x) => x,
  };

  function buildLayer(spec) {
    if (spec.type === "dense") {
      const W = float32FromBase64(spec.W, Float32Array); // read into float64 arithmetic, exactly
      const b = float32FromBase64(spec.b);
      if (W.length !== spec.in * spec.out || b.length !== spec.out) {
        throw new Error(`a dense layer's arrays do not match its shape (${spec.in}, ${spec.out})`);
      }
      return { type: "dense", W, b, nIn: spec.in, nOut: spec.out };
    }
    if (!(spec.type in ACTIVATIONS)) throw new Error(`unknown layer type ${spec.type}`);
    return { type: spec.type, f: ACTIVATIONS[spec.type](spec) };
  }

  // a block (encoder, mu, logvar, decoder) is a list of layers applied in order
  function forward(block, x) {
    let h = x;
    for (const layer of block) {
      if (layer.type === "dense") {
        h = dense(h, layer);
      } else {
        const out = new Float64Array(h.length);
        for (let i = 0; i < h.length; i++) out[i] = layer.f(h[i]);
        h = out;
      }
    }
    return h;
  }

  // ------------------------------------------------------------ the model
  function buildModel(data) {
    const blocks = {};
    for (const name of ["encoder", "mu", "logvar", "decoder"]) blocks[name] = data.blocks[name].map(buildLayer);
    const D = data.input_dim;
    const J = data.latent_dim;
    const C = data.n_classes; // 0 for a VAE
    const bernoulli = data.likelihood === "bernoulli";
    const output = bernoulli ? sigmoid : (x) => x;
    const s2 = data.sigma * data.sigma; // the Gaussian likelihood's fixed variance

    function vector(values, n, name) {
      if (values == null || typeof values.length !== "number") {
        throw new TypeError(`${name} must be an array of ${n} numbers; got ${values}`);
      }
      if (values.length !== n) throw new RangeError(`${name} must hold ${n} numbers; got ${values.length}`);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = Number(values[i]);
        if (!Number.isFinite(v)) throw new RangeError(`${name}[${i}] must be a finite number; got ${values[i]}`);
        out[i] = v;
      }
      return out;
    }

    // [a, onehot(label)] for a CVAE; a itself for a VAE (the label is ignored)
    function withLabel(a, label) {
      if (C === 0) return a;
      if (!Number.isInteger(label) || label < 0 || label >= C) {
        throw new RangeError(`label must be a whole number in [0, ${C}) for this CVAE; got ${label}`);
      }
      const out = new Float64Array(a.length + C);
      out.set(a);
      out[a.length + label] = 1;
      return out;
    }

    // the fast versions take and return Float64Arrays; the page calls them on every frame
    function encodeFast(x, label) {
      const h = forward(blocks.encoder, withLabel(x, label));
      return { mu: forward(blocks.mu, h), logvar: forward(blocks.logvar, h) };
    }

    // the decoder's raw output: logits (Bernoulli) or the pixel means (Gaussian)
    function decodeRaw(z, label) {
      return forward(blocks.decoder, withLabel(z, label));
    }

    function decodeFast(z, label) {
      const out = decodeRaw(z, label);
      for (let i = 0; i < out.length; i++) out[i] = output(out[i]);
      return out;
    }

    // sigma = exp(logvar / 2): the standard deviation, never the variance exp(logvar)
    function sigmaOf(logvar) {
      return Float64Array.from(logvar, (lv) => Math.exp(0.5 * lv));
    }

    // KL(N(mu, sigma^2) || N(0, 1)) of each coordinate: (mu^2 + e^logvar - 1 - logvar) / 2 (§5.1)
    function klPerDim(mu, logvar) {
      return Float64Array.from(mu, (m, j) => 0.5 * (m * m + Math.exp(logvar[j]) - 1 - logvar[j]));
    }

    // -log p(x | z) in nats from the decoder's raw output (§9.2): for Bernoulli
    // sum_i softplus(l_i) - x_i l_i (bce_with_logits), for Gaussian
    // |x - mean|^2 / (2 s^2) + D/2 log(2 pi s^2)
    function reconFromRaw(out, x) {
      let sum = 0;
      if (bernoulli) {
        for (let i = 0; i < D; i++) {
          const l = out[i];
          sum += Math.max(l, 0) + Math.log1p(Math.exp(-Math.abs(l))) - x[i] * l;
        }
        return sum;
      }
      for (let i = 0; i < D; i++) sum += (x[i] - out[i]) ** 2;
      return sum * (0.5 / s2) + 0.5 * D * Math.log(2 * Math.PI * s2);
    }

    // the terms of the one-sample ELBO for z = mu + sigma * eps (§5.2, §9.1)
    function termsFast(x, label, eps) {
      const { mu, logvar } = encodeFast(x, label);
      const sigma = sigmaOf(logvar);
      const z = Float64Array.from(mu, (m, j) => m + sigma[j] * eps[j]);
      const perDim = klPerDim(mu, logvar);
      const kl = perDim.reduce((a, b) => a + b, 0);
      const recon = reconFromRaw(decodeRaw(z, label), x);
      return { kl, klPerDim: perDim, recon, elbo: -recon - kl, mu, logvar, z };
    }

    return {
      info: {
        kind: data.kind, input_dim: D, side: data.side, latent_dim: J, n_classes: C,
        hidden_dims: data.hidden_dims, activation: data.activation, likelihood: data.likelihood,
        plane: data.plane,
      },
      encode(pixels, label) {
        const { mu, logvar } = encodeFast(vector(pixels, D, "pixels"), label);
        return { mu: Array.from(mu), logvar: Array.from(logvar) };
      },
      decode(z, label) {
        return Array.from(decodeFast(vector(z, J, "z"), label));
      },
      terms(pixels, label, eps) {
        const t = termsFast(vector(pixels, D, "pixels"), label, vector(eps, J, "eps"));
        return { kl: t.kl, klPerDim: Array.from(t.klPerDim), recon: t.recon, elbo: t.elbo,
          mu: Array.from(t.mu), logvar: Array.from(t.logvar), z: Array.from(t.z) };
      },
      encodeFast,
      decodeFast,
      decodeRaw,
      meanFromRaw: (out) => Float64Array.from(out, output),
      termsFast,
      reconFromRaw,
      sigmaOf,
      klPerDim,
      float32FromBase64,
      bytesFromBase64,
    };
  }

  // a page of several models holds {models: [...]}; #model=i in the address picks one
  const record = JSON.parse(document.getElementById("minivae-model").textContent);
  const all = record.models || [record];
  const asked = /(?:^#|&)model=(\d+)/.exec(global.location.hash);
  const index = asked && Number(asked[1]) < all.length ? Number(asked[1]) : 0;
  global.minivae = buildModel(all[index]);
  global.minivae.data = all[index];
  global.minivae.models = { titles: all.map((r) => r.title), index };
})(window);
