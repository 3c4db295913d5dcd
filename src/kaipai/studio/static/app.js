/* kaipai studio: storyboard, takes, cast & style, render queue and screening room over one project.
   Plain JavaScript, no build step: every change goes to the studio's JSON API, which calls the same
   service layer as the command line. */
"use strict";

const TOKEN = document.querySelector('meta[name="kaipai-token"]').content;
const TOKEN_HEADER = document.querySelector('meta[name="kaipai-header"]').content;
const view = document.getElementById("view");
let projectLanguage = null;

/* ------------------------------------------------------------------ helpers */

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value") el.value = v;
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c.nodeType ? c : String(c));
  return el;
}

function toast(message, kind) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.className = kind || "info";
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 8000 : 1800);
}

async function api(method, url, body) {
  const options = { method, headers: { [TOKEN_HEADER]: TOKEN } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    let message = (data && (data.error || data.detail)) || response.statusText;
    if (Array.isArray(message)) message = message.map(d => `${d.loc.join(".")}: ${d.msg}`).join("; ");
    toast(`${t("error")}: ${message}`, "error");
    throw new Error(message);
  }
  return data;
}

function badge(state) {
  return h("span", { class: `badge status-${state}` }, t(`status.${state}`));
}

/* Quality control's verdict on a shot or a take: a badge whose tooltip says why. */
function qcBadge(qc) {
  if (!qc || qc.verdict === "missing") return null;
  const label = qc.score === null || qc.score === undefined ? t(`qc.${qc.verdict}`) : `${t(`qc.${qc.verdict}`)} ${Number(qc.score).toFixed(2)}`;
  return h("span", { class: `badge qc qc-${qc.verdict}`, title: (qc.reasons || []).join("\n") }, label);
}

function qcReasons(qc) {
  if (!qc || !qc.reasons || !qc.reasons.length) return null;
  return h("ul", { class: "qc-reasons" }, qc.reasons.map(r => h("li", {}, r)));
}

function money(value) {
  return Number(value || 0).toFixed(2);
}

function select(name, options, value, onchange) {
  return h("select", { name, onchange, "aria-label": name }, options.map(o => h("option", { value: o, selected: o === value }, o)));
}

function mediaElement(url, kind, poster) {
  if (!url) return h("div", { class: "placeholder" }, t("shot.noPicture"));
  if (kind === "video") return h("video", { src: url, poster, controls: true, muted: true, loop: true, playsinline: true, preload: "metadata" });
  if (kind === "audio") return h("audio", { src: url, controls: true, preload: "none" });
  return h("img", { src: url, alt: "", loading: "lazy" });
}

/* ------------------------------------------------------------------ storyboard */

async function saveShot(id, fields) {
  await api("PATCH", `/api/shots/${encodeURIComponent(id)}`, fields);
  toast(t("saved"));
  refreshBadges();
}

async function saveLine(shot, line, fields) {
  await api("PATCH", `/api/shots/${encodeURIComponent(shot)}/lines/${encodeURIComponent(line)}`, fields);
  toast(t("saved"));
  refreshBadges();
}

async function refreshBadges() {
  const data = await api("GET", "/api/storyboard");
  for (const shot of data.shots) {
    const card = view.querySelector(`.card[data-shot="${CSS.escape(shot.id)}"]`);
    if (!card) continue;
    card.querySelector(".badge").replaceWith(badge(shot.status));
    const old = card.querySelector(".badge.qc");
    const fresh = qcBadge(shot.qc);
    if (old && fresh) old.replaceWith(fresh);
    else if (old) old.remove();
    else if (fresh) card.querySelector(".head .badge").after(fresh);
    card.classList.toggle("locked", shot.locked);
    const lock = card.querySelector("button.lock");
    if (lock) lock.textContent = shot.locked ? t("shot.unlock") : t("shot.lock");
  }
}

