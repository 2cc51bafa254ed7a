"""Numbers and claims of docs/derivations.md, measured with the library itself.

Each test names the section whose sentence it checks. Where the doc shows a table or a
code block, the test reads it from the doc, so the two cannot drift apart.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from minivae import VAE, Adam, Autoencoder, SparseAutoencoder, ops, to_numpy
from minivae.gradcheck import numerical_gradient
from minivae.models.sparse import kl_sparsity
from tests.test_derivation_bounds import sparse_excess_bound
from tests.test_models_variants import digits  # noqa: F401 - the digits split (75 % / 25 %, seed 0)

DOC = Path(__file__).resolve().parent.parent / "docs" / "derivations.md"


def _doc():
    return DOC.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- §5.1
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_kl_of_a_tiny_logvar_is_never_negative(dtype):
    """§5.1: with expm1 the KL of one entry is >= 0, and close to logvar^2/4, for tiny logvar.

    With the literal exp(logvar) - 1 - logvar, about a third of these float32 values
    give a negative KL (down to about -4.5e-8).
    """
    logvar = np.concatenate([np.geomspace(1e-9, 3e-4, 600), -np.geomspace(1e-9, 3e-4, 600)]).astype(dtype)
    mu = np.zeros(1, dtype=dtype)
    kl = np.array([float(ops.kl_standard_normal(mu[None], lv.reshape(1, 1))[0]) for lv in logvar])
    assert (kl >= 0).all(), logvar[kl < 0][:5]
    exact = np.expm1(logvar.astype(np.float64)) - logvar.astype(np.float64)  # float64 reference
    np.testing.assert_allclose(kl, 0.5 * exact, rtol=0, atol=float(np.finfo(dtype).eps) * 1e-3)


# ---------------------------------------------------------------------------- §6
def _two_point(f, theta, delta):
    grad = np.zeros_like(theta)
    for i in range(theta.size):
        old = theta[i]
        theta[i] = old + delta
        f_plus = f()
        theta[i] = old - delta
        f_minus = f()
        theta[i] = old
        grad[i] = (f_plus - f_minus) / (2 * delta)
    return grad


def test_the_stencil_error_is_fourth_order_and_the_two_point_error_second():
    """§6: halving the step divides the checker's error by about 16, the two-point rule's by 4."""
    theta = np.linspace(0.2, 0.9, 6)  # |theta| < 1, so the checker's step is exactly h

    def f():
        return float((np.sin(theta) * np.exp(theta / 3)).sum())

    exact = (np.cos(theta) + np.sin(theta) / 3) * np.exp(theta / 3)
    stencil = [np.abs(numerical_gradient(f, theta, h) - exact).max() for h in (1e-2, 5e-3)]
    two = [np.abs(_two_point(f, theta, d) - exact).max() for d in (1e-2, 5e-3)]
    assert 14 < stencil[0] / stencil[1] < 18, stencil
    assert 3.6 < two[0] / two[1] < 4.4, two
    # at the checker's own step the error is round-off: ~1e-12, far below the tolerance
    assert np.abs(numerical_gradient(f, theta, 1e-4) - exact).max() < 1e-10


def test_the_minimal_gradient_checks_of_section_6_run():
    """§6: both code blocks after "A minimal check" run and pass as printed."""
    section = _doc().split("## 6. Gradient checking")[1].split("## 7.")[0]
    blocks = re.findall(r"```python\n(.*?)```", section.split("**A minimal check**")[1], re.S)
    assert len(blocks) == 2
    from minivae.ops import dense_backward, dense_forward

    namespace = {"np": np, "dense_forward": dense_forward, "dense_backward": dense_backward}
    for block in blocks:
        exec(compile(block, "docs/derivations.md §6", "exec"), namespace)  # noqa: S102 - the doc's own code
    assert namespace["rel"].max() <= 1e-6


# ---------------------------------------------------------------------------- §7.3
@pytest.fixture(scope="module")
def sparse_model(digits):
    """The model of §7.3's "Choosing beta": 32 sigmoid units, rho = 0.05, beta = 3, 30 epochs."""
    model = SparseAutoencoder(64, (32,), 32, sparsity=0.05, seed=0)
    model.fit(digits[0], epochs=30, batch_size=64, optimizer=Adam(3e-3), verbose=False)
    return model


def test_sparsity_costs_about_3_5_nats_of_reconstruction(digits, sparse_model):
    """§7.3: against a plain autoencoder with a sigmoid code, trained alike, on held-out digits."""
    plain = Autoencoder(64, (32,), 32, code_activation="sigmoid", seed=0)
    plain.fit(digits[0], epochs=30, batch_size=64, optimizer=Adam(3e-3), verbose=False)
    recon = [float(m.loss_terms_and_grads(digits[1], grads=False)[0]["recon"]) for m in (sparse_model, plain)]
    assert recon[0] - recon[1] == pytest.approx(3.5, abs=0.7), recon


