"use strict";
// rawlux studio page: displays what the server renders; no image processing here.
(function () {
  const TOKEN = document.querySelector('meta[name="rawlux-token"]').content;
  const $ = (id) => document.getElementById(id);
  const state = { photo: null, look: "natural", lookA: "", params: {}, sliders: [], seq: 0, shown: 0,
                  strength: 1, frame: "" };

  async function api(method, url, body) {
    const opt = { method, headers: { "X-Rawlux-Token": TOKEN } };
    if (body !== undefined) { opt.headers["Content-Type"] = "application/json"; opt.body = JSON.stringify(body); }
    const r = await fetch(url, opt);
    if (!r.ok) {
      let msg = r.status + "";
      try { msg = (await r.json()).error; } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    return r;
  }
  const say = (t) => { $("message").textContent = t; };
  const status = (t) => { $("status").textContent = t; };

  async function blobUrl(url) {
    const r = await api("GET", url);
    return URL.createObjectURL(await r.blob());
  }

  async function loadPhotos() {
    const data = await (await api("GET", "/api/photos")).json();
    const ul = $("photos");
    ul.textContent = "";
    for (const p of data.photos) {
      const li = document.createElement("li");
      li.dataset.path = p.path;
      const img = document.createElement("img");
      img.alt = p.path;
      const span = document.createElement("span");
      span.textContent = p.path + (p.sidecar ? " ✎" : "");
      li.append(img, span);
      li.addEventListener("click", () => selectPhoto(p.path));
      ul.append(li);
    }
    for (const li of ul.children) {  // thumbnails one after another (server caches them)
      try { li.querySelector("img").src = await blobUrl("/api/thumb?path=" + encodeURIComponent(li.dataset.path)); }
      catch (e) { li.querySelector("span").textContent += " (" + e.message + ")"; }
    }
  }

  async function loadLooks() {
    const data = await (await api("GET", "/api/looks")).json();
    for (const sel of [$("look"), $("lookA")]) {
      for (const n of data.builtin.concat(data.saved)) {
        const o = document.createElement("option");
        o.value = o.textContent = n;
        sel.append(o);
      }
    }
    $("look").value = "natural";
    for (const n of data.frames || []) {
      const o = document.createElement("option");
      o.value = o.textContent = n;
      $("frame").append(o);
    }
    state.sliders = data.sliders;
    const box = $("sliders");
    box.textContent = "";
    for (const s of data.sliders) {
      const key = s.stage + "." + s.field;
      const lab = document.createElement("label");
      lab.title = s.doc;
      const txt = document.createElement("span");
      const inp = document.createElement("input");
      inp.type = "range"; inp.min = s.min; inp.max = s.max; inp.value = s.default;
      inp.step = (s.max - s.min) / 200; inp.dataset.key = key; inp.id = "s-" + key.replace(".", "-");
      const show = () => { txt.textContent = s.label + " " + Number(inp.value).toFixed(2); };
      inp.show = show;
      show();
      inp.addEventListener("input", () => {
        show();
        (state.params[s.stage] = state.params[s.stage] || {})[s.field] = Number(inp.value);
        schedule();
      });
      lab.append(txt, inp);
      box.append(lab);
    }
    // the look's global strength (the look blended with neutral), not a stage param
    const lab = document.createElement("label");
    lab.title = "blend the whole look with the neutral rendering (0 = neutral, 1 = the look as made)";
    const txt = document.createElement("span");
    const inp = document.createElement("input");
    inp.type = "range"; inp.min = 0; inp.max = 1; inp.step = 0.01; inp.value = 1; inp.id = "s-strength";
    inp.show = () => { txt.textContent = "Look strength " + Number(inp.value).toFixed(2); };
    inp.show();
    inp.addEventListener("input", () => { inp.show(); state.strength = Number(inp.value); schedule(false); });
    lab.append(txt, inp);
    box.prepend(lab);
  }

  // show values (the look's own, or the sidecar's) without making them overrides
  function setSliders(values, strength) {
    for (const inp of document.querySelectorAll("#sliders input[data-key]")) {
      if (values[inp.dataset.key] !== undefined) { inp.value = values[inp.dataset.key]; inp.show(); }
    }
    if (strength !== undefined) { state.strength = strength; $("s-strength").value = strength; $("s-strength").show(); }
  }

  async function loadLookValues(look) {
    if (!state.photo) return;
    const body = { path: state.photo, look, sidecar: false, strength: state.strength };
    const rv = await (await api("POST", "/api/recipe", body)).json();
    setSliders(rv.values);
  }

  async function selectPhoto(path) {
    state.photo = path;
    for (const li of $("photos").children) li.classList.toggle("selected", li.dataset.path === path);
    state.params = {};
    try {
      const rv = await (await api("POST", "/api/recipe", { path })).json();
      state.look = rv.look; $("look").value = rv.look;
      setSliders(rv.values, rv.strength);
      state.params = rv.params || {};  // the sidecar's own values stay overrides (saved again with the sidecar)
    } catch (e) { say(e.message); }
    await render(true);
    lookThumbs();
  }

  let timer = null;
  function schedule(withBefore) { clearTimeout(timer); timer = setTimeout(() => render(!!withBefore), 60); }
  const common = () => ({ strength: state.strength, frame: state.frame || null });

  async function render(withBefore) {
    if (!state.photo) return;
    const seq = ++state.seq;
    status("rendering…");
    try {
      const body = { path: state.photo, look: state.look, params: state.params, ...common() };
      const res = await (await api("POST", "/api/render", body)).json();
      if (seq < state.shown) return;
      state.shown = seq;
      $("after").src = res.image;
      $("after").dataset.seq = seq;
      drawHistogram(res.histogram);
      status(res.width + "×" + res.height + " in " + res.ms + " ms" +
             (res.notes && res.notes.length ? " · note: " + res.notes.join(" · ") : ""));
      if (withBefore) await renderBefore();
    } catch (e) { status(""); say(e.message); }
  }

  async function renderBefore() {
    const look = state.lookA || "natural";
    const res = await (await api("POST", "/api/render",
      { path: state.photo, look, params: {}, histogram: false, frame: state.frame || null })).json();
    $("before").src = res.image;
    $("tagA").textContent = state.lookA ? state.lookA : "before";
  }

  async function lookThumbs() {
    const box = $("lookthumbs");
    box.textContent = "";
    const photo = state.photo;
    for (const o of $("look").options) {
      const fig = document.createElement("figure");
      const img = document.createElement("img");
      const cap = document.createElement("figcaption");
      cap.textContent = o.value;
      fig.dataset.look = o.value;
      fig.classList.toggle("selected", o.value === state.look);
      fig.append(img, cap);
      fig.addEventListener("click", () => { $("look").value = o.value; $("look").dispatchEvent(new Event("change")); });
      box.append(fig);
    }
    for (const fig of box.children) {
      if (state.photo !== photo) return;
      try {
        const res = await (await api("POST", "/api/render", { path: photo, look: fig.dataset.look, size: 160, histogram: false })).json();
        fig.querySelector("img").src = res.image;
      } catch (e) { fig.title = e.message; }
    }
  }

  function drawHistogram(h) {
    if (!h) return;
    const c = $("histogram"), g = c.getContext("2d");
    g.clearRect(0, 0, c.width, c.height);
    g.globalCompositeOperation = "lighter";
    const colours = ["#c33", "#3c3", "#36f"];
    const n = h[0].length, w = c.width / n;
    let peak = 1;
    for (const ch of h) for (let i = 1; i < n - 1; i++) peak = Math.max(peak, ch[i]);
    h.forEach((ch, k) => {
      g.fillStyle = colours[k];
      ch.forEach((v, i) => { const y = Math.min(1, v / peak) * c.height; g.fillRect(i * w, c.height - y, w, y); });
    });
  }

  // A/B divider
  function setSplit(frac) {
    frac = Math.max(0, Math.min(1, frac));
    $("divider").style.left = (frac * 100) + "%";
    $("afterclip").style.clipPath = "inset(0 0 0 " + (frac * 100) + "%)";
    $("compare").dataset.split = frac.toFixed(3);
  }
  let dragging = false;
  $("divider").addEventListener("pointerdown", (e) => { dragging = true; e.preventDefault(); });
  window.addEventListener("pointerup", () => { dragging = false; });
  window.addEventListener("pointermove", (e) => {
    if (!dragging) return;
    const r = $("compare").getBoundingClientRect();
    setSplit((e.clientX - r.left) / r.width);
  });
  for (const img of document.querySelectorAll("#compare img")) img.draggable = false;

  $("look").addEventListener("change", async () => {
    state.look = $("look").value;
    state.params = {};  // a new look starts from its own values
    for (const f of $("lookthumbs").children) f.classList.toggle("selected", f.dataset.look === state.look);
    try { await loadLookValues(state.look); } catch (e) { say(e.message); }
    render(false);
  });
  $("frame").addEventListener("change", () => { state.frame = $("frame").value; render(true); });
  $("lookA").addEventListener("change", () => { state.lookA = $("lookA").value; if (state.photo) renderBefore(); });
  $("reset").addEventListener("click", async () => {
    state.params = {};
    state.strength = 1; $("s-strength").value = 1; $("s-strength").show();
    try { await loadLookValues(state.look); } catch (e) { say(e.message); }
    render(true);
  });
  $("savesidecar").addEventListener("click", async () => {
    if (!state.photo) return;
    try {
      const res = await (await api("POST", "/api/sidecar", { path: state.photo, look: state.look, params: state.params, strength: state.strength })).json();
      say("saved " + res.saved);
    } catch (e) { say(e.message); }
  });
  $("savelook").addEventListener("click", async () => {
    try {
      const res = await (await api("POST", "/api/look", { name: $("lookname").value, base: state.look, params: state.params, strength: state.strength, cube: true, path: state.photo })).json();
      say("saved " + res.saved + (res.cube ? " and " + res.cube : ""));
    } catch (e) { say(e.message); }
  });
  $("export").addEventListener("click", async () => {
    if (!state.photo) return;
    const bar = $("exportprogress");
    try {
      const { job } = await (await api("POST", "/api/export", { path: state.photo, look: state.look, params: state.params, ...common() })).json();
      bar.hidden = false;
      for (;;) {
        await new Promise((r) => setTimeout(r, 300));
        const j = await (await api("GET", "/api/job/" + job)).json();
        bar.value = j.progress;
        status("export: " + j.stage);
        if (j.state === "done") { say("exported " + j.saved + (j.notes && j.notes.length ? " (note: " + j.notes.join("; ") + ")" : "")); break; }
        if (j.state === "error") { say(j.error); break; }
      }
    } catch (e) { say(e.message); }
    bar.hidden = true;
  });

  setSplit(0.5);
  loadLooks().then(loadPhotos).catch((e) => say(e.message));
})();