function shotCard(shot, data) {
  const id = shot.id;
  const picture = shot.clip
    ? h("video", { src: shot.clip, poster: shot.keyframe, muted: true, loop: true, playsinline: true, preload: "metadata",
                   onmouseenter: e => e.target.play().catch(() => {}), onmouseleave: e => e.target.pause() })
    : mediaElement(shot.keyframe, "image");
  const lines = shot.dialogue.map(line =>
    h("div", { class: "line" },
      h("span", { class: "speaker" }, shot.speakers[line.speaker] || line.speaker),
      line.parenthetical ? h("span", { class: "paren" }, `(${line.parenthetical})`) : null,
      h("input", { class: "line-text", value: line.text, dataset: { line: line.id }, "aria-label": line.id,
                   onchange: e => saveLine(id, line.id, { text: e.target.value }) })));
  return h("article", {
      class: `card${shot.locked ? " locked" : ""}`, draggable: "true", dataset: { shot: id },
      ondragstart: e => { e.dataTransfer.setData("text/plain", id); e.currentTarget.classList.add("dragging"); },
      ondragend: e => e.currentTarget.classList.remove("dragging"),
      ondragover: e => { e.preventDefault(); e.currentTarget.classList.add("over"); },
      ondragleave: e => e.currentTarget.classList.remove("over"),
      ondrop: async e => {
        e.preventDefault();
        e.currentTarget.classList.remove("over");
        const moving = e.dataTransfer.getData("text/plain");
        if (moving && moving !== id) { await api("POST", `/api/shots/${encodeURIComponent(moving)}/move`, { before: id }); storyboard(); }
      },
    },
    h("div", { class: "picture" }, picture),
    h("div", { class: "head" },
      h("a", { class: "shot-id", href: `#/shot/${encodeURIComponent(id)}` }, id),
      badge(shot.status),
      qcBadge(shot.qc),
      h("span", { class: "badge lockmark" }, t("shot.locked"))),
    shot.qc && shot.qc.verdict === "flagged" ? qcReasons(shot.qc) : null,
    h("div", { class: "fields" },
      select("size", data.enums.size, shot.size, e => saveShot(id, { size: e.target.value })),
      select("angle", data.enums.angle, shot.angle, e => saveShot(id, { angle: e.target.value })),
      select("move", data.enums.move, shot.move, e => saveShot(id, { move: e.target.value })),
      h("label", { class: "duration" },
        h("input", { type: "number", name: "duration", min: "0.1", step: "0.1", value: Number(shot.duration).toFixed(1),
                     onchange: e => saveShot(id, { duration: Number(e.target.value) }) }), " s")),
    h("textarea", { name: "description", rows: 3, placeholder: t("field.description"), value: shot.description,
                    onchange: e => saveShot(id, { description: e.target.value }) }),
    h("div", { class: "dialogue" }, lines),
    h("div", { class: "actions" },
      h("a", { class: "button", href: `#/shot/${encodeURIComponent(id)}` }, t("shot.open")),
      h("button", { class: "lock", type: "button", onclick: async () => {
        await api("POST", `/api/shots/${encodeURIComponent(id)}/lock`, { locked: !view.querySelector(`.card[data-shot="${CSS.escape(id)}"]`).classList.contains("locked") });
        refreshBadges();
      } }, shot.locked ? t("shot.unlock") : t("shot.lock")),
      h("button", { type: "button", class: "add", onclick: async () => { await api("POST", "/api/shots", { after: id }); storyboard(); } }, t("shot.add")),
      h("button", { type: "button", class: "danger delete", onclick: async () => {
        if (!confirm(t("shot.confirmDelete", { id }))) return;
        await api("DELETE", `/api/shots/${encodeURIComponent(id)}`);
        storyboard();
      } }, t("shot.delete"))));
}

async function storyboard() {
  const since = navigation;
  const data = await api("GET", "/api/storyboard");
  if (since !== navigation) return;
  setProject(data.project);
  const scenes = data.scenes.map(scene => {
    const shots = data.shots.filter(s => s.scene === scene.id);
    if (!shots.length) return null;
    return h("section", { class: "scene" }, h("h2", {}, `${scene.id} · ${scene.heading}`), h("div", { class: "cards" }, shots.map(s => shotCard(s, data))));
  });
  show(since, h("p", { class: "hint" }, t("shot.dragHint")), ...scenes);
}

/* ------------------------------------------------------------------ shot page */

