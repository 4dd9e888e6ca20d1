// The case matrix: rows = cases, columns = models, rendered a page at a time from the embedded JSON.
// Every string from a model or a dataset goes into the page through textContent / text nodes only.
(function () {
  "use strict";

  const payload = JSON.parse(document.getElementById("lc-data").textContent);
  const columns = payload.columns;
  const cases = payload.cases;

  const $ = (id) => document.getElementById(id);
  const body = $("case-body");
  const head = $("case-head");
  const search = $("case-search");
  const taskSel = $("case-task");
  const disagreeBox = $("case-disagree");
  const checkSel = $("case-check");
  const diffOn = $("diff-on");
  const diffA = $("diff-a");
  const diffB = $("diff-b");
  const pageSize = $("page-size");
  const prev = $("page-prev");
  const next = $("page-next");

  const state = { query: [], task: "", disagree: false, check: "", tool: "", page: 0, size: 50, diff: false, a: "", b: "" };
  const openCell = new Map(); // case index -> model whose details are shown
  let filtered = cases;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // Search folding: case-, accent- and dotted/dotless-i-insensitive, so "istanbul" finds "İstanbul".
  function fold(s) {
    return String(s || "")
      .toLowerCase()
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/\u0131/g, "i");
  }

  cases.forEach((c, i) => {
    c._i = i;
    const parts = [c.id, c.task, c.input, c.reference];
    for (const m of Object.keys(c.answers || {})) {
      const a = c.answers[m] || {};
      parts.push(a.text, a.error, a.label, a.shown && a.shown.calls);
    }
    c._hay = fold(parts.filter((p) => p !== null && p !== undefined).join("\n"));
  });

  // Figures arrive formatted (answer.shown, by llamacompare/formatting.py): one formatter for every view.

  // ---- word diff: LCS over word/punctuation/whitespace tokens ----
  function tokenize(s) { return String(s || "").match(/\s+|[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) || []; }

  function wordDiff(aText, bText) {
    const A = tokenize(aText), B = tokenize(bText);
    const raw = [];
    let pre = 0;
    while (pre < A.length && pre < B.length && A[pre] === B[pre]) pre++;
    let suf = 0;
    while (suf < A.length - pre && suf < B.length - pre && A[A.length - 1 - suf] === B[B.length - 1 - suf]) suf++;
    const a = A.slice(pre, A.length - suf), b = B.slice(pre, B.length - suf);
    for (const t of A.slice(0, pre)) raw.push(["=", t]);
    const n = a.length, m = b.length, w = m + 1;
    if (n * m > 4e6) { // too long for a table: show the middle as replaced
      for (const t of a) raw.push(["-", t]);
      for (const t of b) raw.push(["+", t]);
    } else {
      const t = new Uint32Array((n + 1) * w);
      for (let i = n - 1; i >= 0; i--) {
        for (let j = m - 1; j >= 0; j--) {
          t[i * w + j] = a[i] === b[j] ? t[(i + 1) * w + j + 1] + 1 : Math.max(t[(i + 1) * w + j], t[i * w + j + 1]);
        }
      }
      let i = 0, j = 0;
      while (i < n && j < m) {
        if (a[i] === b[j]) { raw.push(["=", a[i]]); i++; j++; }
        else if (t[(i + 1) * w + j] >= t[i * w + j + 1]) raw.push(["-", a[i++]]);
        else raw.push(["+", b[j++]]);
      }
      while (i < n) raw.push(["-", a[i++]]);
      while (j < m) raw.push(["+", b[j++]]);
    }
    for (const tok of A.slice(A.length - suf)) raw.push(["=", tok]);
    // Group each run of changes (whitespace between two changes joins them) as one deletion + one insertion.
    const out = [];
    let del = "", ins = "";
    const flush = () => {
      if (del) out.push(["-", del]);
      if (ins) out.push(["+", ins]);
      del = ins = "";
    };
    for (let k = 0; k < raw.length; k++) {
      const [op, tok] = raw[k];
      const inChange = del || ins;
      if (op === "=" && inChange && /^\s+$/.test(tok) && k + 1 < raw.length && raw[k + 1][0] !== "=") {
        del += tok; ins += tok;
      } else if (op === "-") del += tok;
      else if (op === "+") ins += tok;
      else {
        flush();
        if (out.length && out[out.length - 1][0] === "=") out[out.length - 1][1] += tok;
        else out.push(["=", tok]);
      }
    }
    flush();
    return out;
  }

  function diffNodes(aText, bText) {
    const frag = document.createDocumentFragment();
    for (const [op, text] of wordDiff(aText, bText)) {
      frag.append(op === "=" ? document.createTextNode(text) : el(op === "-" ? "del" : "ins", null, text));
    }
    return frag;
  }

  const diffActive = () => state.diff && state.a && state.b && state.a !== state.b;

  // ---- human labels: kept in this browser per run (localStorage), exported as the JSON file that
  // `llamacompare rescore RUN --labels FILE` reads (format: llamacompare/analysis/human.py) ----
  const runId = payload.run_id;
  const storeKey = "llamacompare-labels:" + runId;
  let review = { reviewer: "", labels: {} };
  try {
    const saved = JSON.parse(localStorage.getItem(storeKey) || "null");
    if (saved && typeof saved.labels === "object" && saved.labels !== null) {
      review = { reviewer: String(saved.reviewer || ""), labels: saved.labels };
    }
  } catch (e) { /* no storage (a locked-down browser): marks last as long as the page */ }

  function saveReview() {
    try { localStorage.setItem(storeKey, JSON.stringify(review)); } catch (e) { /* see above */ }
    const n = Object.keys(review.labels).length;
    $("hl-count").textContent = n === 1 ? "1 label in this browser" : n + " labels in this browser";
    $("hl-count").dataset.count = String(n);
  }

  const answerKey = (c, a) => JSON.stringify([c.task, c.id, a.model, a.mode || "generate", 0, ""]);
  const SWAPPED = { a_better: "b_better", b_better: "a_better", tie: "tie" };

  // A pair is stored with its models in name order, so marking B-vs-A later finds the same label.
  function pairOf(c) {
    const a = c.answers[state.a], b = c.answers[state.b];
    if (!diffActive() || !a || !b || a.error || b.error || (a.mode || "") !== (b.mode || "") || a.model === b.model) {
      return null;
    }
    const flip = a.model > b.model;
    const [x, y] = flip ? [b, a] : [a, b];
    return { key: JSON.stringify([c.task, c.id, x.model, x.mode || "generate", 0, y.model]), x, y, flip };
  }

  function setLabel(key, entry) {
    const old = review.labels[key];
    if (old && old.label === entry.label) delete review.labels[key]; // a second click unmarks
    else review.labels[key] = entry;
    saveReview();
  }

  function mark(c, m, label) {
    const a = c.answers[m];
    setLabel(answerKey(c, a), { task: c.task, case: c.id, model: a.model, mode: a.mode || "generate", repeat: 0,
      label: label, timestamp: new Date().toISOString() });
  }

  function markPair(c, label) {
    const p = pairOf(c);
    if (!p) return;
    setLabel(p.key, { task: c.task, case: c.id, model: p.x.model, mode: p.x.mode || "generate", repeat: 0,
      versus: p.y.model, label: p.flip ? SWAPPED[label] : label, timestamp: new Date().toISOString() });
  }

  function markButton(cls, text, title, pressed, data) {
    const b = el("button", "hl-btn " + cls, text);
    b.type = "button";
    b.title = title;
    b.setAttribute("aria-label", title);
    b.setAttribute("aria-pressed", pressed ? "true" : "false");
    for (const [k, v] of Object.entries(data)) b.dataset[k] = v;
    return b;
  }

  function answerMarks(c, m) {
    const a = c.answers[m];
    const got = review.labels[answerKey(c, a)];
    const box = el("div", "hl-marks");
    box.append(
      markButton("hl-correct", "\u2713", "Mark " + m + " correct", got && got.label === "correct", { label: "correct" }),
      markButton("hl-wrong", "\u2717", "Mark " + m + " wrong", got && got.label === "wrong", { label: "wrong" }));
    return box;
  }

  function pairMarks(c) {
    const p = pairOf(c);
    if (!p) return null;
    const got = review.labels[p.key];
    const shown = got ? (p.flip ? SWAPPED[got.label] : got.label) : "";
    const box = el("div", "hl-pair");
    box.append(el("span", "muted", "A vs B:"));
    for (const [label, text] of [["a_better", "A better"], ["b_better", "B better"], ["tie", "Tie"]]) {
      box.append(markButton("hl-pair-btn", text, text + " (A: " + state.a + ", B: " + state.b + ")", shown === label,
        { pair: label }));
    }
    return box;
  }

  function exportLabels() {
    const reviewer = review.reviewer.trim();
    const labels = Object.values(review.labels).map((l) => {
      const out = Object.assign({ run_id: runId }, l);
      if (reviewer) out.reviewer = reviewer;
      return out;
    });
    const doc = { format: "llamacompare-labels", version: 1, run_id: runId, exported_at: new Date().toISOString(),
      labels: labels };
    const blob = new Blob([JSON.stringify(doc, null, 2) + "\n"], { type: "application/json" });
    const link = el("a");
    link.href = URL.createObjectURL(blob);
    link.download = "labels-" + runId + ".json";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  // ---- table ----
  function renderHead() {
    const cells = [el("th", "case-col", "Case")];
    for (const m of columns) {
      const th = el("th", null, m);
      th.scope = "col";
      if (diffActive() && (m === state.a || m === state.b)) th.append(el("span", "col-tag", m === state.a ? "A" : "B"));
      cells.push(th);
    }
    head.replaceChildren(...cells);
  }

  function answerText(c, m) {
    const ans = c.answers[m];
    const box = el("div", "answer-text clamp");
    const diffHere = diffActive() && m === state.b;
    if (ans.shown.text_is_label && !diffHere) return null; // a classify answer that is just its label: the tag says it
    if (ans.text === null || ans.text === undefined) {
      box.className = ans.error ? "answer-error clamp" : "answer-missing";
      box.textContent = ans.error ? ans.error : "no answer";
    } else if (diffActive() && m === state.b && c.answers[state.a]) {
      box.append(diffNodes(c.answers[state.a].text || "", ans.text));
    } else {
      box.textContent = ans.text;
    }
    return box;
  }

  function answerCell(c, m) {
    const ans = c.answers[m];
    if (!ans) return el("td", "answer-missing", "not run");
    const td = el("td", "answer");
    td.tabIndex = 0;
    td.dataset.model = m;
    td.setAttribute("role", "button");
    td.setAttribute("aria-expanded", openCell.get(c._i) === m ? "true" : "false");
    if (openCell.get(c._i) === m) td.classList.add("open");
    const meta = el("div", "cell-meta");
    // The marks come from the Python side (html.answer_tags), so the notebook's matrix shows the same ones.
    for (const [kind, text] of ans.shown.tags) meta.append(el("span", kind ? "tag tag-" + kind : "tag", text));
    if (meta.childNodes.length) td.append(meta);
    // a tool_call answer: the calls it made (html.shown), beside the case's expected ones
    if (ans.shown.calls !== undefined) td.append(el("div", "answer-calls", ans.shown.calls));
    const text = answerText(c, m);
    if (text) td.append(text);
    if (!ans.error) td.append(answerMarks(c, m)); // a failed request has no answer to judge (nor does the run)
    return td;
  }

  function detailRow(c, m) {
    const ans = c.answers[m];
    const tr = el("tr", "detail-row");
    const td = el("td");
    td.colSpan = columns.length + 1;
    const top = el("div", "detail-head");
    top.append(el("h3", null, m + " \u00b7 " + c.task + " / " + c.id));
    const close = el("button", "detail-close", "Close");
    close.type = "button";
    close.addEventListener("click", (ev) => { ev.stopPropagation(); toggle(c, m); });
    top.append(close);
    const grid = el("dl", "detail-grid");
    for (const [k, v] of ans.shown.facts) { // html.answer_facts: the notebook's c.show() lists the same
      const d = el("div");
      d.append(el("dt", null, k), el("dd", null, v));
      grid.append(d);
    }
    td.append(top, grid);
    const block = (title, content) => {
      const b = el("div", "detail-block");
      const pre = el("pre");
      if (typeof content === "string") pre.textContent = content; else pre.append(content);
      b.append(el("h4", null, title), pre);
      td.append(b);
    };
    if (ans.error) block("Error", ans.error);
    if (ans.shown.calls !== undefined) block("Calls", ans.shown.calls);
    if (ans.text !== null && ans.text !== undefined) block("Answer", ans.text);
    if (diffActive() && m === state.b && c.answers[state.a]) {
      block("Word diff: " + state.a + " \u2192 " + state.b, diffNodes(c.answers[state.a].text || "", ans.text || ""));
    }
    if (c.reference !== null && c.reference !== undefined) block("Reference", c.reference);
    block("Rendered prompt", ans.prompt || "");
    block("Parameters", JSON.stringify(ans.params || {}, null, 2));
    tr.append(td);
    return tr;
  }

  function caseRow(c) {
    const tr = el("tr", "case-row" + (c.disagree ? " disagree" : ""));
    tr.dataset.index = String(c._i);
    const td = el("td", "case-cell");
    const top = el("div");
    top.append(el("span", "case-id", c.id), el("span", "case-task", c.task));
    td.append(top, el("div", "case-input clamp", c.input));
    if (c.reference !== null && c.reference !== undefined) {
      const ref = el("div", "case-ref clamp");
      ref.append(el("b", null, "Reference: "), document.createTextNode(c.reference));
      td.append(ref);
    }
    const pair = pairMarks(c);
    if (pair) td.append(pair);
    tr.append(td);
    for (const m of columns) tr.append(answerCell(c, m));
    return tr;
  }

  function rowsFor(c) {
    const rows = [caseRow(c)];
    if (openCell.has(c._i)) rows.push(detailRow(c, openCell.get(c._i)));
    return rows;
  }

  function toggle(c, m) {
    if (openCell.get(c._i) === m) openCell.delete(c._i); else openCell.set(c._i, m);
    refresh(c);
    const cell = body.querySelector('tr.case-row[data-index="' + c._i + '"] td.answer.open');
    if (cell) cell.focus({ preventScroll: true });
  }

  function refresh(c) {
    const row = body.querySelector('tr.case-row[data-index="' + c._i + '"]');
    if (!row) return;
    const after = row.nextElementSibling;
    if (after && after.classList.contains("detail-row")) after.remove();
    row.replaceWith(...rowsFor(c));
  }

  function applyFilters() {
    filtered = cases.filter((c) =>
      (!state.task || c.task === state.task) &&
      (!state.disagree || c.disagree) &&
      (!state.check || Object.values(c.answers || {}).some((a) => (a.failed_checks || []).includes(state.check))) &&
      (!state.tool || Object.values(c.answers || {}).some((a) => a.verdict === state.tool)) &&
      state.query.every((q) => c._hay.includes(q)));
    state.page = 0;
    render();
  }

  function render() {
    renderHead();
    const pages = Math.max(1, Math.ceil(filtered.length / state.size));
    state.page = Math.min(state.page, pages - 1);
    const start = state.page * state.size;
    const slice = filtered.slice(start, start + state.size);
    const rows = [];
    for (const c of slice) rows.push(...rowsFor(c));
    if (!slice.length) {
      const tr = el("tr");
      const td = el("td", "empty", "No cases match these filters.");
      td.colSpan = columns.length + 1;
      tr.append(td);
      rows.push(tr);
    }
    body.replaceChildren(...rows);
    const status = $("case-status");
    status.dataset.matching = String(filtered.length);
    status.textContent = filtered.length === cases.length
      ? cases.length + " cases"
      : filtered.length + " of " + cases.length + " cases match";
    $("page-info").textContent = filtered.length
      ? "Rows " + (start + 1) + "\u2013" + (start + slice.length) + " of " + filtered.length + " \u00b7 page " + (state.page + 1) + " of " + pages
      : "No rows";
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
  }

  // ---- controls ----
  for (const sel of [diffA, diffB]) {
    for (const m of columns) {
      const o = el("option", null, m);
      o.value = m;
      sel.append(o);
    }
  }
  state.a = columns[0] || "";
  state.b = columns[1] || columns[0] || "";
  diffA.value = state.a;
  diffB.value = state.b;

  // "fails check X": the cases where at least one model's answer did not pass X (html.failed_checks)
  for (const [metric, name] of payload.checks || []) {
    const o = el("option", null, "Fails: " + name);
    o.value = metric;
    checkSel.append(o);
  }
  checkSel.hidden = !(payload.checks || []).length;

  const disagreeCount = cases.filter((c) => c.disagree).length;
  disagreeBox.parentElement.append(document.createTextNode(" (" + disagreeCount + ")"));

  let timer = 0;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      state.query = fold(search.value).split(/\s+/).filter(Boolean);
      applyFilters();
    }, 120);
  });
  taskSel.addEventListener("change", () => { state.task = taskSel.value; applyFilters(); });
  disagreeBox.addEventListener("change", () => { state.disagree = disagreeBox.checked; applyFilters(); });
  checkSel.addEventListener("change", () => { state.check = checkSel.value; applyFilters(); });
  const toolSel = $("case-tool");  // only where the run has tool_call tasks
  if (toolSel) toolSel.addEventListener("change", () => { state.tool = toolSel.value; applyFilters(); });
  diffOn.addEventListener("change", () => { state.diff = diffOn.checked; render(); });
  diffA.addEventListener("change", () => { state.a = diffA.value; render(); });
  diffB.addEventListener("change", () => { state.b = diffB.value; render(); });
  pageSize.addEventListener("change", () => { state.size = Number(pageSize.value) || 50; state.page = 0; render(); });
  prev.addEventListener("click", () => { state.page--; render(); });
  next.addEventListener("click", () => { state.page++; render(); });

  function cellEvent(ev) {
    const td = ev.target.closest("td.answer");
    if (!td || !body.contains(td)) return;
    const c = cases[Number(td.parentElement.dataset.index)];
    if (c) toggle(c, td.dataset.model);
  }
  body.addEventListener("click", (ev) => {
    const btn = ev.target.closest("button.hl-btn");
    if (btn && body.contains(btn)) { // a mark, not a click that opens the answer
      const c = cases[Number(btn.closest("tr.case-row").dataset.index)];
      const { pair, label } = btn.dataset;
      const model = pair ? null : btn.closest("td.answer").dataset.model;
      if (pair) markPair(c, pair); else mark(c, model, label);
      refresh(c);
      const row = body.querySelector('tr.case-row[data-index="' + c._i + '"]');
      const again = pair
        ? row.querySelector('button.hl-btn[data-pair="' + pair + '"]')
        : Array.from(row.querySelectorAll("td.answer")).find((td) => td.dataset.model === model)
          .querySelector('button.hl-btn[data-label="' + label + '"]');
      if (again) again.focus({ preventScroll: true });
      return;
    }
    if (window.getSelection && String(window.getSelection()).length) return; // selecting text, not opening
    cellEvent(ev);
  });
  body.addEventListener("keydown", (ev) => {
    if ((ev.key === "Enter" || ev.key === " ") && ev.target.matches("td.answer")) {
      ev.preventDefault();
      cellEvent(ev);
    }
  });

  const reviewerBox = $("hl-reviewer");
  reviewerBox.value = review.reviewer;
  reviewerBox.addEventListener("input", () => { review.reviewer = reviewerBox.value; saveReview(); });
  $("hl-export").addEventListener("click", exportLabels);
  saveReview();

  state.size = Number(pageSize.value) || 50;
  render();
})();