def test_the_sparse_penalty_on_a_batch_is_biased_upwards_as_the_formula_says(digits, sparse_model):
    """§7.3: E[P_B] - P_all ~ sum_j KL''(rho_j) Var(h_j) / (2B) (N - B)/(N - 1), on the trained model.

    Measured (seed 0): 0.19 nats at B = 8 (formula 6 % lower), 0.022 at B = 64 and 0.0046
    at B = 256 (formula within 3 %). Batches are cut from shuffles of the data, as fit does.
    """
    H = to_numpy(sparse_model.encode(digits[0])).astype(np.float64)
    N, rho = H.shape[0], 0.05
    rate, var = H.mean(axis=0), H.var(axis=0)
    assert 0.05 < np.median(var / (rho * (1 - rho))) < 0.15  # graded units: about a tenth
    P_all = float(kl_sparsity(H, rho, 1.0)[0])
    curvature = rho / rate**2 + (1 - rho) / (1 - rate) ** 2
    rng = np.random.default_rng(0)
    for B, doc_value, rel_tol in [(8, 0.19, 0.12), (64, 0.022, 0.06), (256, 0.0046, 0.06)]:
        values = []
        while len(values) < 2000:
            shuffled = H[rng.permutation(N)]
            values += [float(kl_sparsity(shuffled[s:s + B], rho, 1.0)[0]) for s in range(0, N - B + 1, B)]
        excess = np.mean(values) - P_all
        formula = float((0.5 * curvature * var / B * (N - B) / (N - 1)).sum())
        assert 0 < excess < sparse_excess_bound(rho, rate, B).sum()  # §7.3's bound, unit by unit
        assert excess == pytest.approx(formula, rel=rel_tol), (B, excess, formula)
        assert excess == pytest.approx(doc_value, rel=0.15), (B, excess)


def _code_bias_gradient(H, rho):
    """dP/dc_j of the KL penalty on codes H = sigmoid(u W + c): sum_b dh_bj h_bj (1 - h_bj)."""
    _, dh = kl_sparsity(H, rho, 1.0)
    return (dh * H * (1 - H)).sum(axis=0)


def test_the_sparse_gradient_on_a_batch_is_biased_by_the_gradient_of_the_excess(digits, sparse_model):
    """§7.3: E[dP_B/dc_j] - dP_all/dc_j = (N - B)/(B (N - 1)) [KL3 E[s] Var(h)/2 + KL2 Cov(h, s)],
    s = h (1 - h), KL2 and KL3 the second and third derivatives of KL(rho || .) at the rate;
    at B = 8 the two terms nearly cancel and the batch gradient is lower.

    Measured (4,000 batches, seed 1): terms -0.273 and +0.248 summed over the 32 units; the
    summed bias -0.0242 (standard error 0.0034), the formula's -0.0251, against whole-data
    gradients of 0.193 in total size; lower for all 32 units, for 7 by three standard errors.
    """
    H = to_numpy(sparse_model.encode(digits[0])).astype(np.float64)
    N, rho, B = H.shape[0], 0.05, 8
    rate, var, S = H.mean(axis=0), H.var(axis=0), H * (1 - H)
    whole = _code_bias_gradient(H, rho)
    rng = np.random.default_rng(1)
    batches = []
    while len(batches) < 4000:
        shuffled = H[rng.permutation(N)]
        batches += [_code_bias_gradient(shuffled[s:s + B], rho) for s in range(0, N - B + 1, B)]
    batches = np.array(batches)
    bias = batches.mean(axis=0) - whole
    noise = batches.sum(axis=1).std() / math.sqrt(len(batches))  # standard error of the summed bias
    k2 = rho / rate**2 + (1 - rho) / (1 - rate) ** 2
    k3 = -2 * rho / rate**3 + 2 * (1 - rho) / (1 - rate) ** 3
    cov = ((H - rate) * (S - S.mean(axis=0))).mean(axis=0)
    scale = (N - B) / (B * (N - 1))
    terms = float((scale * 0.5 * k3 * S.mean(axis=0) * var).sum()), float((scale * k2 * cov).sum())
    assert terms[0] < 0 < terms[1] and abs(sum(terms)) < 0.2 * terms[1], terms  # opposite signs, nearly cancelling
    assert bias.sum() < -3 * noise, (bias.sum(), noise)  # lower, and not by chance
    assert bias.sum() == pytest.approx(sum(terms), abs=3 * noise + 0.1 * abs(sum(terms))), (bias.sum(), terms)
    assert (bias < 0).all(), bias  # lower for each of the 32 units
    assert terms == pytest.approx((-0.27, 0.25), abs=0.01) and bias.sum() == pytest.approx(-0.024, abs=0.0015)
    assert np.abs(whole).sum() == pytest.approx(0.19, abs=0.01)  # the numbers §7.3 quotes