function takeCard(shotId, take) {
  return h("figure", { class: `take take-${take.status}${take.stale ? " stale" : ""}`, dataset: { take: take.id } },
    mediaElement(take.url, take.media_kind),
    h("figcaption", {},
      h("div", { class: "take-head" }, h("strong", {}, `#${take.id}`), h("span", { class: `badge take-${take.status}` }, t(`take.${take.status}`)),
        qcBadge(take.qc),
        take.stale ? h("span", { class: "badge status-stale" }, t("takes.staleFlag")) : null),
      h("div", { class: "meta" }, `${take.backend}${take.model ? " / " + take.model : ""} · ${t("takes.seed")} ${take.seed}`),
      h("div", { class: "meta" }, `${t("takes.cost")} ${money(take.cost)} · ${Number(take.seconds).toFixed(1)} ${t("takes.seconds")} · ${take.created.slice(0, 19).replace("T", " ")}`),
      qcReasons(take.qc),
      take.prompt ? h("div", { class: "prompt" }, take.prompt) : null,
      h("div", { class: "actions" },
        h("button", { type: "button", class: "circle", disabled: take.status === "circled", onclick: async () => {
          await api("POST", `/api/shots/${encodeURIComponent(shotId)}/takes/${take.id}/circle`); shotPage(shotId);
        } }, t("takes.circle")),
        h("button", { type: "button", class: "reject danger", disabled: take.status === "rejected", onclick: async () => {
          await api("POST", `/api/shots/${encodeURIComponent(shotId)}/takes/${take.id}/reject`); shotPage(shotId);
        } }, t("takes.reject")))));
}

async function retake(shotId, stage, note, button) {
  button.disabled = true;
  toast(t("takes.working"));
  try {
    await api("POST", `/api/shots/${encodeURIComponent(shotId)}/retake`, { stage, note: note || "" });
    await shotPage(shotId);
  } finally {
    button.disabled = false;
  }
}

async function shotPage(shotId) {
  const since = navigation;
  const data = await api("GET", `/api/shots/${encodeURIComponent(shotId)}`);
  if (since !== navigation) return;
  const shot = data.shot;
  const note = h("textarea", { name: "note", rows: 2, placeholder: t("takes.note") });
  const noteStage = select("note-stage", data.enums.stages, "clip");
  const stages = data.stages.map(group =>
    h("section", { class: "stage", dataset: { stage: group.stage } },
      h("h3", {}, t(`stage.${group.stage}`), " ", badge(group.state),
        data.enums.stages.includes(group.stage)
          ? h("button", { type: "button", class: "retake", onclick: e => retake(shotId, group.stage, "", e.currentTarget) }, t("takes.retake"))
          : null),
      group.takes.length ? h("div", { class: "takes" }, group.takes.map(take => takeCard(shotId, take))) : h("p", { class: "hint" }, t("takes.none"))));
  show(since,
    h("a", { href: "#/", class: "back" }, t("takes.back")),
    h("h2", {}, t("takes.title", { id: shot.id }), " ", badge(shot.status), qcBadge(shot.qc), shot.locked ? h("span", { class: "badge" }, t("shot.locked")) : null),
    qcReasons(shot.qc),
    h("p", { class: "scene-heading" }, shot.scene_heading, " · ", `${shot.size} · ${shot.angle} · ${shot.move} · ${Number(shot.duration).toFixed(1)} s`),
    h("p", {}, shot.description),
    shot.dialogue.length ? h("ul", { class: "script" }, shot.dialogue.map(l => h("li", {}, h("b", {}, shot.speakers[l.speaker] || l.speaker), "：", l.text))) : null,
    h("div", { class: "note" }, note, noteStage,
      h("button", { type: "button", class: "retake-note", onclick: e => retake(shotId, noteStage.value, note.value, e.currentTarget) }, t("takes.retakeNote"))),
    ...stages);
}

/* ------------------------------------------------------------------ cast and style */

