// Merchant dashboard: balance and daily chart, point-of-sale form, payments and refunds,
// terminals, keys, webhooks, Happy Go promotion, face audit.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const message = $("message");
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("key")) {
    localStorage.setItem("smilepay.secretKey", hash.get("key"));
    history.replaceState(null, "", location.pathname);
  }
  SmileApi.key = localStorage.getItem("smilepay.secretKey");

  function row(...cells) { return el("tr", {}, ...cells.map((c) => el("td", {}, c))); }
  const list = async (path) => (await SmileApi.get(path)).data;

  function drawChart(payments) {
    const svg = $("chart"), ns = "http://www.w3.org/2000/svg";
    const days = [];
    const today = new Date(); today.setHours(0, 0, 0, 0);
    for (let i = 13; i >= 0; i--) days.push(new Date(today.getTime() - i * 86400000));
    const totals = days.map((d) => payments.filter((p) => p.status === "succeeded"
      && new Date(p.created * 1000).setHours(0, 0, 0, 0) === d.getTime())
      .reduce((s, p) => s + p.amount_captured_minor - p.amount_refunded_minor, 0));
    const max = Math.max(1, ...totals), w = 420 / days.length;
    const nodes = [];
    totals.forEach((t, i) => {
      const h = Math.round((t / max) * 140);
      const r = document.createElementNS(ns, "rect");
      r.setAttribute("x", String(i * w + 3)); r.setAttribute("y", String(150 - h));
      r.setAttribute("width", String(w - 6)); r.setAttribute("height", String(Math.max(h, 1)));
      const tip = document.createElementNS(ns, "title");
      tip.textContent = days[i].toLocaleDateString() + ": " + (t / 100).toFixed(2);
      r.append(tip);
      nodes.push(r);
      if (i % 2 === 1 || i === days.length - 1) {
        const label = document.createElementNS(ns, "text");
        label.setAttribute("x", String(i * w + 2)); label.setAttribute("y", "168");
        label.textContent = (days[i].getMonth() + 1) + "/" + days[i].getDate();
        nodes.push(label);
      }
    });
    svg.replaceChildren(...nodes);
    svg.dataset.days = String(days.length);
    svg.dataset.total = String(totals.reduce((a, b) => a + b, 0));
  }

  async function refund(p) {
    const text = window.prompt("Refund how much of " + formatMoney(p.amount_captured_minor - p.amount_refunded_minor, p.currency) + "?",
      ((p.amount_captured_minor - p.amount_refunded_minor) / 100).toFixed(2));
    if (!text) return;
    try {
      await SmileApi.post("/v1/refunds", { payment_intent: p.id, amount_minor: Math.round(Number(text) * 100), reason: "requested_by_customer" }, { idempotent: true });
      await load();
    } catch (err) { showMessage(message, err.message, "error"); }
  }

  async function load() {
    if (!SmileApi.key) {
      $("login").hidden = false;
      $("dashboard").dataset.state = "signed_out";
      showMessage(message, "Sign in with your secret key.", "warn");
      return;
    }
    try {
      const [balance, payments, refunds, terminals, keys, hooks, audit] = await Promise.all([
        SmileApi.get("/v1/balance?currency=" + $("currency").value), list("/v1/payment_intents?limit=100"),
        list("/v1/refunds?limit=100"), list("/v1/terminals?limit=100"), list("/v1/api_keys?limit=100"),
        list("/v1/webhook_endpoints?limit=100"), list("/v1/face/audit?limit=30")]);
      $("mode").textContent = SmileApi.key.startsWith("sk_test_") ? "TEST MODE" : "";
      $("balance").textContent = formatMoney(balance.available_minor, balance.currency);
      drawChart(payments);
      $("payments").replaceChildren(...payments.map((p) => {
        const canRefund = p.status === "succeeded" && p.amount_refunded_minor < p.amount_captured_minor;
        const button = canRefund ? el("button", { class: "secondary", onclick: () => refund(p) }, "Refund") : "";
        return row(formatTime(p.created), formatMoney(p.amount_minor, p.currency),
          p.amount_refunded_minor ? formatMoney(p.amount_refunded_minor, p.currency) : "", p.status,
          p.customer || "", p.terminal || "", button);
      }));
      $("refunds").replaceChildren(...refunds.map((r) => row(formatTime(r.created), formatMoney(r.amount_minor, r.currency), r.payment_intent, r.reason)));
      $("terminal").replaceChildren(...terminals.map((t) => el("option", { value: t.id }, t.name)));
      $("terminals").replaceChildren(...terminals.map((t) => row(t.name, t.id,
        el("button", { class: "secondary", onclick: () => kioskLink(t) }, "Kiosk link"))));
      $("keys").replaceChildren(...keys.map((k) => row(k.kind || k.type || "", k.display_prefix || k.prefix || k.id,
        k.revoked ? "revoked" : (k.revoked_at ? "revoked" : "active"))));
      $("webhooks").replaceChildren(...hooks.map((h) => row(h.url, (h.enabled_events || []).join(","))));
      $("audit").replaceChildren(...audit.map((a) => row(new Date(a.at_ms).toLocaleString(), a.kind, a.decision,
        a.reasons.join(", "), a.subject || "",
        Object.entries(a.values).filter(([k]) => /score|threshold|liveness/.test(k)).map(([k, v]) => k + "=" + v).join(" "))));
      $("dashboard").dataset.state = "ready";
      showMessage(message, "Up to date.", "ok");
    } catch (err) {
      $("dashboard").dataset.state = "error";
      showMessage(message, err.message, "error");
    }
  }

  async function kioskLink(t) {
    try {
      const k = await SmileApi.post("/v1/api_keys", { kind: "terminal", terminal: t.id }, { idempotent: true });
      const raw = k.secret || k.key || k.raw_key;
      const url = location.origin + "/kiosk#key=" + raw;
      $("kiosk-link").replaceChildren("New key for " + t.name + " (shown once): ", el("a", { href: url }, url));
      await load();
    } catch (err) { showMessage(message, err.message, "error"); }
  }

  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    localStorage.setItem("smilepay.secretKey", $("secret").value.trim());
    SmileApi.key = $("secret").value.trim();
    $("login").hidden = true;
    load();
  });

  $("pay-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const p = await SmileApi.post("/v1/payment_intents", {
        amount_minor: Math.round(Number($("amount").value) * 100), currency: $("currency").value,
        terminal: $("terminal").value || null, description: $("description").value }, { idempotent: true });
      showMessage(message, "Payment " + p.id + " sent to the kiosk.", "ok");
      $("dashboard").dataset.lastPayment = p.id;
      await load();
    } catch (err) { showMessage(message, err.message, "error"); }
  });

  $("terminal-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await SmileApi.post("/v1/terminals", { name: $("terminal-name").value }, { idempotent: true });
      $("terminal-name").value = "";
      await load();
    } catch (err) { showMessage(message, err.message, "error"); }
  });

  $("webhook-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const h = await SmileApi.post("/v1/webhook_endpoints", { url: $("webhook-url").value }, { idempotent: true });
      $("webhook-secret").textContent = h.secret ? "Signing secret (shown once): " + h.secret : "";
      await load();
    } catch (err) { showMessage(message, err.message, "error"); }
  });

  $("promo-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await SmileApi.post("/v1/face/promotions", { active: $("promo-active").checked,
        max_discount_bps: Math.round(Number($("promo-bps").value) * 100),
        cap_minor: Math.round(Number($("promo-cap").value) * 100) });
      showMessage(message, $("promo-active").checked ? "Happy Go promotion active." : "Happy Go promotion off.", "ok");
    } catch (err) { showMessage(message, err.message, "error"); }
  });

  load();
})();
