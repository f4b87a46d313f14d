// 「今日必看」 dashboard: plain JS, no build step, no external assets (the service runs offline).
//
// Data: GET /v1/insights/today (red alerts, overdue follow-ups, customers to call, last alert id),
// GET /v1/insights/questions, GET /v1/alerts (the live feed's first page). Live updates:
// EventSource on /v1/alerts/stream?since=<last id>; each new alert is prepended to the feed and
// the counts are refreshed (debounced). Filters ?region= / ?team= in the page URL are passed on.
// With API keys switched on, ?key= (kept in localStorage) is sent as "Authorization: Bearer" and
// as ?api_key= on the stream, since EventSource cannot set headers.
"use strict";

(function () {
  const params = new URLSearchParams(location.search);
  const KEY_STORE = "nlp-service.api-key";
  if (params.get("key")) {
    localStorage.setItem(KEY_STORE, params.get("key"));
  }
  const apiKey = localStorage.getItem(KEY_STORE) || "";
  const filters = {};
  for (const name of ["region", "team"]) {
    if (params.get(name)) filters[name] = params.get(name);
  }

  const SEVERITY = { 1: "提示", 2: "关注", 3: "紧急" };
  const CHANNEL = { wechat: "微信", email: "邮件", call: "电话", meeting: "会议", other: "其他" };
  const state = {
    lastId: 0,
    loaded: false,
    shown: new Set(),
    categories: {},
    refreshTimer: null,
    questionsTimer: null,
    source: null,
  };
  window.dashboardState = state; // for tests and debugging in the console

  // ------------------------------------------------------------------ helpers

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function query(extra) {
    const q = new URLSearchParams({ ...filters, ...(extra || {}) });
    const s = q.toString();
    return s ? "?" + s : "";
  }

  async function api(path, options) {
    const headers = { Accept: "application/json" };
    if (apiKey) headers.Authorization = "Bearer " + apiKey;
    const resp = await fetch(path, { ...(options || {}), headers });
    if (!resp.ok) throw new Error(path + " → HTTP " + resp.status);
    return resp.json();
  }

  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  function explain(meaning, todo) {
    const dl = el("dl", "explain");
    if (meaning) {
      dl.append(el("dt", "meaning", "这意味着"), el("dd", null, meaning));
    }
    if (todo) {
      dl.append(el("dt", "todo", "建议"), el("dd", null, String(todo).replace(/^建议[：:]?/, "")));
    }
    return dl;
  }

  function empty(text) {
    return el("div", "empty", text);
  }

  function categoryLabel(cat) {
    return (state.categories[cat] && state.categories[cat].label) || cat;
  }

  // ------------------------------------------------------------------ rendering

  function renderSummary(today) {
    const box = document.getElementById("summary");
    box.replaceChildren();
    for (const s of today.summary || []) {
      const card = el("div", "stat" + (s.value > 0 ? " hot" : ""));
      card.dataset.key = s.key;
      const value = el("div", "value", s.value);
      value.append(el("small", null, s.unit));
      card.append(el("div", "label", s.label), value, explain(s.meaning, s.todo));
      box.append(card);
    }
  }

  function renderRed(today) {
    const box = document.getElementById("red-alerts");
    box.replaceChildren();
    const groups = today.red_alerts || [];
    if (!groups.length) {
      box.append(empty("今天暂无红色警报。"));
      return;
    }
    for (const g of groups) {
      const red = g.kind === "overdue" || g.urgent;
      const card = el("article", "card red-card" + (red ? " red" : ""));
      card.dataset.kind = g.kind;
      const h = el("h3");
      const what = g.kind === "overdue" ? (g.followup === "quote" ? "报价超期客户" : "跟进超期客户") : g.category_label;
      h.append(el("span", null, `${g.region} ${what}`), el("span", "num", g.customers), el("span", null, "家"));
      card.append(h);
      const who = (g.customer_ids || []).slice(0, 6).join("、") + ((g.customer_ids || []).length > 6 ? " 等" : "");
      card.append(el("div", "who", "客户：" + who));
      card.append(explain(g.meaning, g.todo));
      box.append(card);
    }
  }

  function renderCall(today) {
    const box = document.getElementById("call-today");
    box.replaceChildren();
    const items = today.call_today || [];
    if (!items.length) {
      box.append(empty("最近没有需要经理亲自打电话的客户。"));
      return;
    }
    for (const c of items) {
      const card = el("article", "card call-card" + (c.level === "P0" ? " red" : ""));
      card.dataset.customerId = c.customer_id;
      const h = el("h3");
      if (c.level) h.append(el("span", "tag red", c.level));
      h.append(el("span", null, c.customer_id));
      card.append(h);
      const place = [c.region, c.team, CHANNEL[c.channel] || c.channel, when(c.last_at)].filter(Boolean).join(" · ");
      const who = el("div", "who");
      who.append(el("span", "tag" + (c.severity >= 3 ? " red" : ""), c.category_label), el("span", null, place));
      card.append(who);
      if (c.quote) card.append(el("div", "quote", c.quote));
      card.append(explain(c.meaning, c.todo));
      box.append(card);
    }
  }

  function renderQuestions(data) {
    const box = document.getElementById("questions");
    box.replaceChildren();
    const groups = data.groups || [];
    if (!groups.length) {
      box.append(el("li", "empty", "本周还没有记录到客户提问。"));
      return;
    }
    for (const g of groups) {
      const li = el("li", "question");
      const count = el("div", "count", g.count);
      count.append(el("small", null, `次 · ${g.customers}家`));
      const q = el("div", "q");
      if (g.topic_label) q.append(el("span", "tag", g.topic_label));
      q.append(el("span", null, g.question));
      li.append(count, q);
      const others = (g.variants || []).slice(1);
      li.append(el("div", "variants", others.length ? "类似问法：" + others.join(" / ") : ""));
      li.append(explain(g.meaning, g.todo));
      box.append(li);
    }
  }

  function alertCard(a, fresh) {
    const card = el("article", "card alert-card" + (a.severity >= 3 || a.level === "P0" ? " red" : ""));
    card.dataset.alertId = a.id;
    card.dataset.customerId = a.customer_id;
    if (fresh) card.classList.add("fresh");
    const body = el("div");
    const h = el("h3");
    if (fresh) h.append(el("span", "tag new", "新"));
    if (a.level) h.append(el("span", "tag red", a.level));
    h.append(el("span", "tag" + (a.severity >= 3 ? " red" : ""), categoryLabel(a.category)));
    h.append(el("span", null, a.customer_id));
    body.append(h);
    const meta = [a.region, a.team, CHANNEL[a.channel] || a.channel, SEVERITY[a.severity] || "",
      a.count > 1 ? `重复 ${a.count} 次` : "", when(a.last_at || a.first_at)].filter(Boolean).join(" · ");
    body.append(el("div", "meta", meta));
    if (a.quote) body.append(el("div", "quote", a.quote));
    card.append(body);
    const actions = el("div", "actions");
    const ack = el("button", "ack", "已处理");
    ack.type = "button";
    ack.addEventListener("click", async () => {
      ack.disabled = true;
      try {
        await api(`/v1/alerts/${a.id}/ack`, { method: "POST" });
        card.classList.add("acked");
        ack.textContent = "已处理 ✓";
        updateLiveCount();
        scheduleRefresh();
      } catch (err) {
        ack.disabled = false;
        console.error(err);
      }
    });
    actions.append(ack);
    card.append(actions);
    const info = state.categories[a.category];
    if (info) card.append(explain(info.meaning, info.todo));
    return card;
  }

  function addAlert(a, fresh) {
    if (state.shown.has(a.id)) return;
    state.shown.add(a.id);
    const feed = document.getElementById("live-feed");
    const placeholder = feed.querySelector(".empty");
    if (placeholder) placeholder.remove();
    const card = alertCard(a, fresh);
    if (fresh) {
      feed.prepend(card);
    } else {
      feed.append(card);
    }
    while (feed.children.length > 100) feed.lastElementChild.remove();
    updateLiveCount();
  }

  function updateLiveCount() {
    const badge = document.getElementById("live-count");
    const n = document.querySelectorAll("#live-feed .alert-card:not(.acked)").length;
    badge.textContent = String(n);
    badge.classList.toggle("zero", n === 0);
  }

  // ------------------------------------------------------------------ loading

  async function loadToday() {
    const today = await api("/v1/insights/today" + query());
    state.categories = today.categories || state.categories;
    state.lastId = Math.max(state.lastId, today.last_alert_id || 0);
    document.getElementById("today").textContent = today.today;
    renderSummary(today);
    renderRed(today);
    renderCall(today);
    return today;
  }

  async function loadQuestions() {
    renderQuestions(await api("/v1/insights/questions" + query({ days: 7, limit: 10 })));
  }

  async function loadFeed() {
    const page = await api("/v1/alerts" + query({ acked: false, limit: 20 }));
    const feed = document.getElementById("live-feed");
    for (const a of page.items || []) addAlert(a, false);
    if (!feed.children.length) feed.append(empty("暂无未处理的预警。客户一说出风险原话，这里会立刻出现。"));
    updateLiveCount();
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(() => loadToday().catch(console.error), 400);
    clearTimeout(state.questionsTimer);
    state.questionsTimer = setTimeout(() => loadQuestions().catch(console.error), 5000);
  }

  function setStatus(kind, text) {
    document.body.dataset.stream = kind;
    document.getElementById("status-text").textContent = text;
  }

  function connect() {
    // Without a loaded snapshot there is no id to resume from: take only new alerts then.
    const extra = state.loaded ? { since: state.lastId } : {};
    if (apiKey) extra.api_key = apiKey;
    const source = new EventSource("/v1/alerts/stream" + query(extra));
    state.source = source;
    source.onopen = () => setStatus("open", "实时预警已连接");
    source.onerror = () => setStatus("error", "连接中断，正在重连…");
    source.addEventListener("alert", (event) => {
      const a = JSON.parse(event.data);
      state.lastId = Math.max(state.lastId, a.id);
      addAlert(a, true);
      scheduleRefresh();
    });
  }

  async function start() {
    const scope = [filters.region, filters.team].filter(Boolean).join(" / ");
    document.getElementById("scope").textContent = scope ? "范围：" + scope : "全部区域";
    try {
      await loadToday();
      state.loaded = true;
      await loadFeed();
    } catch (err) {
      setStatus("error", "数据加载失败：" + err.message);
      console.error(err);
    }
    connect();
    loadQuestions().catch(console.error);
    // Overdue follow-ups age without any alert: refresh everything once a minute as well.
    setInterval(() => { loadToday().catch(console.error); }, 60000);
    setInterval(() => { loadQuestions().catch(console.error); }, 300000);
  }

  start();
})();