async function castPage() {
  const since = navigation;
  const data = await api("GET", "/api/cast");
  if (since !== navigation) return;
  setProject(data.project);
  const characters = data.characters.map(c =>
    h("article", { class: "character", dataset: { character: c.id } },
      h("h3", {}, h("span", { class: "swatch", style: `background:${c.color || "#888"}` }), c.name, h("small", {}, ` ${c.id}`)),
      c.references.length ? h("div", { class: "refs" }, c.references.map(u => h("img", { src: u, alt: c.name }))) : h("p", { class: "hint" }, t("cast.noRefs")),
      h("label", {}, t("cast.description"), h("textarea", { rows: 2, value: c.description, onchange: async e => { await api("PATCH", `/api/characters/${c.id}`, { description: e.target.value }); toast(t("saved")); } })),
      h("label", {}, t("cast.wardrobe"), h("input", { value: c.wardrobe, onchange: async e => { await api("PATCH", `/api/characters/${c.id}`, { wardrobe: e.target.value }); toast(t("saved")); } })),
      h("h4", {}, t("cast.voice")),
      c.voices.length ? h("ul", { class: "voices" }, c.voices.map(v => h("li", {}, h("span", {}, v.text), h("audio", { src: v.url, controls: true, preload: "none" }))))
                      : h("p", { class: "hint" }, t("cast.noVoice"))));
  const style = data.style;
  const inputs = {};
  const field = (name, rows) => {
    const value = name === "palette" ? style.palette.join(", ") : style[name];
    inputs[name] = rows ? h("textarea", { name, rows, value }) : h("input", { name, value });
    return h("label", {}, t(`style.${name}`), inputs[name]);
  };
  const form = h("form", { class: "style", onsubmit: async e => {
      e.preventDefault();
      const fields = {};
      for (const [name, input] of Object.entries(inputs)) fields[name] = name === "palette" ? input.value.split(/[,\s]+/).filter(Boolean) : input.value;
      await api("PATCH", "/api/style", fields);
      toast(t("cast.saved"));
      castPage();
    } },
    field("visual_style", 2), field("lighting", 2), field("lens"), field("palette"), field("negative_prompt", 2),
    h("div", { class: "palette" }, style.palette.map(c => h("span", { class: "swatch big", style: `background:${c}`, title: c }))),
    h("button", { type: "submit" }, t("cast.save")));
  const places = data.locations.map(l => h("li", {}, h("b", {}, l.name), l.description ? ` — ${l.description}` : "",
    l.references.length ? h("div", { class: "refs" }, l.references.map(u => h("img", { src: u, alt: l.name }))) : null));
  show(since,
    h("h2", {}, t("cast.characters")), h("div", { class: "characters" }, characters),
    h("h2", {}, t("cast.locations")), h("ul", { class: "locations" }, places),
    h("h2", {}, t("cast.style")), form);
}

/* ------------------------------------------------------------------ render queue */

let stream = null;

function closeStream() {
  if (stream) { stream.close(); stream = null; }
}

function progressRow(label) {
  const bar = h("progress", { max: 1, value: 0 });
  const count = h("span", { class: "count" }, "");
  return { row: h("div", { class: "progress-row" }, h("span", { class: "label" }, label), bar, count), bar, count, total: 0, done: 0 };
}

