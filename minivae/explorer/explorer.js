// The explorer's controls: the latent plane, the decoded digit, the drawing pad, the
// label buttons of a CVAE and the walk. Every number comes from minivae.encode and
// minivae.decode (nn.js); this file only draws and listens.
//
// For tests and benchmarks, minivae.view exposes the state and two helpers:
//   minivae.view.state      the current code z, the cloud (mu, logvar), the label, ...
//   minivae.view.renderNow() draw what changed, now (the page itself draws once per frame)
//   minivae.view.stats()    frames drawn and milliseconds per frame
"use strict";

(function () {
  const M = window.minivae;
  const data = M.data;
  const { side, latent_dim: J, n_classes: C, input_dim: D } = M.info;
  const [pa, pb] = data.plane.dims; // the coordinates of z shown across and up
  const R = data.plane.extent; // the plane shows [-R, R] in both
  const heldout = data.heldout;
  const heldMu = M.float32FromBase64(heldout.mu);
  const heldLogvar = M.float32FromBase64(heldout.logvar);
  const heldPixels = M.bytesFromBase64(heldout.pixels);
  const heldLabels = heldout.labels; // null when the page was made without labels
  const N = heldout.n;
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const N_SAMPLES = 8;
  const WALK_STEPS = 10;
  const $ = (id) => document.getElementById(id);

  const state = {
    z: Float64Array.from(data.plane.held), // the code shown in panel 2
    zSource: "start", // then "plane" (the pointer) or "drawing" (its mu)
    held: Float64Array.from(data.plane.held), // where the coordinates off the plane stay
    label: 0,
    decoded: null, // minivae.decode(z, label)
    cloud: null, // {mu, logvar, source: "drawing" | "held-out digit k"}
    strokes: [], // the drawing, as lists of [x, y] in pad pixels
    seen: null, // the pixels the encoder read from the drawing
    samples: [], // the z = mu + sigma * eps of the last press of Sample
    walk: { picking: 0, A: null, B: null },
    nearest: -1,
  };
  const dirty = { pad: false, decode: true, overlay: true, walk: false };
  const timing = { frames: 0, totalMs: 0, lastMs: 0 };

  // ------------------------------------------------------------ small helpers
  function colourOf(k) {
    if (heldLabels === null) return "#555";
    const c = heldLabels[k];
    return c < PALETTE.length ? PALETTE[c] : `hsl(${(c * 47) % 360}, 60%, 45%)`;
  }

  function heldMuOf(k) {
    return heldMu.subarray(k * J, (k + 1) * J);
  }

  function fmt(v) {
    return (v < 0 ? "\u2212" : "") + Math.abs(v).toFixed(2);
  }

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

  // a seeded generator, so that the page behaves the same on every load (mulberry32)
  let seed = 12345;
  function uniform() {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  function standardNormal() { // Box-Muller
    return Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  }

  // ------------------------------------------------------------ the plane: coordinates
  const plane = $("plane");
  const planeCtx = plane.getContext("2d");
  const P = plane.width;

  function toPlane(x, y) { // z coordinates -> canvas pixels
    return [((x + R) / (2 * R)) * P, ((R - y) / (2 * R)) * P];
  }

  function fromEvent(canvas, event) { // a pointer event -> canvas pixels (inside the border)
    const rect = canvas.getBoundingClientRect();
    return [((event.clientX - rect.left - canvas.clientLeft) / canvas.clientWidth) * canvas.width,
      ((event.clientY - rect.top - canvas.clientTop) / canvas.clientHeight) * canvas.height];
  }

  function zAt(px, py) { // canvas pixels -> a full code: the plane's two numbers, the held rest
    const z = Float64Array.from(state.held);
    z[pa] = (px / P) * 2 * R - R;
    z[pb] = R - (py / P) * 2 * R;
    return z;
  }

  function nearestDot(px, py, radius) {
    let best = -1;
    let bestD = radius * radius;
    for (let k = 0; k < N; k++) {
      const [x, y] = toPlane(heldMu[k * J + pa], heldMu[k * J + pb]);
      const d = (x - px) ** 2 + (y - py) ** 2;
      if (d < bestD) { bestD = d; best = k; }
    }
    return best;
  }

  // ------------------------------------------------------------ the plane: drawing
  // the still part (grid, prior circles, dots) is drawn once into its own canvas
  const background = document.createElement("canvas");
  background.width = P; background.height = P;

  function drawBackground() {
    const ctx = background.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, P, P);
    ctx.strokeStyle = "#eee";
    ctx.lineWidth = 1;
    for (let t = Math.ceil(-R); t <= R; t++) {
      const [x] = toPlane(t, 0);
      const [, y] = toPlane(0, t);
      ctx.strokeStyle = t === 0 ? "#bbb" : "#eee";
      ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, P); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(P, y); ctx.stroke();
    }
    const [cx, cy] = toPlane(0, 0);
    ctx.setLineDash([5, 4]);
    ctx.strokeStyle = "#999";
    for (const r of [1, 2]) { // the prior N(0, I) at one and two standard deviations
      ctx.beginPath(); ctx.arc(cx, cy, (r / (2 * R)) * P, 0, 2 * Math.PI); ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.globalAlpha = 0.75;
    for (let k = 0; k < N; k++) {
      const [x, y] = toPlane(heldMu[k * J + pa], heldMu[k * J + pb]);
      ctx.fillStyle = colourOf(k);
      ctx.beginPath(); ctx.arc(x, y, 2.6, 0, 2 * Math.PI); ctx.fill();
    }
    ctx.globalAlpha = 1;
    ctx.fillStyle = "#555";
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(`z[${pa}] \u2192`, P - 52, cy - 6);
    ctx.fillText(`\u2191 z[${pb}]`, cx + 6, 14);
    ctx.fillText(`${-R}`, 3, cy - 4);
    ctx.fillText(`${R}`, P - 18, cy + 14);
  }

  function cross(ctx, x, y, r, colour, width) {
    ctx.strokeStyle = colour; ctx.lineWidth = width;
    ctx.beginPath(); ctx.moveTo(x - r, y); ctx.lineTo(x + r, y); ctx.moveTo(x, y - r); ctx.lineTo(x, y + r); ctx.stroke();
  }

  function drawCloud(ctx, cloud) {
    // a diagonal Gaussian seen in two of its coordinates: an axis-aligned ellipse, semi-axes k*sigma
    const [x, y] = toPlane(cloud.mu[pa], cloud.mu[pb]);
    const sx = Math.exp(0.5 * cloud.logvar[pa]) / (2 * R) * P;
    const sy = Math.exp(0.5 * cloud.logvar[pb]) / (2 * R) * P;
    ctx.strokeStyle = "#c2185b";
    for (const k of [1, 2]) {
      ctx.lineWidth = k === 1 ? 2 : 1;
      ctx.beginPath(); ctx.ellipse(x, y, k * sx, k * sy, 0, 0, 2 * Math.PI); ctx.stroke();
    }
    cross(ctx, x, y, 7, "#c2185b", 2.5);
    ctx.fillStyle = "#c2185b";
    ctx.font = "bold 12px system-ui, sans-serif";
    ctx.fillText("\u03bc", x + 6, y - 6);
    ctx.strokeStyle = "#c2185b"; ctx.lineWidth = 1;
    for (const z of state.samples) {
      const [u, v] = toPlane(z[pa], z[pb]);
      ctx.beginPath(); ctx.arc(u, v, 3.5, 0, 2 * Math.PI); ctx.stroke();
    }
  }

  function drawWalk(ctx) {
    const { A, B } = state.walk;
    ctx.fillStyle = "#333"; ctx.strokeStyle = "#333"; ctx.font = "bold 12px system-ui, sans-serif";
    if (A && B) {
      const [x0, y0] = toPlane(A[pa], A[pb]);
      const [x1, y1] = toPlane(B[pa], B[pb]);
      ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
      for (let s = 0; s < WALK_STEPS; s++) {
        const t = s / (WALK_STEPS - 1);
        ctx.beginPath(); ctx.arc(x0 + t * (x1 - x0), y0 + t * (y1 - y0), 2.5, 0, 2 * Math.PI); ctx.fill();
      }
    }
    for (const [name, z] of [["A", A], ["B", B]]) {
      if (z) { const [x, y] = toPlane(z[pa], z[pb]); ctx.fillText(name, x + 5, y + 14); }
    }
  }

  function drawPlane() {
    planeCtx.drawImage(background, 0, 0);
    if (state.nearest >= 0) {
      const [x, y] = toPlane(heldMu[state.nearest * J + pa], heldMu[state.nearest * J + pb]);
      planeCtx.strokeStyle = "#000"; planeCtx.lineWidth = 1.5;
      planeCtx.beginPath(); planeCtx.arc(x, y, 6, 0, 2 * Math.PI); planeCtx.stroke();
    }
    drawWalk(planeCtx);
    if (state.cloud) drawCloud(planeCtx, state.cloud);
    const [x, y] = toPlane(state.z[pa], state.z[pb]);
    cross(planeCtx, x, y, 9, "#000", 1.5);
  }

  // ------------------------------------------------------------ panel 2: the decoded digit
  const decodedCanvas = $("decoded");
  const everyLabel = C > 0 ? digitStrip($("every-label"), C, Array.from({ length: C }, (_, c) => `label ${c}`)) : [];

  function drawDecoded() {
    state.decoded = M.decodeFast(state.z, state.label);
    paintDigit(decodedCanvas, state.decoded);
    for (let c = 0; c < everyLabel.length; c++) {
      paintDigit(everyLabel[c], c === state.label ? state.decoded : M.decodeFast(state.z, c));
    }
    $("z-readout").textContent = `z = (${Array.from(state.z, fmt).join(", ")})`;
  }

  function showNearest(k) {
    state.nearest = k;
    if (k < 0) return;
    const real = new Float64Array(D);
    for (let i = 0; i < D; i++) real[i] = heldPixels[k * D + i] / 255;
    paintDigit($("nearest-real"), real);
    paintDigit($("nearest-recon"), M.decodeFast(heldMuOf(k), C > 0 ? heldLabels[k] : 0));
    const what = heldLabels === null ? "a held-out digit" : `a held-out ${heldLabels[k]}`;
    $("nearest-note").textContent = `${what}; its μ has z[${pa}] = ${fmt(heldMu[k * J + pa])} (across), ` +
      `z[${pb}] = ${fmt(heldMu[k * J + pb])} (up). Click it to see its cloud.`;
  }

  // ------------------------------------------------------------ panel 3: the cloud of a drawing or a dot
  function setCloud(mu, logvar, source) {
    state.cloud = { mu: Float64Array.from(mu), logvar: Float64Array.from(logvar), source };
    state.samples = [];
    $("samples").textContent = "";
    $("sample").disabled = false;
    $("held-posterior").disabled = false;
    showCloudTable();
    dirty.overlay = true;
  }

  function showCloudTable() {
    const table = $("posterior");
    table.textContent = "";
    const { mu, logvar, source } = state.cloud;
    const rows = [["", (j) => `z[${j}]`], ["μ", (j) => fmt(mu[j])], ["σ", (j) => Math.exp(0.5 * logvar[j]).toFixed(3)]];
    for (const [head, cell] of rows) {
      const tr = table.insertRow();
      const th = document.createElement("th");
      th.textContent = head;
      tr.appendChild(th);
      for (let j = 0; j < J; j++) {
        const td = tr.insertCell();
        td.textContent = cell(j);
        if (j === pa || j === pb) td.className = "in-plane";
      }
    }
    $("posterior-note").textContent = `The cloud q(z | x) of ${source}: μ, and σ = exp(logvar / 2) for every coordinate` +
      ` (shaded: the two on the plane, where the ellipses show 1σ and 2σ).`;
  }

  function sampleCloud() {
    const { mu, logvar } = state.cloud;
    state.samples = [];
    const canvases = digitStrip($("samples"), N_SAMPLES, null);
    for (let s = 0; s < N_SAMPLES; s++) {
      const z = new Float64Array(J);
      for (let j = 0; j < J; j++) z[j] = mu[j] + Math.exp(0.5 * logvar[j]) * standardNormal(); // z = mu + sigma*eps
      state.samples.push(z);
      paintDigit(canvases[s], M.decodeFast(z, state.label));
    }
    dirty.overlay = true;
  }

  // ------------------------------------------------------------ panel 3: the drawing pad
  const pad = $("pad");
  const padCtx = pad.getContext("2d");
  const maker = M.drawing.pixelMaker(side, data.pad, pad.width); // pad.js

  function drawPad() {
    padCtx.fillStyle = "#fff";
    padCtx.fillRect(0, 0, pad.width, pad.height);
    M.drawing.strokePaths(padCtx, state.strokes, (p) => p, maker.penOnPad, "#111");
  }

  function padPixels() {
    return maker.pixels(state.strokes);
  }

  function encodeDrawing() {
    if (state.strokes.length === 0) return;
    state.seen = padPixels();
    paintDigit($("seen"), state.seen);
    const { mu, logvar } = M.encodeFast(state.seen, state.label);
    setCloud(mu, logvar, C > 0 ? `your drawing, told it is a ${state.label}` : "your drawing");
    state.z = Float64Array.from(mu);
    state.zSource = "drawing";
    dirty.decode = true;
  }

  // ------------------------------------------------------------ panel 4: the walk
  const walkStrip = digitStrip($("walk-strip"), WALK_STEPS, Array.from({ length: WALK_STEPS }, (_, s) => `${s}`));

  function drawWalkStrip() {
    const { A, B } = state.walk;
    if (!A || !B) return;
    for (let s = 0; s < WALK_STEPS; s++) {
      const t = s / (WALK_STEPS - 1);
      const z = A.map((a, j) => (1 - t) * a + t * B[j]); // (1 - t) A + t B
      paintDigit(walkStrip[s], M.decodeFast(z, state.label));
    }
  }

  function pickWalkPoint(px, py) {
    const k = nearestDot(px, py, 7); // a click on a dot takes that digit's whole mu
    const z = k >= 0 ? Float64Array.from(heldMuOf(k)) : zAt(px, py);
    const what = k >= 0 ? (heldLabels === null ? "a held-out digit" : `a held-out ${heldLabels[k]}`) : "a point of the plane";
    const walk = state.walk;
    if (walk.picking === 1) {
      walk.A = z; walk.B = null; walk.picking = 2; walk.whatA = what;
      $("walk-status").textContent = `A: ${what}. Now click B.`;
    } else {
      walk.B = z; walk.picking = 0;
      $("walk").classList.remove("picking");
      $("walk-status").textContent = `From A (${walk.whatA}) to B (${what}), in ${WALK_STEPS} steps:`;
      dirty.walk = true;
    }
    dirty.overlay = true;
  }

  // ------------------------------------------------------------ one frame
  function renderNow() {
    const t0 = performance.now();
    if (dirty.pad) { drawPad(); encodeDrawing(); }
    if (dirty.decode) drawDecoded();
    if (dirty.walk) drawWalkStrip();
    if (dirty.pad || dirty.decode || dirty.walk || dirty.overlay) drawPlane();
    dirty.pad = dirty.decode = dirty.walk = dirty.overlay = false;
    const ms = performance.now() - t0;
    timing.frames += 1; timing.totalMs += ms; timing.lastMs = ms;
  }

  let pending = false;
  function requestRender() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; renderNow(); });
  }

  // ------------------------------------------------------------ listening
  let dragging = false;
  plane.addEventListener("pointerdown", (event) => {
    const [px, py] = fromEvent(plane, event);
    if (state.walk.picking) { pickWalkPoint(px, py); requestRender(); return; }
    const k = nearestDot(px, py, 7);
    if (k >= 0) {
      const label = C > 0 ? heldLabels[k] : 0;
      setCloud(heldMuOf(k), heldLogvar.subarray(k * J, (k + 1) * J),
        heldLabels === null ? "a held-out digit" : `a held-out ${heldLabels[k]}` + (C > 0 ? ` (encoded with its label ${label})` : ""));
    }
    dragging = true;
    plane.setPointerCapture(event.pointerId);
    state.z = zAt(px, py); state.zSource = "plane";
    dirty.decode = true;
    requestRender();
  });
  plane.addEventListener("pointermove", (event) => {
    const [px, py] = fromEvent(plane, event);
    showNearest(nearestDot(px, py, 7));
    if (!state.walk.picking || dragging) { state.z = zAt(px, py); state.zSource = "plane"; dirty.decode = true; }
    dirty.overlay = true;
    requestRender();
  });
  const endDrag = () => { dragging = false; };
  plane.addEventListener("pointerup", endDrag);
  plane.addEventListener("pointercancel", endDrag);

  let drawing = false;
  pad.addEventListener("pointerdown", (event) => {
    drawing = true;
    pad.setPointerCapture(event.pointerId);
    state.strokes.push([fromEvent(pad, event)]);
    dirty.pad = true;
    requestRender();
  });
  pad.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    state.strokes[state.strokes.length - 1].push(fromEvent(pad, event));
    dirty.pad = true; // the encoder runs on every frame while you draw: watch mu move
    requestRender();
  });
  const endStroke = () => { drawing = false; };
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);

  $("clear").addEventListener("click", () => {
    state.strokes = []; state.seen = null;
    paintDigit($("seen"), new Float64Array(D));
    if (state.cloud && state.cloud.source.startsWith("your drawing")) {
      state.cloud = null; state.samples = [];
      $("samples").textContent = ""; $("posterior").textContent = "";
      $("sample").disabled = true; $("held-posterior").disabled = true;
    }
    drawPad();
    dirty.overlay = true;
    requestRender();
  });
  $("sample").addEventListener("click", () => { if (state.cloud) { sampleCloud(); requestRender(); } });
  $("walk").addEventListener("click", () => {
    state.walk = { picking: 1, A: null, B: null };
    $("walk").classList.add("picking");
    $("walk-status").textContent = "Click A on the plane (a dot, or any point).";
    dirty.overlay = true;
    requestRender();
  });

  // the coordinates off the plane: one slider each
  const sliders = [];
  function setHeld(values) {
    for (const { j, input, out } of sliders) {
      state.held[j] = values[j];
      input.value = String(values[j]);
      out.textContent = fmt(values[j]);
      if (state.zSource !== "drawing") state.z[j] = values[j]; // a drawing keeps its own mu
    }
    dirty.decode = true;
    requestRender();
  }
  function buildHeld() {
    const box = $("held");
    for (let j = 0; j < J; j++) {
      if (j === pa || j === pb) continue;
      const name = document.createElement("label");
      name.textContent = `z[${j}]`;
      const input = document.createElement("input");
      Object.assign(input, { type: "range", min: String(-R), max: String(R), step: "0.01", value: String(state.held[j]) });
      input.setAttribute("aria-label", `z[${j}]`);
      const out = document.createElement("output");
      out.textContent = fmt(state.held[j]);
      input.addEventListener("input", () => {
        const values = Float64Array.from(state.held);
        values[j] = Number(input.value);
        setHeld(values);
      });
      box.append(name, input, out);
      sliders.push({ j, input, out });
    }
    $("held-panel").hidden = sliders.length === 0;
    $("held-mean").addEventListener("click", () => setHeld(Float64Array.from(data.plane.held)));
    $("held-posterior").addEventListener("click", () => { if (state.cloud) setHeld(state.cloud.mu); });
  }

  function buildLabels() {
    for (const el of document.querySelectorAll(".cvae-only")) el.hidden = C === 0;
    if (C === 0) return;
    const box = $("label-buttons");
    for (let c = 0; c < C; c++) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = String(c);
      button.dataset.label = String(c);
      button.addEventListener("click", () => {
        state.label = c;
        for (const b of box.children) b.classList.toggle("selected", b === button);
        if (state.strokes.length) dirty.pad = true; // the encoder is told the new label too
        dirty.decode = true; dirty.walk = true;
        requestRender();
      });
      box.appendChild(button);
    }
    box.children[0].classList.add("selected");
  }

  function describe() {
    const arch = [D, ...M.info.hidden_dims, J].join("\u2013");
    const shown = heldout.n < heldout.of ? `${heldout.n} of ${heldout.of}` : `${heldout.n}`;
    $("model-line").textContent = `${M.info.kind} ${arch} (${M.info.activation}, ${M.info.likelihood} likelihood), ` +
      `${side}\u00d7${side} images; ${shown} held-out digits as dots.`;
    for (const el of document.querySelectorAll(".bernoulli-only")) el.hidden = M.info.likelihood !== "bernoulli";
    for (const el of document.querySelectorAll(".gaussian-only")) el.hidden = M.info.likelihood === "bernoulli";
    const spread = data.plane.spread;
    $("plane-note").textContent = J === 2
      ? `The code has 2 numbers: this plane is the whole latent space. Across: z[${pa}]; up: z[${pb}] ` +
        `(the one along which the held-out μ spread more goes across).`
      : `The code has ${J} numbers; the plane shows z[${pa}] (across) and z[${pb}] (up), ${data.plane.rule} ` +
        `(standard deviations ${spread[pa].toFixed(2)} and ${spread[pb].toFixed(2)}; the others: ` +
        `${spread.filter((_, j) => j !== pa && j !== pb).map((s) => s.toFixed(2)).join(", ")}). ` +
        "A dot sits where its digit's μ falls in these two coordinates, whatever its others.";
    if (heldLabels !== null) {
      const present = [...new Set(heldLabels)].sort((a, b) => a - b);
      for (const c of present) {
        const span = document.createElement("span");
        span.textContent = String(c);
        span.style.setProperty("--c", colourOf(heldLabels.indexOf(c)));
        $("legend").appendChild(span);
      }
    }
  }

  describe();
  buildHeld();
  buildLabels();
  drawBackground();
  drawPad();
  paintDigit($("seen"), new Float64Array(D));
  for (const id of ["nearest-real", "nearest-recon"]) paintDigit($(id), new Float64Array(D));
  renderNow();

  M.view = {
    state,
    renderNow,
    stats: () => ({ frames: timing.frames, meanMs: timing.totalMs / Math.max(1, timing.frames), lastMs: timing.lastMs }),
    resetStats: () => { timing.frames = 0; timing.totalMs = 0; timing.lastMs = 0; },
    padPixels,
  };
})();
