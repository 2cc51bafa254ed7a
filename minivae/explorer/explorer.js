// The explorer's views: every picture and every number on the page is a function of one
// state (below), drawn by render(). The controls (controls.js) only change the state and
// ask for a render; nothing else is remembered between frames except caches keyed by the
// state they were computed from. Every number comes from nn.js (encode, decode, terms).
//
// For tests and benchmarks, minivae.view exposes:
//   minivae.view.state       the state: z, the label, the cloud's source, the strokes, eps, ...
//   minivae.view.derived()   what render() draws from it: the cloud, its terms, the samples, ...
//   minivae.view.renderNow() draw now (the page itself draws once per animation frame)
//   minivae.view.stats()     frames drawn and milliseconds per frame
"use strict";

(function () {
  const M = window.minivae;
  const data = M.data;
  const { side, latent_dim: J, n_classes: C, input_dim: D } = M.info;
  const [pa, pb] = data.plane.dims; // the coordinates of z shown across and up
  const R = data.plane.extent; // the plane shows [-R, R] in both
  const heldout = data.heldout;
  const heldMu = M.float32FromBase64(heldout.mu);
  const heldPixels = M.bytesFromBase64(heldout.pixels);
  const heldLabels = heldout.labels; // null when the page was made without labels
  const N = heldout.n;
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const N_SAMPLES = 8;
  const WALK_STEPS = 10;
  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------ the one state
  const state = {
    z: Float64Array.from(data.plane.held), // the code decoded in panel 2 (unless zFrom is "mu")
    zFrom: "start", // "start" | "pointer" | "keys" | "slider" | "prior" | "mu" (z follows the cloud's mu)
    label: 0,
    source: null, // whose cloud q(z | x): null, "drawing", or k, the index of a held-out digit
    strokes: [], // the drawing, as lists of [x, y] in pad pixels
    strokesVersion: 0, // bumped on every change of strokes
    eps: [], // the eps of the samples: z_s = mu + sigma * eps_s
    epsVersion: 0,
    noise: 1, // the seed of the draw from p(x | z) beside the decoded mean
    walk: { picking: 0, A: null, B: null, whatA: "", whatB: "" },
    step: R > 6 ? 0.2 : 0.1, // how far an arrow key moves z
  };
  const timing = { frames: 0, totalMs: 0, lastMs: 0 };

  // ------------------------------------------------------------ small helpers
  function colourOf(k) {
    if (heldLabels === null) return "#555";
    const c = heldLabels[k];
    return c < PALETTE.length ? PALETTE[c] : `hsl(${(c * 47) % 360}, 60%, 45%)`;
  }
  const heldMuOf = (k) => heldMu.subarray(k * J, (k + 1) * J);
  const fmt = (v, digits = 2) => { // a minus sign that reads as one, and never "-0.00"
    const text = Math.abs(v).toFixed(digits);
    return (v < 0 && Number(text) !== 0 ? "\u2212" : "") + text;
  };
  const vec = (a, digits = 2) => `(${Array.from(a, (v) => fmt(v, digits)).join(", ")})`;
  const onPlane = (a) => (J === 2 ? vec(a) : `(${fmt(a[pa])}, ${fmt(a[pb])})`); // the plane's two coordinates
  const whatDot = (k) => (heldLabels === null ? "a held-out digit" : `a held-out ${heldLabels[k]}`);
  const key = (a) => Array.prototype.join.call(a, ",");

  function setText(el, text) { if (el.textContent !== text) el.textContent = text; }
  function setLabel(el, text) { if (el.getAttribute("aria-label") !== text) el.setAttribute("aria-label", text); }

  // pixels in [0, 1], ink dark on white like minivae.plots (values outside are clipped)
  function paintDigit(canvas, pixels) {
    if (canvas.width !== side) { canvas.width = side; canvas.height = side; }
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(side, side);
    for (let i = 0; i < D; i++) {
      const v = Math.round(255 * (1 - Math.min(1, Math.max(0, pixels[i]))));
      img.data[4 * i] = v; img.data[4 * i + 1] = v; img.data[4 * i + 2] = v; img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  function digitStrip(container, n, captions) {
    container.textContent = "";
    const canvases = [];
    for (let i = 0; i < n; i++) {
      const fig = document.createElement("figure");
      const canvas = document.createElement("canvas");
      canvas.className = "digit";
      canvas.setAttribute("role", "img");
      fig.appendChild(canvas);
      if (captions) {
        const cap = document.createElement("figcaption");
        cap.textContent = captions[i];
        fig.appendChild(cap);
      }
      container.appendChild(fig);
      canvases.push(canvas);
    }
    return canvases;
  }

  // seeded generators, so that the page behaves the same on every load (mulberry32)
  function generator(seed) {
    let s = seed | 0;
    const uniform = () => {
      s = (s + 0x6d2b79f5) | 0;
      let t = Math.imul(s ^ (s >>> 15), 1 | s);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()); // Box-Muller
    return { uniform, normal };
  }
  const noise = generator(12345); // the eps of Sample and of the prior

  // ------------------------------------------------------------ what the state implies
  const memo = {};
  function cached(name, k, compute) {
    const m = memo[name];
    if (m && m.key === k) return m.value;
    const value = compute();
    memo[name] = { key: k, value };
    return value;
  }

  const maker = M.drawing.pixelMaker(side, data.pad, $("pad").width); // pad.js

  function sourcePixels() {
    if (state.source === null) return null;
    if (state.source === "drawing") return cached("drawing", state.strokesVersion, () => maker.pixels(state.strokes));
    const k = state.source;
    return cached("dot", k, () => Float64Array.from(heldPixels.subarray(k * D, (k + 1) * D), (v) => v / 255));
  }

  function sourceName() {
    if (state.source === null) return "";
    if (state.source === "drawing") return `your drawing${C > 0 ? `, told it is a ${state.label}` : ""}`;
    const own = C > 0 && heldLabels[state.source] === state.label;
    return whatDot(state.source) + (C === 0 ? "" : own ? " (encoded with its own label)" : `, told it is a ${state.label}`);
  }

  // the cloud q(z | x) of the source, its terms at z = mu, and the samples z = mu + sigma eps
  function cloudOf(x) {
    const srcKey = `${state.source === "drawing" ? "d" + state.strokesVersion : state.source}|${state.label}`;
    const cloud = cached("cloud", srcKey, () => {
      const t = M.termsFast(x, state.label, new Float64Array(J)); // eps = 0: z = mu
      return { mu: t.mu, logvar: t.logvar, sigma: M.sigmaOf(t.logvar), klPerDim: t.klPerDim, kl: t.kl,
        recon: t.recon, elbo: t.elbo };
    });
    const samples = cached("samples", `${srcKey}|${state.epsVersion}`, () => state.eps.map((eps) => {
      const z = Float64Array.from(cloud.mu, (m, j) => m + cloud.sigma[j] * eps[j]); // z = mu + sigma * eps
      const raw = M.decodeRaw(z, state.label);
      const recon = M.reconFromRaw(raw, x);
      return { eps, z, mean: M.meanFromRaw(raw), recon, elbo: -recon - cloud.kl };
    }));
    return { cloud, samples };
  }

  function nearestDot(z) { // the held-out mu closest to z on the plane
    let best = -1;
    let bestD = Infinity;
    for (let k = 0; k < N; k++) {
      const d = (heldMu[k * J + pa] - z[pa]) ** 2 + (heldMu[k * J + pb] - z[pb]) ** 2;
      if (d < bestD) { bestD = d; best = k; }
    }
    return { k: best, distance: Math.sqrt(bestD) };
  }

  // the code shown: state.z, or the cloud's mu while z follows it (cheap: no decoding)
  function currentZ() {
    const x = sourcePixels();
    return state.zFrom === "mu" && x ? cloudOf(x).cloud.mu : state.z;
  }

  function derived() {
    const x = sourcePixels();
    const { cloud, samples } = x ? cloudOf(x) : { cloud: null, samples: [] };
    const z = state.zFrom === "mu" && cloud ? cloud.mu : state.z;
    const zKey = `${key(z)}|${state.label}`;
    const decoded = cached("decoded", zKey, () => M.decodeFast(z, state.label));
    const draw = cached("draw", `${zKey}|${state.noise}`, () => {
      const g = generator(state.noise);
      return data.likelihood === "bernoulli"
        ? decoded.map((p) => (g.uniform() < p ? 1 : 0)) // each pixel inked with probability p
        : decoded.map((m) => m + data.sigma * g.normal());
    });
    const nearest = cached("nearest", `${z[pa]},${z[pb]}`, () => nearestDot(z));
    const { A, B } = state.walk;
    const walk = A && B ? cached("walk", `${key(A)}|${key(B)}|${state.label}`, () => Array.from(
      { length: WALK_STEPS }, (_, s) => {
        const t = s / (WALK_STEPS - 1);
        return M.decodeFast(A.map((a, j) => (1 - t) * a + t * B[j]), state.label); // (1 - t) A + t B
      })) : null;
    const everyLabel = C > 0 ? cached("every", zKey, () => Array.from(
      { length: C }, (_, c) => (c === state.label ? decoded : M.decodeFast(z, c)))) : [];
    return { x, cloud, samples, z, decoded, draw, nearest, walk, everyLabel };
  }

  // ------------------------------------------------------------ the views
  const plane = M.planeWindow($("plane"), { dims: [pa, pb], dots: { n: N, mu: heldMu }, colourOf, stride: J });
  plane.setWindow(0, 0, R);
  const inset = M.planeWindow($("inset"), { dims: [pa, pb], dots: { n: N, mu: heldMu }, colourOf, stride: J });
  const everyLabelCanvases = C > 0
    ? digitStrip($("every-label"), C, Array.from({ length: C }, (_, c) => `label ${c}`)) : [];
  const WALK_CAPTIONS = Array.from({ length: WALK_STEPS }, (_, s) => (s === 0 ? "A" : s === WALK_STEPS - 1 ? "B"
    : `t=${(s / (WALK_STEPS - 1)).toFixed(2).slice(1)}`)); // never a lone digit, which would read as a label
  const walkCanvases = digitStrip($("walk-strip"), WALK_STEPS, WALK_CAPTIONS);
  const painted = new Map(); // canvas -> the array last painted into it
  function paint(canvas, pixels) {
    if (painted.get(canvas) === pixels) return;
    painted.set(canvas, pixels);
    paintDigit(canvas, pixels);
  }

  function zNote(d) {
    const density = Math.exp(-0.5 * d.z.reduce((a, v) => a + v * v, 0)); // N(z; 0, I) over its peak
    const from = {
      start: "z starts at the mean of the held-out μ.",
      pointer: "z under the pointer.",
      keys: `z moved with the arrow keys (step ${state.step}).`,
      slider: "z set with the sliders.",
      prior: "z drawn from the prior N(0, I): z = ε.",
      mu: d.cloud ? `z = μ of ${sourceName()}.` : "z",
    }[state.zFrom];
    const far = d.nearest.distance > 0.5 && density < 0.01;
    const text = `${from} The prior's density here is ${(100 * density).toPrecision(2)} % of its peak.` +
      (far ? " Far from every held-out μ and where the prior puts little mass: the decoder never trained " +
        "here, so what it draws means little." : "");
    return { text, far };
  }

  function drawCloudPanel(d) {
    const { cloud, samples } = d;
    $("numbers").hidden = cloud === null;
    $("sample").disabled = cloud === null;
    $("held-posterior").disabled = cloud === null;
    if (cloud === null) {
      setText($("posterior-note"), "Draw a digit (or click a dot on the plane, or press Enter there): its cloud " +
        "q(z | x), its KL and its ELBO appear here and on the plane.");
      return;
    }
    setText($("posterior-note"), `The cloud q(z | x) of ${sourceName()}: μ, σ = exp(logvar / 2) and the KL of ` +
      "each coordinate (shaded: the two on the plane, where the ellipses show 1σ and 2σ).");
    const rows = [["", "μ", "σ", "KL (nats)"]];
    for (let j = 0; j < J; j++) {
      rows.push([`z[${j}]`, fmt(cloud.mu[j], 3), cloud.sigma[j].toFixed(3), cloud.klPerDim[j].toFixed(3)]);
    }
    rows.push(["total", "", "", cloud.kl.toFixed(3)]);
    fillTable($("posterior"), rows, (r) => r - 1 === pa || r - 1 === pb);
    setText($("elbo-line"), `At z = μ: −log p(x | z) = ${cloud.recon.toFixed(2)} nats; ` +
      `ELBO = −${cloud.recon.toFixed(2)} − ${cloud.kl.toFixed(2)} = ${fmt(cloud.elbo)} nats.`);
    const strip = $("samples");
    if (strip.children.length !== samples.length) digitStrip(strip, samples.length, samples.map((_, s) => `sample ${s + 1}`));
    const canvases = strip.querySelectorAll("canvas");
    const table = [["", "−log p(x|z)", "ELBO", "ε", "z"]]; // the numbers first: on a narrow screen ε, z scroll
    samples.forEach((s, i) => {
      paint(canvases[i], s.mean);
      setLabel(canvases[i], `sample ${i + 1}: ε = ${vec(s.eps)}, z = ${vec(s.z)}, ` +
        `−log p(x | z) = ${s.recon.toFixed(2)} nats`);
      table.push([`${i + 1}`, s.recon.toFixed(2), fmt(s.elbo), onPlane(s.eps), onPlane(s.z)]);
    });
    fillTable($("sample-table"), samples.length ? table : [], () => false);
    const where = J === 2 ? "" : ` on the plane's coordinates (z[${pa}], z[${pb}]; all ${J} in each picture's name)`;
    setText($("sample-note"), samples.length
      ? `Each sample: −log p(x | z) and its ELBO in nats, its ε and its z = μ + σ·ε${where}.` : "");
  }

  function fillTable(table, rows, shaded) {
    const k = JSON.stringify(rows);
    if (table.dataset.shows === k) return;
    table.dataset.shows = k;
    table.textContent = "";
    rows.forEach((row, r) => {
      const tr = table.insertRow();
      if (shaded(r)) tr.className = "in-plane";
      row.forEach((cell, c) => {
        const td = document.createElement(r === 0 || c === 0 ? "th" : "td");
        td.textContent = cell;
        tr.appendChild(td);
      });
    });
  }

  function drawInset(d) {
    const { cloud } = d;
    if (cloud === null) {
      const ctx = $("inset").getContext("2d");
      ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, 224, 224);
      ctx.fillStyle = "#777"; ctx.font = "13px system-ui, sans-serif";
      ctx.fillText("draw a digit: its cloud", 38, 105); ctx.fillText("appears here, zoomed", 44, 124);
      setText($("inset-caption"), "the cloud, zoomed");
      setLabel($("inset"), "the cloud at its own scale: no cloud yet");
      return;
    }
    const half = 3 * Math.max(cloud.sigma[pa], cloud.sigma[pb]); // 2 sigma fills two thirds
    inset.setWindow(cloud.mu[pa], cloud.mu[pb], half);
    inset.draw({ z: d.z, nearest: d.nearest.k, cloud, samples: d.samples, walk: null, labels: false });
    const caption = `zoomed ×${(R / half).toFixed(1)}: ±${half.toPrecision(2)} around μ`;
    setText($("inset-caption"), caption);
    setLabel($("inset"), `the cloud at its own scale, ${caption}; σ = (${fmt(cloud.sigma[pa], 3)}, ` +
      `${fmt(cloud.sigma[pb], 3)}) on the plane's coordinates`);
  }

  function drawTexts(d) {
    setText($("z-readout"), `z = ${vec(d.z)}`);
    const note = zNote(d);
    setText($("z-note"), note.text);
    $("z-note").classList.toggle("far", note.far);
    setLabel($("decoded"), `the digit decoded at z = ${vec(d.z)}${C > 0 ? ` under the label ${state.label}` : ""}`);
    const k = d.nearest.k;
    if (k >= 0) {
      setText($("nearest-note"), `${whatDot(k)}, its μ ${d.nearest.distance.toFixed(2)} from z on the plane: ` +
        `z[${pa}] = ${fmt(heldMu[k * J + pa])}, z[${pb}] = ${fmt(heldMu[k * J + pb])}. Click it (or Enter) for its cloud.`);
    }
    for (const s of sliders) {
      const v = d.z[s.j];
      if (Number(s.input.value) !== v && document.activeElement !== s.input) s.input.value = String(v);
      setText(s.out, fmt(v));
    }
    for (const b of $("label-buttons").children) {
      const on = Number(b.dataset.label) === state.label;
      if (b.classList.contains("selected") !== on) {
        b.classList.toggle("selected", on);
        b.setAttribute("aria-pressed", String(on));
      }
    }
    setText($("step"), String(state.step));
    const { A, B, picking } = state.walk;
    $("walk").classList.toggle("picking", picking > 0);
    setText($("walk-status"), picking === 1 ? "Click A on the plane (a dot, or any point)."
      : picking === 2 ? `A: ${state.walk.whatA}. Now click B.`
        : A && B ? `From A (${state.walk.whatA}) to B (${state.walk.whatB}), in ${WALK_STEPS} steps, t from 0 to 1:`
          : A ? `A: ${state.walk.whatA}; press B on the plane for B.` : "");
    announce(d);
  }

  // the polite live region: z and the numbers, once the learner pauses
  let announceTimer = null;
  function announce(d) {
    const parts = [`z = ${vec(d.z)}`];
    if (d.far) parts.push("far outside the prior");
    if (d.cloud) {
      parts.push(`cloud of ${sourceName()}: KL ${d.cloud.kl.toFixed(2)} nats, ` +
        `minus log p of x given z at mu ${d.cloud.recon.toFixed(2)} nats, ELBO ${d.cloud.elbo.toFixed(2)} nats`);
      if (d.samples.length) parts.push(`${d.samples.length} samples`);
    }
    const text = parts.join("; ") + ".";
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => setText($("announce"), text), 300);
  }

  function render() {
    const t0 = performance.now();
    const d = derived();
    paint($("decoded"), d.decoded);
    paint($("draw"), d.draw);
    if (d.nearest.k >= 0) {
      const k = d.nearest.k;
      paint($("nearest-real"), cached("dot", k, () => Float64Array.from(heldPixels.subarray(k * D, (k + 1) * D),
        (v) => v / 255)));
      paint($("nearest-recon"), cached("dotRecon", k, () => M.decodeFast(heldMuOf(k), C > 0 ? heldLabels[k] : 0)));
    }
    paint($("seen"), d.x && state.source === "drawing" ? d.x : blank);
    d.everyLabel.forEach((pixels, c) => paint(everyLabelCanvases[c], pixels));
    walkCanvases.forEach((canvas, s) => {
      paint(canvas, d.walk ? d.walk[s] : blank);
      setLabel(canvas, `walk, t = ${(s / (WALK_STEPS - 1)).toFixed(2)}` + (d.walk ? "" : ": not drawn yet"));
    });
    drawCloudPanel(d);
    d.far = zNote(d).far;
    drawTexts(d);
    plane.draw({ z: d.z, nearest: d.nearest.k, cloud: d.cloud, samples: d.samples, labels: true,
      walk: { A: state.walk.A, B: state.walk.B, steps: WALK_STEPS } });
    drawInset(d);
    const ms = performance.now() - t0;
    timing.frames += 1; timing.totalMs += ms; timing.lastMs = ms;
  }
  const blank = new Float64Array(D);

  let pending = false;
  function requestRender() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; render(); });
  }

  const sliders = []; // one per coordinate off the plane, built by controls.js: {j, input, out}

  M.view = {
    state,
    derived,
    currentZ,
    renderNow: render,
    requestRender,
    stats: () => ({ frames: timing.frames, meanMs: timing.totalMs / Math.max(1, timing.frames), lastMs: timing.lastMs }),
    resetStats: () => { timing.frames = 0; timing.totalMs = 0; timing.lastMs = 0; },
    padPixels: () => maker.pixels(state.strokes),
    sliders,
    plane,
    noise,
    heldMuOf,
    whatDot,
    colourOf,
    maker,
    consts: { pa, pb, R, J, C, D, N, side, N_SAMPLES, WALK_STEPS, heldLabels, heldMu },
  };
})();