async function renderPage() {
  closeStream();
  const since = navigation;
  const [board, current] = await Promise.all([api("GET", "/api/storyboard"), api("GET", "/api/jobs/current")]);
  if (since !== navigation) return;
  setProject(board.project);
  const budget = h("input", { type: "number", min: "0", step: "0.01", name: "budget", placeholder: t("render.nolimit") });
  const status = h("p", { class: "job-status" }, t("render.idle"));
  const bars = h("div", { class: "bars" });
  const log = h("ol", { class: "log" });
  const runCost = h("span", { class: "run-cost" }, money(0));
  const budgetShown = h("span", {}, t("render.nolimit"));
  const rows = {};
  let seen = 0;
  let running = false;
  let cost = 0;

  const setRunning = value => {
    running = value;
    startButton.disabled = cutButton.disabled = value;
    cancelButton.disabled = !value;
    const badgeEl = document.getElementById("jobbadge");
    badgeEl.hidden = !value;
  };
  const row = key => {
    if (!rows[key]) { rows[key] = progressRow(key === "overall" ? t("render.overall") : key === "cut" ? t("render.cutting") : t(`stage.${key}`)); bars.append(rows[key].row); }
    return rows[key];
  };
  const advance = stage => {
    for (const key of [stage, "overall"]) {
      const r = rows[key];
      if (!r) continue;
      r.done += 1;
      r.bar.value = r.total ? r.done / r.total : 1;
      r.count.textContent = `${r.done}/${r.total}`;
    }
  };
  const handle = event => {
    seen += 1;
    if (event.kind === "job_started") {
      bars.replaceChildren(); log.replaceChildren(); for (const k of Object.keys(rows)) delete rows[k];
      cost = 0; runCost.textContent = money(0); setRunning(true);
      status.textContent = event.job === "cut" ? t("render.cutting") : t("render.start") + "…";
    } else if (event.kind === "plan") {
      const total = Object.values(event.stages).reduce((a, b) => a + b, 0);
      Object.assign(row("overall"), { total });
      row("overall").count.textContent = `0/${total}`;
      for (const [stage, n] of Object.entries(event.stages)) if (n) { Object.assign(row(stage), { total: n }); row(stage).count.textContent = `0/${n}`; }
    } else if (["done", "failed", "skipped"].includes(event.kind)) {
      advance(event.stage);
      cost += event.cost || 0;
      runCost.textContent = money(cost);
      log.prepend(h("li", { class: `ev-${event.kind}` }, `${event.kind} ${event.node}${event.message ? " — " + event.message : ""}`));
    } else if (event.kind === "retry") {
      log.prepend(h("li", { class: "ev-retry" }, `retry ${event.node} — ${event.message}`));
    } else if (event.kind === "retake" || event.kind === "checked") {
      log.prepend(h("li", { class: `ev-${event.kind}` }, `${event.kind === "retake" ? t("qc.retake") : t("qc.checked")} ${event.node} — ${event.message}`));
    } else if (event.kind === "cut_progress") {
      const r = row("cut"); r.bar.value = event.fraction; r.count.textContent = `${Math.round(event.fraction * 100)}%`;
    } else if (event.kind === "job_done") {
      closeStream();
      setRunning(false);
      if (!event.ok) status.textContent = t("render.failed", { error: event.error });
      else if (event.job === "cut") {
        status.replaceChildren(t("render.cutDone", { duration: Number(event.result.duration).toFixed(1) }), " ", h("a", { href: "#/screen" }, t("nav.screen")));
      } else if (event.result.cancelled) status.textContent = t("render.cancelled");
      else status.textContent = t("render.done", { generated: event.result.generated, reused: event.result.reused, failed: event.result.failed, cost: money(event.result.cost) });
      status.dataset.done = event.job;
    }
  };
  const listen = () => {
    closeStream();
    stream = new EventSource(`/api/events?after=${seen}`);
    stream.onmessage = m => handle(JSON.parse(m.data));
    stream.addEventListener("idle", () => closeStream());
    stream.onerror = () => { if (!running) closeStream(); };
  };
  const start = async (url, body) => {
    seen = 0;
    delete status.dataset.done;
    await api("POST", url, body);
    listen();
  };
  const startButton = h("button", { type: "button", class: "start", onclick: () => {
    const value = budget.value === "" ? null : Number(budget.value);
    budgetShown.textContent = value === null ? t("render.nolimit") : money(value);
    start("/api/render", { budget: value });
  } }, t("render.start"));
  const cutButton = h("button", { type: "button", class: "cut", onclick: () => start("/api/cut", {}) }, t("render.cut"));
  const animaticButton = h("button", { type: "button", class: "animatic", onclick: () => start("/api/cut", { slate: true }) }, t("render.animatic"));
  const cancelButton = h("button", { type: "button", class: "danger cancel", disabled: true, onclick: () => api("POST", "/api/jobs/cancel") }, t("render.cancel"));

  if (!show(since,
    h("div", { class: "controls" }, h("label", {}, t("render.budget"), " ", budget), startButton, cutButton, animaticButton, cancelButton),
    h("dl", { class: "money" },
      h("dt", {}, t("render.spent")), h("dd", {}, money(board.spent)),
      h("dt", {}, t("render.estimate")), h("dd", {}, money(board.estimate)),
      h("dt", {}, t("render.thisRun")), h("dd", {}, runCost, " / ", budgetShown)),
    status, bars, log)) return;
  if (current.job) {
    for (const event of current.events) handle(event);
    seen = current.job.events;
    if (!current.job.done) listen();
  }
}

/* ------------------------------------------------------------------ screening room */

