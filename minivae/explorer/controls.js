// The explorer's controls: pointer, touch and keys on the plane, the drawing pad, the
// buttons, the sliders of the coordinates off the plane and the label buttons. Each one
// only changes minivae.view.state and asks for a render (explorer.js draws everything
// from the state), so no view can be left showing an older state than another.
"use strict";

(function () {
  const M = window.minivae;
  const V = M.view;
  const state = V.state;
  const data = M.data;
  const { pa, pb, R, J, C, D, N, side, N_SAMPLES, heldLabels, heldMu } = V.consts;
  const $ = (id) => document.getElementById(id);
  const render = V.requestRender;

  function fromEvent(canvas, event) { // a pointer event -> canvas pixels (inside the border)
    const rect = canvas.getBoundingClientRect();
    return [((event.clientX - rect.left - canvas.clientLeft) / canvas.clientWidth) * canvas.width,
      ((event.clientY - rect.top - canvas.clientTop) / canvas.clientHeight) * canvas.height];
  }

  // the z shown now (when it follows the cloud's mu, that mu), as a copy to change
  const currentZ = () => Float64Array.from(V.currentZ());

  function setZ(z, from) {
    state.z = Float64Array.from(z);
    state.zFrom = from;
    render();
  }

  function moveOnPlane(px, py, from) { // the plane's two coordinates from the canvas; the others stay
    const z = currentZ();
    [z[pa], z[pb]] = V.plane.toZ(px, py);
    setZ(z, from);
  }

  function dotAt(px, py, radius) { // the held-out dot within radius canvas pixels, or -1
    let best = -1;
    let bestD = radius * radius;
    for (let k = 0; k < N; k++) {
      const [x, y] = V.plane.toCanvas(heldMu[k * J + pa], heldMu[k * J + pb]);
      const d = (x - px) ** 2 + (y - py) ** 2;
      if (d < bestD) { bestD = d; best = k; }
    }
    return best;
  }

  // a held-out digit's cloud: encoded with its own label, and z at its mu
  function takeDot(k) {
    state.source = k;
    if (C > 0) state.label = heldLabels[k];
    state.eps = []; state.epsVersion += 1;
    state.zFrom = "mu";
    render();
  }

  function sample() {
    if (!V.derived().cloud) return;
    state.eps = Array.from({ length: N_SAMPLES }, () => Float64Array.from({ length: J }, V.noise.normal));
    state.epsVersion += 1;
    render();
  }

  function samplePrior() { // z ~ N(0, I): the prior's mean 0 plus 1 times eps
    setZ(Float64Array.from({ length: J }, V.noise.normal), "prior");
  }

  function setWalkEnd(which, z, what) {
    const w = state.walk;
    if (which === "A") { w.A = Float64Array.from(z); w.whatA = what; w.B = null; w.picking = 0; }
    else { w.B = Float64Array.from(z); w.whatB = what; w.picking = 0; }
    render();
  }

  function pickWalkPoint(px, py) {
    const k = dotAt(px, py, 7); // a click on a dot takes that digit's whole mu
    const z = k >= 0 ? V.heldMuOf(k) : (() => { const z = currentZ(); [z[pa], z[pb]] = V.plane.toZ(px, py); return z; })();
    const what = k >= 0 ? V.whatDot(k) : "a point of the plane";
    if (state.walk.picking === 1) { setWalkEnd("A", z, what); state.walk.picking = 2; } else setWalkEnd("B", z, what);
  }

  // ------------------------------------------------------------ the plane: pointer and touch
  const plane = $("plane");
  let dragging = false;
  let last = [NaN, NaN]; // where the pointer was: a move to the same place changes nothing
  plane.addEventListener("pointerdown", (event) => {
    const [px, py] = fromEvent(plane, event);
    last = [px, py];
    if (state.walk.picking) { pickWalkPoint(px, py); return; }
    dragging = true;
    plane.setPointerCapture(event.pointerId);
    const k = dotAt(px, py, event.pointerType === "touch" ? 12 : 7);
    if (k >= 0) takeDot(k); else moveOnPlane(px, py, "pointer");
  });
  plane.addEventListener("pointermove", (event) => {
    if (state.walk.picking && !dragging) return;
    if (event.pointerType !== "mouse" && !dragging) return; // a finger moves z only while it touches
    const [px, py] = fromEvent(plane, event);
    if (px === last[0] && py === last[1]) return;
    last = [px, py];
    moveOnPlane(px, py, "pointer");
  });
  const endDrag = () => { dragging = false; };
  plane.addEventListener("pointerup", endDrag);
  plane.addEventListener("pointercancel", endDrag);

  // ------------------------------------------------------------ the plane: keys
  const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
  plane.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const k = event.key;
    if (k in ARROWS) {
      const z = currentZ();
      const [dx, dy] = ARROWS[k];
      z[pa] = Math.min(R, Math.max(-R, Math.round((z[pa] + dx * state.step) * 1e6) / 1e6));
      z[pb] = Math.min(R, Math.max(-R, Math.round((z[pb] + dy * state.step) * 1e6) / 1e6));
      setZ(z, "keys");
    } else if (k === "+" || k === "=") {
      state.step = Math.min(R / 2, state.step * 2); render();
    } else if (k === "-" || k === "_") {
      state.step = Math.max(0.0125, state.step / 2); render();
    } else if (k === "Enter" || k === " ") {
      const { k: nearest } = V.derived().nearest;
      if (nearest >= 0) takeDot(nearest);
    } else if (k === "s" || k === "S") {
      sample();
    } else if (k === "p" || k === "P") {
      samplePrior();
    } else if (k === "a" || k === "A" || k === "b" || k === "B") {
      setWalkEnd(k.toUpperCase(), currentZ(), `z = (${Array.from(currentZ(), (v) => v.toFixed(2)).join(", ")})`);
    } else if (k === "Home") {
      const z = currentZ(); z[pa] = 0; z[pb] = 0; setZ(z, "keys");
    } else if (k === "Escape") {
      state.walk.picking = 0; render();
    } else {
      return;
    }
    event.preventDefault(); // the arrows and the space bar would scroll the page
  });

  // ------------------------------------------------------------ the pad
  const pad = $("pad");
  let drawing = false;
  function strokesChanged() {
    state.strokesVersion += 1;
    state.source = state.strokes.length ? "drawing" : null;
    state.eps = []; state.epsVersion += 1;
    if (state.strokes.length) state.zFrom = "mu"; // the drawing's reconstruction, while you draw
    else if (state.zFrom === "mu") state.zFrom = "start";
    redrawPad();
    render();
  }
  function redrawPad() {
    const ctx = pad.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, pad.width, pad.height);
    M.drawing.strokePaths(ctx, state.strokes, (p) => p, V.maker.penOnPad, "#111");
  }
  pad.addEventListener("pointerdown", (event) => {
    drawing = true;
    pad.setPointerCapture(event.pointerId);
    if (state.source !== "drawing") state.strokes = []; // a new drawing replaces a dot's cloud
    state.strokes.push([fromEvent(pad, event)]);
    strokesChanged();
  });
  pad.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    state.strokes[state.strokes.length - 1].push(fromEvent(pad, event));
    strokesChanged(); // the encoder runs on every frame while you draw: watch mu move
  });
  const endStroke = () => { drawing = false; };
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);
  function clear() {
    state.strokes = [];
    if (state.source === "drawing") strokesChanged(); else { redrawPad(); render(); }
  }
  pad.addEventListener("keydown", (event) => {
    if (event.key === "Delete" || event.key === "Backspace") { clear(); event.preventDefault(); }
  });

  // ------------------------------------------------------------ buttons
  $("clear").addEventListener("click", clear);
  $("sample").addEventListener("click", sample);
  $("prior").addEventListener("click", samplePrior);
  $("redraw").addEventListener("click", () => { state.noise += 1; render(); });
  $("walk").addEventListener("click", () => {
    state.walk = { picking: 1, A: null, B: null, whatA: "", whatB: "" };
    render();
  });

  // the coordinates off the plane: one slider each, showing z
  const box = $("held");
  for (let j = 0; j < J; j++) {
    if (j === pa || j === pb) continue;
    const name = document.createElement("label");
    name.textContent = `z[${j}]`;
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: String(-R), max: String(R), step: "0.01", value: String(state.z[j]) });
    input.setAttribute("aria-label", `z[${j}]`);
    const out = document.createElement("output");
    input.addEventListener("input", () => {
      const z = currentZ();
      z[j] = Number(input.value);
      setZ(z, "slider");
    });
    box.append(name, input, out);
    V.sliders.push({ j, input, out });
  }
  $("held-panel").hidden = V.sliders.length === 0;
  function setOffPlane(values, from) {
    const z = currentZ();
    for (const { j } of V.sliders) z[j] = values[j];
    setZ(z, from);
  }
  $("held-mean").addEventListener("click", () => setOffPlane(data.plane.held, "slider"));
  $("held-posterior").addEventListener("click", () => {
    const d = V.derived();
    if (d.cloud) setOffPlane(d.cloud.mu, "slider");
  });

  // the label buttons of a CVAE
  for (const el of document.querySelectorAll(".cvae-only")) el.hidden = C === 0;
  for (let c = 0; c < C; c++) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = String(c);
    button.dataset.label = String(c);
    button.setAttribute("aria-label", `label ${c}`);
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", () => { state.label = c; render(); }); // every view follows
    $("label-buttons").appendChild(button);
  }

  // ------------------------------------------------------------ what the page is about
  // a page of several models: one button each; a switch loads the page again with #model=i
  const { titles, index } = M.models;
  $("model-switch").hidden = titles.length < 2;
  $("model-title").textContent = data.title;
  if (titles.length > 1) {
    titles.forEach((title, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = title;
      button.dataset.model = String(i);
      button.setAttribute("aria-pressed", String(i === index));
      if (i === index) button.classList.add("selected");
      button.addEventListener("click", () => {
        if (i === index) return;
        location.hash = `model=${i}`;
        location.reload();
      });
      $("model-switch").appendChild(button);
    });
  }
  const arch = [D, ...M.info.hidden_dims, J].join("\u2013");
  const shown = data.heldout.n < data.heldout.of ? `${data.heldout.n} of ${data.heldout.of}` : `${data.heldout.n}`;
  $("model-line").textContent = `${M.info.kind} ${arch} (${M.info.activation}, ${M.info.likelihood} likelihood` +
    `${data.beta !== 1 ? `, β = ${data.beta}` : ""}), ${side}\u00d7${side} images; ${shown} held-out digits as dots.`;
  for (const el of document.querySelectorAll(".bernoulli-only")) el.hidden = M.info.likelihood !== "bernoulli";
  for (const el of document.querySelectorAll(".gaussian-only")) el.hidden = M.info.likelihood === "bernoulli";
  const spread = data.plane.spread;
  $("plane-note").textContent = J === 2
    ? `The code has 2 numbers: this plane is the whole latent space. Across: z[${pa}]; up: z[${pb}] ` +
      `(the one along which the held-out μ spread more goes across), from ${-R} to ${R}.`
    : `The code has ${J} numbers; the plane shows z[${pa}] (across) and z[${pb}] (up), from ${-R} to ${R}, ` +
      `${data.plane.rule} (standard deviations ${spread[pa].toFixed(2)} and ${spread[pb].toFixed(2)}; the others: ` +
      `${spread.filter((_, j) => j !== pa && j !== pb).map((s) => s.toFixed(2)).join(", ")}). ` +
      "A dot sits where its digit's μ falls in these two coordinates, whatever its others.";
  if (heldLabels !== null) {
    for (const c of [...new Set(heldLabels)].sort((a, b) => a - b)) {
      const span = document.createElement("span");
      span.textContent = String(c);
      span.style.setProperty("--c", V.colourOf(heldLabels.indexOf(c)));
      $("legend").appendChild(span);
    }
  }

  redrawPad();
  V.renderNow();
})();