# ---------------------------------------------------------------------------- §8
def _stuck_table():
    """The table after <!-- adam-t-stuck-at-1 --> as {t: ratio}."""
    text = _doc().split("<!-- adam-t-stuck-at-1 -->")[1].strip().split("\n")
    steps = [int(c) for c in text[0].strip("|").split("|")[1:]]
    ratios = [float(c) for c in text[2].strip("|").split("|")[1:]]
    assert len(steps) == len(ratios) >= 8
    return dict(zip(steps, ratios))


def test_adam_with_t_stuck_at_1_takes_the_steps_of_the_table():
    """§8: with the same gradients, the step with t stuck at 1 over the correct step."""
    table = _stuck_table()
    opt = Adam(lr=1e-3)
    rng = np.random.default_rng(0)
    p_right, p_stuck = np.zeros(4), np.zeros(4)
    s_right = {"m": np.zeros(4), "v": np.zeros(4), "t": 0}
    s_stuck = {"m": np.zeros(4), "v": np.zeros(4), "t": 0}
    for t in range(1, max(table) + 1):
        g = rng.normal(size=4) + 1.0
        before_right, before_stuck = p_right.copy(), p_stuck.copy()
        opt._update_reference("w", p_right, g, s_right)
        s_stuck["t"] = 0  # the bug: the count never advances past 1
        opt._update_reference("w", p_stuck, g, s_stuck)
        if t in table:
            ratio = (p_stuck - before_stuck) / (p_right - before_right)
            assert np.allclose(ratio, ratio[0], rtol=1e-6)  # a function of t alone
            assert ratio[0] == pytest.approx(table[t], abs=0.005), (t, ratio[0])
    assert s_right["t"] == max(table)
    limit = math.sqrt(1 - opt.beta2) / (1 - opt.beta1)
    assert table[max(table)] == pytest.approx(limit, abs=0.005)


# ---------------------------------------------------------------------------- §9.5
def test_a_small_sigma_gaussian_vae_has_log_weights_that_underflow_float64(digits):
    """§9.5: sigma_x = 0.05, 20 epochs: log p(x) from about -1200 to -140, median about -570;
    for about a fifth of the digits even the largest weight underflows in float64.
    """
    X_train, X_test = digits
    model = VAE(64, (32,), 4, likelihood="gaussian", sigma=0.05, seed=0, dtype="float64")
    model.fit(X_train, epochs=20, batch_size=64, optimizer=Adam(1e-3), verbose=False)
    K = 20
    ll = to_numpy(model.log_likelihood(X_test[:100], n_samples=K))
    assert np.isfinite(ll).all()
    assert -700 < np.median(ll) < -450 and ll.min() < -900 and ll.max() > -300, np.percentile(ll, [0, 50, 100])
    # every weight is at most K times their mean, so exp(ll + log K) bounds the largest one
    with np.errstate(under="ignore"):
        largest_weight_bound = np.exp(ll + math.log(K))
    underflows = largest_weight_bound == 0.0
    assert 0.12 < underflows.mean() < 0.35, underflows.mean()


# ---------------------------------------------------------------------------- references
def test_every_cited_work_is_in_the_references():
    """A citation "Surname ... (year)" or "(Surname ..., year)" in the text has an entry."""
    body, refs = _doc().split("\n## References\n")
    entries = refs.split("\n- ")
    names = r"(?:[A-Z][\w\u00c0-\u017f-]+(?:,? (?:and |et al\.,? )?)?){1,5}"
    cited = {(tuple(re.findall(r"[A-Z][\w\u00c0-\u017f-]+", m.group(1))), m.group(2))
             for m in re.finditer(rf"({names})\(?((?:19|20)\d\d)\b", body)}
    assert len(cited) >= 15, cited  # the pattern finds the citations
    missing = [(authors, year) for authors, year in cited
               if not any(all(a in entry for a in authors) and f"({year})" in entry for entry in entries)]
    assert not missing, missing


# ---------------------------------------------------------------------------- contents
def _github_anchor(heading):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_contents_list_every_section_and_each_link_reaches_it():
    """The contents near the top name each numbered section (and the references), in order."""
    text = _doc()
    contents = text.split("**Contents.**")[1].split("\n## ")[0]
    links = re.findall(r"^- \[([^\]]+)\]\(#([^)]+)\)", contents, flags=re.M)
    headings = re.findall(r"^## (\d+\. .+|References)$", text, flags=re.M)
    assert len(headings) >= 11, headings
    assert [anchor for _, anchor in links] == [_github_anchor(h) for h in headings], (links, headings)
    for (label, _), heading in zip(links, headings):
        number = heading.split(".")[0]
        assert label.startswith(f"§{number} ") or label == heading, (label, heading)
