// The digit pad of the Classify page (see digit_pad.py): a plain <canvas> that takes
// mouse, pen and touch strokes anywhere on it and, when a stroke ends, sends the whole
// canvas as a PNG data URL (state "drawing": {data}). No toolbar: Clear is a Streamlit
// button, which bumps data.generation; a new generation blanks the pad.
//
// Streamlit calls this function again, with the same parentElement, whenever the
// element's data changes (every rerun), so the pad is built once and kept on it; the
// listeners use the latest call's data and setStateValue (a new key is a new widget).

export default function (component) {
  const { parentElement, data, setStateValue } = component;
  let pad = parentElement.digitPad;
  if (!pad) {
    const canvas = document.createElement("canvas");
    canvas.className = "digit-pad";
    canvas.setAttribute("aria-label", "Drawing pad: draw a digit");
    parentElement.appendChild(canvas);
    pad = { canvas, ctx: canvas.getContext("2d"), generation: null, last: null };
    parentElement.digitPad = pad;

    // canvas pixels of a pointer event, wherever CSS has scaled the canvas to
    const at = (e) => {
      const r = canvas.getBoundingClientRect();
      return [(e.clientX - r.left) * canvas.width / r.width,
              (e.clientY - r.top) * canvas.height / r.height];
    };
    const ink = () => {
      const { ctx } = pad;
      ctx.strokeStyle = ctx.fillStyle = pad.data.strokeColor;
      ctx.lineWidth = pad.data.strokeWidth;
      ctx.lineCap = ctx.lineJoin = "round";
      return ctx;
    };
    canvas.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return; // the left button, a pen or a finger
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId); // the stroke goes on outside the canvas
      pad.last = at(e);
      const ctx = ink();
      ctx.beginPath();
      ctx.arc(pad.last[0], pad.last[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
    });
    canvas.addEventListener("pointermove", (e) => {
      if (pad.last === null) return;
      const ctx = ink();
      const coalesced = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
      for (const ev of coalesced.length ? coalesced : [e]) { // every sample of a fast stroke
        const p = at(ev);
        ctx.beginPath();
        ctx.moveTo(pad.last[0], pad.last[1]);
        ctx.lineTo(p[0], p[1]);
        ctx.stroke();
        pad.last = p;
      }
    });
    const end = () => {
      if (pad.last === null) return;
      pad.last = null;
      pad.setStateValue("drawing", { data: canvas.toDataURL("image/png") });
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }
  pad.data = data;
  pad.setStateValue = setStateValue;
  const { canvas, ctx } = pad;
  if (pad.generation !== data.generation || canvas.width !== data.size) {
    canvas.width = canvas.height = data.size; // also resets the context
    canvas.style.width = `${data.size}px`;
    ctx.fillStyle = data.background;
    ctx.fillRect(0, 0, data.size, data.size);
    pad.generation = data.generation;
    pad.last = null;
  }
}
