"use strict";
// agentsafe HTML report: plots, episode list (filters, sorting, paging) and the trajectory viewer.
(function () {
  const $ = (s, el) => (el || document).querySelector(s);
  const data = (id) => JSON.parse(document.getElementById(id).textContent);
  const INDEX = data("index-data");
  const SCEN = data("scenario-data");
  const PAGE = 200;
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));

  // ------------------------------------------------------------------ plots
  function plots() {
    const figs = data("figures-data");
    const box = $("#figures");
    figs.forEach((spec, i) => {
      const div = document.createElement("div");
      div.className = "figure"; div.id = "fig" + i;
      box.appendChild(div);
      if (window.vegaEmbed) vegaEmbed(div, spec, {actions: false, renderer: "svg"}).catch((e) => console.error(e));
    });
  }

  // ------------------------------------------------------------------ episode list
  const state = {sort: null, dir: 1, shown: PAGE, rows: INDEX};
  function fillFilters() {
    document.querySelectorAll(".filters select[data-f]").forEach((sel) => {
      const f = sel.dataset.f;
      if (f === "outcome") return;
      const vals = new Set();
      INDEX.forEach((r) => (Array.isArray(r[f]) ? r[f] : [r[f]]).forEach((v) => vals.add(v)));
      sel.innerHTML = '<option value="">any</option>' + [...vals].sort().map((v) => `<option>${esc(v)}</option>`).join("");
      sel.addEventListener("change", apply);
    });
    $('select[data-f="outcome"]').addEventListener("change", apply);
    $("#q").addEventListener("input", apply);
    document.querySelectorAll("th[data-sort]").forEach((th) => th.addEventListener("click", () => {
      const k = th.dataset.sort;
      state.dir = state.sort === k ? -state.dir : 1; state.sort = k;
      document.querySelectorAll("th[data-sort]").forEach((t) => t.classList.remove("asc", "desc"));
      th.classList.add(state.dir > 0 ? "asc" : "desc");
      apply();
    }));
    $("#more").addEventListener("click", () => { state.shown += PAGE; draw(); });
  }
  function apply() {
    const want = {};
    document.querySelectorAll(".filters select[data-f]").forEach((s) => { if (s.value) want[s.dataset.f] = s.value; });
    const q = $("#q").value.toLowerCase();
    let rows = INDEX.filter((r) => {
      for (const [f, v] of Object.entries(want)) {
        if (f === "outcome") {
          if (v === "violation" && !r.violations) return false;
          if (v === "clean" && r.violations) return false;
          if (v === "attack" && !r.attack) return false;
        } else if (Array.isArray(r[f]) ? !r[f].includes(v) : String(r[f]) !== v) return false;
      }
      return !q || r.scenario.toLowerCase().includes(q);
    });
    if (state.sort) {
      const k = state.sort, d = state.dir;
      rows = rows.slice().sort((a, b) => (a[k] > b[k] ? d : a[k] < b[k] ? -d : 0));
    }
    state.rows = rows; state.shown = PAGE; draw();
  }
  function draw() {
    const body = $("#ep-table tbody");
    const rows = state.rows.slice(0, state.shown);
    body.innerHTML = rows.map((r) => `<tr data-i="${r.i}" class="${r.violations ? "bad" : ""}">` +
      `<td>${esc(r.scenario)}</td><td>${r.trial}</td><td>${esc(r.agent)}</td><td>${esc(r.suite)}</td>` +
      `<td>${esc(r.category)}</td><td>${esc(r.status)}</td><td>${r.completed ? "yes" : "no"}</td>` +
      `<td>${r.violations}</td><td>${r.injected ? (r.attack ? "succeeded" : "resisted") : ""}</td><td>${r.steps}</td></tr>`).join("");
    $("#count").textContent = `${state.rows.length} of ${INDEX.length} episodes`;
    $("#more").hidden = state.shown >= state.rows.length;
  }
  $("#ep-table tbody").addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr[data-i]");
    if (tr) location.hash = "ep=" + tr.dataset.i;
  });

  // ------------------------------------------------------------------ trajectories (lazy)
  const cache = new Map();
  async function load(i) {
    if (cache.has(i)) return cache.get(i);
    if (window.AGENTSAFE_SERVED) {  // agentsafe view: the server holds the trajectories
      const r = INDEX[i];
      const resp = await fetch(`api/episode?run=${encodeURIComponent(r.run)}&scenario=${encodeURIComponent(r.scenario)}&trial=${r.trial}`);
      if (!resp.ok) throw new Error("episode " + i + ": HTTP " + resp.status);
      const ep = await resp.json();
      cache.set(i, ep);
      return ep;
    }
    const b64 = document.getElementById("t" + i).textContent.trim();
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    const ep = JSON.parse(await new Response(stream).text());
    cache.set(i, ep);
    return ep;
  }

  function canaryRegexes(sid) {
    const info = SCEN[sid];
    if (!info) return [];
    return info.injections.filter((j) => j.canary && j.canary.trim()).map((j) =>
      new RegExp(j.canary.trim().split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\s+"), "gi"));
  }
  // HTML of `text` with every match of `rxs` wrapped in <mark class=cls>.
  function hl(text, rxs, cls) {
    text = String(text == null ? "" : text);
    const spans = [];
    rxs.forEach((rx) => { rx.lastIndex = 0; let m; while ((m = rx.exec(text)) && m[0].length) spans.push([m.index, m.index + m[0].length]); });
    if (!spans.length) return esc(text);
    spans.sort((a, b) => a[0] - b[0]);
    let out = "", pos = 0;
    for (const [a, b] of spans) { if (a < pos) continue; out += esc(text.slice(pos, a)) + `<mark class="${cls}">` + esc(text.slice(a, b)) + "</mark>"; pos = b; }
    return out + esc(text.slice(pos));
  }
  function evidenceRegexes(verdicts) {
    // quoted fragments of the evidence ('...' or "...") are highlighted where they occur
    const out = [];
    verdicts.forEach((v) => (v.evidence || "").replace(/['"`]([^'"`]{4,120})['"`]/g, (_, q) => {
      out.push(new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "g"));
    }));
    return out;
  }

  function renderEvent(e, ctx) {
    const kind = e.kind;
    let body = "";
    const evid = ctx.evidenceCalls.has(e.call && e.call.id) && (kind === "call" || kind === "blocked");
    if (e.call) body += `<div><b>${esc(e.call.name)}</b> <code>${hl(JSON.stringify(e.call.args), ctx.evRx, "evid")}</code></div>`;
    if (e.target && (e.target.text || e.target.role)) body += `<div class="hint">target: ${esc(e.target.role || "")} “${esc(e.target.text || "")}” ${esc(e.target.ref || "")}</div>`;
    if (e.url) body += `<div class="hint">url: ${esc(e.url)}</div>`;
    if (kind === "result" && e.result) body += `<div>${e.result.ok ? "ok" : "<b>error</b>"}</div>`;
    if (e.text) body += `<pre>${hl(e.text, ctx.injRx.concat(ctx.evRx), "inj")}</pre>`;
    const shot = e.data && e.data.screenshot;
    if (shot) {
      const el = document.getElementById("img-" + shot);
      const src = el ? JSON.parse(el.textContent) : (window.AGENTSAFE_SERVED ? "api/artifact/" + shot : null);
      body += src ? `<img class="shot" alt="screenshot at step ${e.step}" src="${esc(src)}">` : `<div class="hint">screenshot ${esc(shot)} not stored</div>`;
    }
    const known = ["instruction", "observation", "agent_text", "call", "result", "blocked", "tool_error", "user_answer", "end"];
    const extra = Object.assign({}, e.data || {}); delete extra.screenshot;
    if (Object.keys(extra).length || !known.includes(kind)) body += `<pre class="data">${esc(JSON.stringify(extra, null, 1))}</pre>`;
    return `<div class="ev k-${esc(kind)}${evid ? " evidence" : ""}" data-kind="${esc(kind)}"><span class="kind">${esc(kind)}</span>${body}</div>`;
  }

  function renderPane(ep, row) {
    const r = ep.r, events = ep.e;
    const info = SCEN[r.scenario_id] || {policies: {}, injections: []};
    const violated = r.verdicts.filter((v) => v.status === "violated");
    const badSteps = new Set(violated.map((v) => v.step).filter((s) => s != null));
    const expSteps = new Set(events.filter((e) => e.kind === "injection_exposed").map((e) => e.step));
    const ctx = {injRx: canaryRegexes(r.scenario_id), evRx: evidenceRegexes(violated),
                 evidenceCalls: new Set(violated.map((v) => v.action && v.action.id).filter(Boolean))};
    const steps = new Map();
    events.forEach((e) => { if (!steps.has(e.step)) steps.set(e.step, []); steps.get(e.step).push(e); });
    const instr = (events.find((e) => e.kind === "instruction") || {}).text || "";
    let h = `<h3>${esc(r.scenario_id)} <small>#${r.trial}</small></h3>`;
    h += `<div class="hint">${esc(row.agent)} · run ${esc(r.run_id)} · ${esc(r.status)} · ${r.checks.length && r.checks.every((c) => c.passed) ? "completed" : "not completed"} · ${violated.length} violation(s) · ${r.steps} steps${r.injected ? " · injected" + (r.exposed ? ", exposed" : "") + (r.attack_success ? ", <b>attack succeeded</b>" : "") : ""}</div>`;
    if (info.title) h += `<div><i>${esc(info.title)}</i></div>`;
    h += `<h4>Instruction</h4><div class="instruction">${esc(instr)}</div>`;
    if (info.injections.length) h += `<h4>Injections</h4><ul>${info.injections.map((j) => `<li>${esc(j.id)} via ${esc(j.carrier)} (${esc(j.template)}): goal “${esc(j.goal)}”; canary <mark class="inj">${esc(j.canary)}</mark></li>`).join("")}</ul>`;
    h += `<h4>Policies and verdicts</h4><ul class="verdicts">` + r.verdicts.map((v, k) =>
      `<li class="v-${esc(v.status)}" data-v="${k}" data-step="${v.step == null ? "" : v.step}"><b>${esc(v.status)}</b> ${esc(v.policy_id)} <span class="hint">${esc(v.dimension)} · ${esc(v.source)} · ${esc(v.severity)}${v.step != null ? " · step " + v.step : ""}</span>` +
      (info.policies[v.policy_id] ? `<div class="hint">${esc(info.policies[v.policy_id])}</div>` : "") +
      (v.status === "violated" ? `<div class="evidence-text hint">evidence: ${esc(v.evidence)}</div>` : "") + "</li>").join("") + "</ul>";
    h += `<h4>Checks</h4><ul>${r.checks.map((c) => `<li>${c.passed ? "✔" : "✘"} ${esc(c.name)} <span class="hint">${esc(c.detail)}</span></li>`).join("")}</ul>`;
    if (r.final_answer) h += `<div><b>final answer:</b> ${esc(r.final_answer)}</div>`;
    if (r.error) h += `<div class="warn">${esc(r.error)}</div>`;
    h += `<h4>Timeline</h4><div class="timeline">` + [...steps.keys()].map((s) =>
      `<span data-step="${s}" class="${badSteps.has(s) ? "bad" : ""} ${expSteps.has(s) ? "exp" : ""}" title="step ${s}${badSteps.has(s) ? ": violation" : ""}${expSteps.has(s) ? ": injection exposed" : ""}">${s}</span>`).join("") + "</div>";
    h += `<h4>Steps</h4>`;
    for (const [s, evs] of steps) {
      const bad = badSteps.has(s);
      const vs = violated.filter((v) => v.step === s);
      const call = evs.find((e) => e.call);
      h += `<details class="step${bad ? " violating" : ""}" data-step="${s}"${bad ? " open" : ""}><summary>step ${s}${call ? ": " + esc(call.call.name) : ""}${bad ? " — violates " + vs.map((v) => esc(v.policy_id)).join(", ") : ""}${expSteps.has(s) ? " — injection exposed" : ""}</summary>`;
      vs.forEach((v) => { h += `<div class="evidence-box"><b>${esc(v.policy_id)}</b>: ${esc(v.evidence)}</div>`; });
      h += evs.map((e) => renderEvent(e, ctx)).join("") + "</details>";
    }
    const pane = document.createElement("div");
    pane.className = "pane"; pane.innerHTML = h;
    const focus = (step) => {
      const d = pane.querySelector(`details.step[data-step="${step}"]`);
      if (!d) return;
      d.open = true; d.scrollIntoView({block: "start"});
      pane.querySelectorAll("details.step.focused").forEach((x) => x.classList.remove("focused"));
      d.classList.add("focused");
    };
    pane.addEventListener("click", (ev) => {
      const t = ev.target.closest("[data-step]");
      if (t && t.dataset.step !== "" && !t.matches("details")) focus(t.dataset.step);
    });
    return pane;
  }

  async function openEpisode(i, j) {
    const row = INDEX[i];
    const v = $("#viewer"); v.hidden = false;
    const panes = $("#panes"); panes.innerHTML = "";
    const sel = $("#compare");
    const others = INDEX.filter((r) => r.scenario === row.scenario && r.agent !== row.agent);
    sel.innerHTML = '<option value="">—</option>' + others.map((r) => `<option value="${r.i}">${esc(r.agent)} #${r.trial}</option>`).join("");
    sel.value = j == null ? "" : String(j);
    panes.appendChild(renderPane(await load(i), row));
    if (j != null && INDEX[j]) panes.appendChild(renderPane(await load(j), INDEX[j]));
    document.title = row.scenario + " — agentsafe";
  }
  $("#compare").addEventListener("change", (ev) => {
    const cur = /ep=(\d+)/.exec(location.hash);
    if (cur) location.hash = "ep=" + cur[1] + (ev.target.value ? "&vs=" + ev.target.value : "");
  });
  $("#close").addEventListener("click", () => { location.hash = "episodes"; });
  function route() {
    const m = /ep=(\d+)(?:&vs=(\d+))?/.exec(location.hash);
    if (m) openEpisode(+m[1], m[2] == null ? null : +m[2]).catch((e) => console.error(e));
    else $("#viewer").hidden = true;
  }
  window.addEventListener("hashchange", route);

  fillFilters();
  draw();
  route();
  // plots last: the list is usable before the charting library has laid anything out
  setTimeout(plots, 0);
  window.agentsafeReady = true;
})();
