// How a drawing becomes the encoder's input: the pen strokes on the pad, scaled and
// centred the way the training digits were (MNIST's own recipe: fit the digit in a box,
// put its centre of mass at a fixed place), drawn again at the digits' resolution.
//
//   minivae.drawing.pixelMaker(side, geometry, padWidth).pixels(strokes) -> Float64Array(side * side)
//
// `geometry` comes from minivae.explore.pad_geometry: `box`, the median longer side of the
// held-out digits' ink; `center`, the median centre of mass (row, column); `pen`, the
// stroke's width, all in pixels of the side x side image.
"use strict";

(function (M) {
  function strokePaths(ctx, strokes, map, width, colour) {
    ctx.strokeStyle = colour; ctx.fillStyle = colour; ctx.lineWidth = width;
    ctx.lineCap = "round"; ctx.lineJoin = "round";
    for (const stroke of strokes) {
      const pts = stroke.map(map);
      if (pts.length === 1) { // a tap: a dot
        ctx.beginPath(); ctx.arc(pts[0][0], pts[0][1], width / 2, 0, 2 * Math.PI); ctx.fill();
        continue;
      }
      ctx.beginPath();
      ctx.moveTo(pts[0][0], pts[0][1]);
      for (const [x, y] of pts.slice(1)) ctx.lineTo(x, y);
      ctx.stroke();
    }
  }

  function pixelMaker(side, geometry, padWidth) {
    const K = Math.max(4, Math.ceil(224 / side)); // sub-pixels per pixel, to average the ink
    const fine = document.createElement("canvas");
    fine.width = side * K; fine.height = side * K;
    const ctx = fine.getContext("2d", { willReadFrequently: true });

    // the strokes at the digits' size (in sub-pixels), the drawing's centre moved to (dx, dy)
    function render(strokes, scale, origin, dx, dy) {
      ctx.clearRect(0, 0, fine.width, fine.height);
      const map = ([x, y]) => [K * ((x - origin[0]) * scale + dx), K * ((y - origin[1]) * scale + dy)];
      strokePaths(ctx, strokes, map, K * geometry.pen, "#000");
      return ctx.getImageData(0, 0, fine.width, fine.height).data; // the ink is the alpha channel
    }

    function centreOfMass(alpha) { // in pixel indices (row, column) of the side x side image
      let mass = 0, row = 0, col = 0;
      for (let i = 0; i < fine.height; i++) {
        for (let j = 0; j < fine.width; j++) {
          const a = alpha[4 * (i * fine.width + j) + 3];
          mass += a; row += a * (i + 0.5); col += a * (j + 0.5);
        }
      }
      return mass === 0 ? null : [row / mass / K - 0.5, col / mass / K - 0.5];
    }

    // scaled so that the longer side of the strokes spans `box` pixels (ink included), then
    // moved so that the centre of mass lands on `center`; each pixel averages its K x K sub-pixels
    function pixels(strokes) {
      const x = new Float64Array(side * side);
      const pts = strokes.flat();
      if (pts.length === 0) return x;
      const xs = pts.map((p) => p[0]);
      const ys = pts.map((p) => p[1]);
      const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
      const extent = Math.max(x1 - x0, y1 - y0, padWidth / 8); // a tiny scribble is not blown up
      const scale = Math.max(geometry.box - geometry.pen, 1) / extent; // pixels per pad pixel
      const origin = [(x0 + x1) / 2, (y0 + y1) / 2];
      const com = centreOfMass(render(strokes, scale, origin, side / 2, side / 2));
      if (com === null) return x;
      const alpha = render(strokes, scale, origin, side / 2 + geometry.center[1] - com[1],
        side / 2 + geometry.center[0] - com[0]);
      for (let r = 0; r < side; r++) {
        for (let c = 0; c < side; c++) {
          let sum = 0;
          for (let u = 0; u < K; u++) {
            for (let v = 0; v < K; v++) sum += alpha[4 * ((r * K + u) * fine.width + c * K + v) + 3];
          }
          x[r * side + c] = sum / (255 * K * K);
        }
      }
      return x;
    }

    return { pixels, penOnPad: (geometry.pen / side) * padWidth };
  }

  M.drawing = { strokePaths, pixelMaker };
})(window.minivae);