async function screenPage() {
  const since = navigation;
  const data = await api("GET", "/api/screening");
  if (!data.film && !data.animatic) { show(since, h("p", { class: "hint" }, t("screen.none"))); return; }
  const video = h("video", { id: "film", src: data.film || data.animatic, controls: true, preload: "auto", playsinline: true },
    data.subtitles ? h("track", { kind: "subtitles", src: data.subtitles, srclang: projectLanguage || "zh", label: projectLanguage === "en" ? "English" : "中文", default: true }) : null);
  const total = data.shots.length ? data.shots[data.shots.length - 1].end : 1;
  const label = h("a", { class: "current-shot button" }, "");
  const segments = data.shots.map(s => h("button", {
    type: "button", class: "segment", dataset: { shot: s.shot }, title: `${s.shot} · ${s.description}`,
    style: `flex-grow:${Math.max(s.end - s.start, 0.01) / total}`,
    onclick: () => { video.currentTime = s.start + 0.01; video.play().catch(() => {}); },
  }, s.shot));
  const showShot = () => {
    const now = video.currentTime;
    const here = data.shots.find(s => now >= s.start && now < s.end) || data.shots[data.shots.length - 1];
    if (!here) return;
    label.textContent = t("screen.open", { id: here.shot });
    label.href = `#/shot/${encodeURIComponent(here.shot)}`;
    label.dataset.shot = here.shot;
    for (const seg of segments) seg.classList.toggle("now", seg.dataset.shot === here.shot);
  };
  video.addEventListener("timeupdate", showShot);
  /* the animatic (info bars over the picture) and the clean film, when both are cut */
  const toggle = data.film && data.animatic ? h("button", { type: "button", class: "animatic-toggle", onclick: () => {
    const showingFilm = video.getAttribute("src") === data.film;
    video.setAttribute("src", showingFilm ? data.animatic : data.film);
    toggle.textContent = t(showingFilm ? "screen.film" : "screen.animatic");
  } }, t("screen.animatic")) : null;
  if (!show(since, h("div", { class: "screen" }, video, h("div", { class: "strip" }, segments), label, toggle, h("p", { class: "hint" }, t("screen.hint"))))) return;
  if (video.textTracks[0]) video.textTracks[0].mode = "showing";
  showShot();
}

/* ------------------------------------------------------------------ routing and language */

function setProject(project) {
  document.getElementById("title").textContent = project.title;
  if (projectLanguage !== project.language) {
    projectLanguage = project.language;
    const lang = chooseLanguage(projectLanguage);
    if (lang !== LANG) { LANG = lang; applyLanguage(); route(); }
  }
}

function applyLanguage() {
  document.documentElement.lang = LANG === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  document.getElementById("lang").textContent = LANG === "zh" ? "EN" : "中文";
  document.getElementById("jobbadge").textContent = "●";
}

/* Every navigation counts one up. A page that finishes loading after a later navigation began (a slow
   answer, a busy machine), or a refresh of a page the director has left, is dropped: it never replaces
   the page they went to. */
let navigation = 0;

function show(since, ...nodes) {
  if (since !== navigation) return false;
  view.replaceChildren(...nodes);
  return true;
}

async function route() {
  const mine = ++navigation;
  closeStream();
  const hash = location.hash.replace(/^#\/?/, "");
  const [page, arg] = hash.split("/");
  const name = page === "shot" ? "storyboard" : page || "storyboard";
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.page === name);
  document.body.dataset.page = page || "storyboard";
  delete document.body.dataset.ready;
  try {
    if (page === "shot") await shotPage(decodeURIComponent(arg));
    else if (page === "cast") await castPage();
    else if (page === "render") await renderPage();
    else if (page === "screen") await screenPage();
    else await storyboard();
    if (mine !== navigation) return;  // a later navigation owns the page
    window.scrollTo(0, 0);
    document.body.dataset.ready = page || "storyboard";
  } catch (err) {
    show(mine, h("p", { class: "error" }, String(err.message || err)));
  }
}

document.getElementById("lang").addEventListener("click", () => {
  LANG = LANG === "zh" ? "en" : "zh";
  localStorage.setItem("kaipai.lang", LANG);
  applyLanguage();
  route();
});
window.addEventListener("hashchange", route);
applyLanguage();
route();
