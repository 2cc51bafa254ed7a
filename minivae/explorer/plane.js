// Pictures of the latent plane: a square window onto the two coordinates of z the page
// shows, (z[pa] across, z[pb] up). The big plane is the window [-R, R] x [-R, R]; the
// zoomed view is a small window around the cloud's mu, sized by its sigma. Both draw the
// same scene (minivae.view.scene()): the prior's density, the held-out dots, the walk,
// the cloud with its 1-sigma and 2-sigma ellipses and samples, and the cross at z.
//
//   minivae.planeWindow(canvas, {dims, dots, colourOf}) -> {setWindow, toCanvas, toZ, draw, ...}
"use strict";

(function (M) {
  const MAGENTA = "#c2185b";

  function planeWindow(canvas, { dims, dots, colourOf, stride }) {
    const [pa, pb] = dims;
    const P = canvas.width;
    const ctx = canvas.getContext("2d");
    const win = { cx: 0, cy: 0, half: 1 }; // the centre and half-width, in units of z
    let cache = null; // the still part (shading, grid, dots) of the big plane, drawn once

    function setWindow(cx, cy, half) {
      if (cx !== win.cx || cy !== win.cy || half !== win.half) cache = null;
      win.cx = cx; win.cy = cy; win.half = half;
    }

    const scale = () => P / (2 * win.half); // canvas pixels per unit of z
    function toCanvas(x, y) {
      return [(x - win.cx + win.half) * scale(), (win.cy + win.half - y) * scale()];
    }
    function toZ(px, py) {
      return [win.cx - win.half + px / scale(), win.cy + win.half - py / scale()];
    }

    // the prior N(0, I) on these two coordinates: a blue-grey whose depth is exp(-r^2 / 2)
    function shadePrior(target) {
      const img = target.createImageData(P, P);
      for (let py = 0; py < P; py++) {
        for (let px = 0; px < P; px++) {
          const [x, y] = toZ(px + 0.5, py + 0.5);
          const d = Math.exp(-0.5 * (x * x + y * y)); // the density over its peak
          const i = 4 * (py * P + px);
          img.data[i] = 255 - 40 * d; img.data[i + 1] = 255 - 30 * d; img.data[i + 2] = 255 - 12 * d;
          img.data[i + 3] = 255;
        }
      }
      target.putImageData(img, 0, 0);
    }

    function still(target) {
      shadePrior(target);
      const step = win.half > 6 ? 2 : win.half > 0.75 ? 1 : 10 ** Math.floor(Math.log10(win.half));
      target.lineWidth = 1;
      for (const [c, along] of [[win.cx, 0], [win.cy, 1]]) { // grid lines at whole steps of z
        for (let t = Math.ceil((c - win.half) / step) * step; t <= c + win.half; t += step) {
          const [x, y] = toCanvas(t, t);
          target.strokeStyle = Math.abs(t) < 1e-9 ? "#aaa" : "#e6e6ea";
          target.beginPath();
          if (along === 0) { target.moveTo(x, 0); target.lineTo(x, P); } else { target.moveTo(0, y); target.lineTo(P, y); }
          target.stroke();
        }
      }
      const [ox, oy] = toCanvas(0, 0);
      target.setLineDash([5, 4]);
      target.strokeStyle = "#8a8fa0";
      for (const r of [1, 2]) { // the prior at one and two standard deviations
        target.beginPath(); target.arc(ox, oy, r * scale(), 0, 2 * Math.PI); target.stroke();
      }
      target.setLineDash([]);
      target.globalAlpha = 0.75;
      for (let k = 0; k < dots.n; k++) {
        const [x, y] = toCanvas(dots.mu[k * stride + pa], dots.mu[k * stride + pb]);
        if (x < -3 || y < -3 || x > P + 3 || y > P + 3) continue;
        target.fillStyle = colourOf(k);
        target.beginPath(); target.arc(x, y, 2.6, 0, 2 * Math.PI); target.fill();
      }
      target.globalAlpha = 1;
    }

    function cross(x, y, r, colour, width) {
      ctx.strokeStyle = colour; ctx.lineWidth = width;
      ctx.beginPath(); ctx.moveTo(x - r, y); ctx.lineTo(x + r, y); ctx.moveTo(x, y - r); ctx.lineTo(x, y + r); ctx.stroke();
    }

    // a diagonal Gaussian seen in two of its coordinates: an axis-aligned ellipse, semi-axes k sigma
    function cloud(c, samples) {
      const [x, y] = toCanvas(c.mu[pa], c.mu[pb]);
      ctx.strokeStyle = MAGENTA;
      for (const k of [1, 2]) {
        ctx.lineWidth = k === 1 ? 2 : 1;
        ctx.beginPath();
        ctx.ellipse(x, y, k * c.sigma[pa] * scale(), k * c.sigma[pb] * scale(), 0, 0, 2 * Math.PI);
        ctx.stroke();
      }
      cross(x, y, 7, MAGENTA, 2.5);
      ctx.fillStyle = MAGENTA;
      ctx.font = "bold 12px system-ui, sans-serif";
      ctx.fillText("\u03bc", x + 6, y - 6);
      ctx.lineWidth = 1;
      for (const s of samples) {
        const [u, v] = toCanvas(s.z[pa], s.z[pb]);
        ctx.beginPath(); ctx.arc(u, v, 3.5, 0, 2 * Math.PI); ctx.stroke();
      }
    }

    function walk(A, B, steps) {
      ctx.fillStyle = "#333"; ctx.strokeStyle = "#333"; ctx.font = "bold 12px system-ui, sans-serif";
      if (A && B) {
        const [x0, y0] = toCanvas(A[pa], A[pb]);
        const [x1, y1] = toCanvas(B[pa], B[pb]);
        ctx.lineWidth = 1.5;
        ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
        for (let s = 0; s < steps; s++) {
          const t = s / (steps - 1);
          ctx.beginPath(); ctx.arc(x0 + t * (x1 - x0), y0 + t * (y1 - y0), 2.5, 0, 2 * Math.PI); ctx.fill();
        }
      }
      for (const [name, z] of [["A", A], ["B", B]]) {
        if (z) { const [x, y] = toCanvas(z[pa], z[pb]); ctx.fillText(name, x + 5, y + 14); }
      }
    }

    function axisLabels() {
      const [, oy] = toCanvas(0, 0);
      const [ox] = toCanvas(0, 0);
      ctx.fillStyle = "#555";
      ctx.font = "12px system-ui, sans-serif";
      ctx.fillText(`z[${pa}] \u2192`, P - 52, Math.min(Math.max(oy - 6, 14), P - 4));
      ctx.fillText(`\u2191 z[${pb}]`, Math.min(Math.max(ox + 6, 4), P - 50), 14);
    }

    // scene: {z, nearest, cloud, samples, walk: {A, B, steps}, labels: bool}
    function draw(scene) {
      if (cache === null) {
        cache = document.createElement("canvas");
        cache.width = P; cache.height = P;
        still(cache.getContext("2d"));
      }
      ctx.drawImage(cache, 0, 0);
      if (scene.labels) axisLabels();
      if (scene.nearest >= 0) {
        const k = scene.nearest;
        const [x, y] = toCanvas(dots.mu[k * stride + pa], dots.mu[k * stride + pb]);
        ctx.strokeStyle = "#000"; ctx.lineWidth = 1.5;
        ctx.beginPath(); ctx.arc(x, y, 6, 0, 2 * Math.PI); ctx.stroke();
      }
      if (scene.walk) walk(scene.walk.A, scene.walk.B, scene.walk.steps);
      if (scene.cloud) cloud(scene.cloud, scene.samples);
      const [x, y] = toCanvas(scene.z[pa], scene.z[pb]);
      cross(x, y, 9, "#000", 1.5);
    }

    return { setWindow, toCanvas, toZ, draw, scale, win, canvas };
  }

  M.planeWindow = planeWindow;
})(window.minivae);
