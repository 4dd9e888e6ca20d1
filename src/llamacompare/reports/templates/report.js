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
  const diffOn = $("diff-on");
  const diffA = $("diff-a");
  const diffB = $("diff-b");
  const pageSize = $("page-size");
  const prev = $("page-prev");
  const next = $("page-next");

  const state = { query: [], task: "", disagree: false, page: 0, size: 50, diff: false, a: "", b: "" };
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
      parts.push(a.text, a.error, a.label);
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
    const text = answerText(c, m);
    if (text) td.append(text);
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
    const row = body.querySelector('tr.case-row[data-index="' + c._i + '"]');
    if (!row) return;
    const after = row.nextElementSibling;
    if (after && after.classList.contains("detail-row")) after.remove();
    row.replaceWith(...rowsFor(c));
    const cell = body.querySelector('tr.case-row[data-index="' + c._i + '"] td.answer.open');
    if (cell) cell.focus({ preventScroll: true });
  }

  function applyFilters() {
    filtered = cases.filter((c) =>
      (!state.task || c.task === state.task) &&
      (!state.disagree || c.disagree) &&
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
    if (window.getSelection && String(window.getSelection()).length) return; // selecting text, not opening
    cellEvent(ev);
  });
  body.addEventListener("keydown", (ev) => {
    if ((ev.key === "Enter" || ev.key === " ") && ev.target.matches("td.answer")) {
      ev.preventDefault();
      cellEvent(ev);
    }
  });

  state.size = Number(pageSize.value) || 50;
  render();
})();
