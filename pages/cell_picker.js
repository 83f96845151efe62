// The click-a-cell picture of the Convolution and Inside pages (pages/cell_picker.py):
// one PNG of tiles (a feature map, or a layer's maps), a click reports
// [channel, row, col], hovering reads the position (and its value) out, an optional
// frame marks a cell, an optional colour bar sits under it.
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let root = parentElement.querySelector(".cell-picker");
  if (!root) {
    root = document.createElement("div");
    root.className = "cell-picker narrow-scroll";  // scrolls sideways, with a cue, below minWidth
    root.innerHTML = '<div class="cell-picker-box"><img class="cell-picker-img" draggable="false">'
      + '<div class="cell-picker-mark"></div></div><div class="cell-picker-bar"></div>'
      + '<div class="cell-picker-ticks"></div><div class="cell-picker-readout"></div>';
    parentElement.appendChild(root);
  }
  const box = root.querySelector(".cell-picker-box");
  const img = root.querySelector("img");
  const mark = root.querySelector(".cell-picker-mark");
  const bar = root.querySelector(".cell-picker-bar");
  const ticks = root.querySelector(".cell-picker-ticks");
  const readout = root.querySelector(".cell-picker-readout");
  if (img.getAttribute("src") !== data.src) img.setAttribute("src", data.src);
  img.alt = data.alt;
  box.style.maxWidth = data.maxWidth ? data.maxWidth + "px" : "";
  box.style.minWidth = data.minWidth ? data.minWidth + "px" : "";
  bar.style.display = ticks.style.display = data.bar ? "" : "none";
  if (data.bar) {
    bar.style.background = data.bar;
    ticks.innerHTML = data.ticks.map(([at, text]) => `<span style="left:${at}%">${text}</span>`).join("");
  }
  readout.textContent = data.hint;
  let values = null;  // float32 (rows * cols) of a one-tile picture, decoded on the first hover
  const valueAt = (r, c) => {
    if (values === null) {
      const raw = atob(data.values);
      values = new Float32Array(Uint8Array.from(raw, (ch) => ch.charCodeAt(0)).buffer);
    }
    return parseFloat(values[r * data.mw + c].toPrecision(4));
  };
  const stepX = data.tw + data.gap, stepY = data.th + data.gap;
  const at = (event) => {  // picture pixels -> tile -> [channel, row, col], or null
    const b = img.getBoundingClientRect();
    const x = (event.clientX - b.left) / b.width * data.width - data.origin;
    const y = (event.clientY - b.top) / b.height * data.height - data.origin;
    const c = Math.floor(x / stepX), r = Math.floor(y / stepY);
    const tx = x - c * stepX, ty = y - r * stepY, tile = r * data.cols + c;
    if (c < 0 || c >= data.cols || r < 0 || tile >= data.channels.length) return null;
    if (tx >= data.tw || ty >= data.th) return null;  // on a gap between tiles
    return [data.channels[tile], Math.min(Math.floor(ty * data.mh / data.th), data.mh - 1),
            Math.min(Math.floor(tx * data.mw / data.tw), data.mw - 1)];
  };
  const say = (p) => (data.showChannel ? `channel ${p[0]}, ` : "") + `row ${p[1]}, column ${p[2]}`
    + (data.values ? `: ${valueAt(p[1], p[2])}` : "") + (data.action ? `: ${data.action}` : "");
  img.onclick = (event) => { const p = at(event); if (p) setTriggerValue("pick", p); };
  img.onmousemove = (event) => { const p = at(event); readout.textContent = p ? say(p) : data.hint; };
  img.onmouseleave = () => { readout.textContent = data.hint; };
  if (data.mark) {  // [tile, row, col]: the cell, at least a few pixels wide
    const [tile, row, col] = data.mark;
    const x0 = data.origin + (tile % data.cols) * stepX;
    const y0 = data.origin + Math.floor(tile / data.cols) * stepY;
    const cw = Math.max(data.tw / data.mw, 3), ch = Math.max(data.th / data.mh, 3);
    const x = Math.min(x0 + col * data.tw / data.mw, x0 + data.tw - cw);
    const y = Math.min(y0 + row * data.th / data.mh, y0 + data.th - ch);
    Object.assign(mark.style, {display: "block", left: `${100 * x / data.width}%`,
                               top: `${100 * y / data.height}%`, width: `${100 * cw / data.width}%`,
                               height: `${100 * ch / data.height}%`});
  } else {
    mark.style.display = "none";
  }
}
