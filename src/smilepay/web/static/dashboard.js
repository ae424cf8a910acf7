// Merchant dashboard: balance and daily chart, point-of-sale form, payments and refunds,
// terminals, keys, webhooks, Happy Go promotion, face audit. Amounts use the API's currency
// exponents (SmileMoney): "500" JPY is 500 minor units, "12.50" EUR 1250.
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
  const OPEN = new Set(["requires_confirmation", "requires_capture"]);  // unpaid: may be canceled
  const STATUS_TEXT = { requires_confirmation: "waiting", requires_capture: "authorised",
    processing: "processing", succeeded: "succeeded", failed: "failed", canceled: "canceled" };
  const CHECKS = { pay: "Face match (payment)", liveness_pay: "Liveness (payment)",
    liveness_enrol: "Liveness (enrolment)", enrol: "Enrolment", consent: "Consent",
    signup_code: "Sign-up code", clock: "Staff clock (face)", clock_manual: "Staff clock (PIN or badge)",
    clock_approve: "Staff clock (manager approval)", kyc: "Identity check", board: "Boarding (face)",
    board_qr: "Boarding (pass)", board_staff: "Boarding (staff check)",
    clock_pin_lock: "Staff clock locked (too many wrong PINs)", mandate: "Payment mandate",
    purpose_erase: "Data erased", retention: "Data retention", store_gate: "Store gate (face)",
    store_face_copy: "Store entry face copy" };

  function cell(c) { return el("td", {}, c); }
  function row(...cells) { return el("tr", {}, ...cells.map(cell)); }
  function id(text) { return el("span", { class: "id" }, text || ""); }
  function badge(status) { return el("span", { class: "badge " + status }, STATUS_TEXT[status] || status); }
  const list = async (path) => (await SmileApi.get(path)).data;

  // Each cell names its column (data-label): a narrow screen shows a row as a labelled block.
  function labelCells(tbody) {
    const heads = Array.from(tbody.closest("table").querySelectorAll("thead th"), (th) => th.textContent);
    for (const tr of tbody.rows) {
      Array.from(tr.cells).forEach((td, i) => {
        if (td.colSpan === 1 && heads[i]) td.dataset.label = heads[i];
        td.classList.toggle("blank", !td.textContent.trim());
      });
    }
  }
  let customers = new Map();

  function customerLabel(customerId) {
    if (!customerId) return "";
    const c = customers.get(customerId);
    if (!c) return "Customer";
    return el("span", {}, el("span", { class: "name" }, c.name || "Unnamed customer"), el("br"),
      el("span", { class: "muted nowrap" }, c.phone || ""));
  }

  function drawChart(payments, currency) {
    const svg = $("chart"), ns = "http://www.w3.org/2000/svg";
    const days = [];
    const today = new Date(); today.setHours(0, 0, 0, 0);
    for (let i = 13; i >= 0; i--) days.push(new Date(today.getTime() - i * 86400000));
    const mine = payments.filter((p) => p.status === "succeeded" && p.currency.toUpperCase() === currency);
    const totals = days.map((d) => mine.filter((p) => new Date(p.created * 1000).setHours(0, 0, 0, 0) === d.getTime())
      .reduce((s, p) => s + p.amount_captured_minor - p.amount_refunded_minor, 0));
    const max = Math.max(1, ...totals), w = 420 / days.length;
    const nodes = [];
    totals.forEach((t, i) => {
      const h = Math.round((t / max) * 140);
      const r = document.createElementNS(ns, "rect");
      r.setAttribute("x", String(i * w + 3)); r.setAttribute("y", String(150 - h));
      r.setAttribute("width", String(w - 6)); r.setAttribute("height", String(Math.max(h, 1)));
      const tip = document.createElementNS(ns, "title");
      tip.textContent = days[i].toLocaleDateString() + ": " + formatMoney(t, currency);
      r.append(tip);
      nodes.push(r);
      if (i % 2 === 1 || i === days.length - 1) {
        const label = document.createElementNS(ns, "text");
        label.setAttribute("x", String(i * w + 2)); label.setAttribute("y", "168");
        label.textContent = (days[i].getMonth() + 1) + "/" + days[i].getDate();
        nodes.push(label);
      }
    });
    if (!mine.length) {
      const note = document.createElementNS(ns, "text");
      note.setAttribute("x", "210"); note.setAttribute("y", "80"); note.setAttribute("text-anchor", "middle");
      note.setAttribute("class", "empty");
      note.textContent = "No " + currency + " payments in the last 14 days";
      nodes.push(note);
    }
    svg.replaceChildren(...nodes);
    svg.setAttribute("aria-label", "Payments per day in " + currency);
    svg.dataset.days = String(days.length);
    svg.dataset.total = String(totals.reduce((a, b) => a + b, 0));
  }

  function number(v, digits) { return typeof v === "number" ? v.toFixed(digits) : String(v); }

  // "match 0.712 ≥ 0.450", "challenge 1.00 ≥ 0.50", "passive 0.81 (advisory)".
  function scoreLines(a) {
    const v = a.values || {}, lines = [];
    const match = v.score !== undefined ? v.score : v.best_score;
    if (match !== undefined && match !== null && v.threshold !== undefined) {
      lines.push("match " + number(match, 3) + (match >= v.threshold ? " ≥ " : " < ") + number(v.threshold, 3)
        + (v.threshold_source === "fallback" ? " (fallback threshold)" : ""));
    }
    for (const [k, value] of Object.entries(v)) {
      if (!k.startsWith("liveness_") || typeof value !== "number") continue;
      const name = k.slice("liveness_".length);
      if (name.endsWith("_advisory")) lines.push(name.replace(/_advisory$/, "") + " " + number(value, 2) + " (advisory)");
      else lines.push(name + " " + number(value, 2) + (value >= 0.5 ? " ≥ " : " < ") + "0.50");
    }
    if (v.min_identity_cosine !== undefined && v.min_identity_cosine !== null) {
      lines.push("same person across frames " + number(v.min_identity_cosine, 3));
    }
    return lines.length ? el("ul", { class: "plain" }, ...lines.map((l) => el("li", {}, l))) : "";
  }

  function readable(reason) { return reason.replace(/[_:]+/g, " ").trim(); }

  function auditRow(a) {
    const decision = el("span", { class: "badge " + (a.decision === "accepted" || a.decision === "passed" || a.decision === "granted" ? "succeeded" : "failed") }, a.decision);
    return row(formatTime(a.at_ms / 1000), CHECKS[a.kind] || readable(a.kind), decision,
      a.reasons.length ? a.reasons.map(readable).join("; ") : "—", scoreLines(a),
      id((a.values && a.values.model_id) || ""), id(a.subject && a.subject.startsWith("pi_") ? a.subject : ""));
  }

  function currency() { return $("currency").value || "EUR"; }

  // A refusal in words a merchant can act on; the API's own wording ("expected X, got Y") is for
  // developers and stays in the API docs.
  const PARAM_TEXT = {
    url: "Enter a public https web address (an address on this machine or a private network cannot receive events).",
    name: "Enter a name for the terminal (up to 100 characters).",
    amount_minor: "This amount is too large or cannot be used here.",
    cap_minor: "Enter a cap above zero.",
    max_discount_bps: "Enter a discount between 0 and 50 %.",
    currency: "This currency cannot be used here.",
    terminal: "Choose one of your terminals.",
  };

  function merchantMessage(err) {
    if (!err || !(err instanceof ApiError)) return (err && err.message) || "Something went wrong. Try again.";
    if (err.status === 0) return err.message;
    if (err.status === 401) return "This secret key was not accepted. Sign in again.";
    if (PARAM_TEXT[err.param]) return PARAM_TEXT[err.param];
    if (err.status >= 500) return "Something went wrong on the server. Try again in a moment.";
    return /^expected\b/.test(err.message) ? "This was refused: check the form and try again." : err.message;
  }

  async function refund(p) {
    const left = p.amount_captured_minor - p.amount_refunded_minor;
    const text = window.prompt("Refund how much of " + formatMoney(left, p.currency) + "?",
      SmileMoney.toMajorText(left, p.currency));
    if (!text) return;
    try {
      await SmileApi.post("/v1/refunds", { payment_intent: p.id, amount_minor: SmileMoney.toMinor(text, p.currency),
        reason: "requested_by_customer" }, { idempotent: true });
      showMessage(message, "Refunded.", "ok");
      await load();
    } catch (err) { showMessage(message, merchantMessage(err), "error"); }
  }

  async function cancel(p) {
    try {
      await SmileApi.post("/v1/payment_intents/" + p.id + "/cancel", null, { idempotent: true });
      showMessage(message, "Payment of " + formatMoney(p.amount_minor, p.currency) + " canceled.", "ok");
      await load();
    } catch (err) { showMessage(message, merchantMessage(err), "error"); }
  }

  function paymentRow(p, terminalNames) {
    const canRefund = p.status === "succeeded" && p.amount_refunded_minor < p.amount_captured_minor;
    let action = "";
    if (canRefund) action = el("button", { class: "secondary small", onclick: () => refund(p) }, "Refund");
    else if (OPEN.has(p.status)) action = el("button", { class: "secondary small cancel", "data-payment": p.id, onclick: () => cancel(p) }, "Cancel");
    const tr = row(formatTime(p.created), formatMoney(p.amount_minor, p.currency),
      p.amount_refunded_minor ? formatMoney(p.amount_refunded_minor, p.currency) : "", badge(p.status),
      customerLabel(p.customer), terminalNames.get(p.terminal) || "", action);
    tr.dataset.payment = p.id;
    tr.dataset.status = p.status;
    return tr;
  }

  function showSignedIn(on) {
    $("signed-in").hidden = !on;
    $("login").hidden = on;
  }

  async function load() {
    if (!SmileApi.key) {
      showSignedIn(false);
      $("dashboard").dataset.state = "signed_out";
      showMessage(message, "Sign in with your secret key.", "warn");
      return;
    }
    try {
      await SmileMoney.load();
      if (!$("currency").options.length) {
        $("currency").replaceChildren(...SmileMoney.codes().map((c) => el("option", { value: c }, c)));
        $("currency").value = "EUR";
      }
      const [balance, payments, refunds, terminals, keys, hooks, audit, people] = await Promise.all([
        SmileApi.get("/v1/balance?currency=" + currency()), list("/v1/payment_intents?limit=100"),
        list("/v1/refunds?limit=100"), list("/v1/terminals?limit=100"), list("/v1/api_keys?limit=100"),
        list("/v1/webhook_endpoints?limit=100"), list("/v1/face/audit?limit=30"), list("/v1/customers?limit=100")]);
      customers = new Map(people.map((c) => [c.id, c]));
      const terminalNames = new Map(terminals.map((t) => [t.id, t.name]));
      showSignedIn(true);
      $("mode").textContent = SmileApi.key.startsWith("sk_test_") ? "TEST MODE" : "";
      $("balance").textContent = formatMoney(balance.available_minor, balance.currency);
      drawChart(payments, currency());
      $("payments").replaceChildren(...tableRows(payments, (p) => paymentRow(p, terminalNames), "No payments yet.", 7));
      $("refunds").replaceChildren(...tableRows(refunds, (r) => row(formatTime(r.created), formatMoney(r.amount_minor, r.currency), id(r.payment_intent), readable(r.reason)), "No refunds yet.", 4));
      labelCells($("payments"));
      labelCells($("refunds"));
      const chosen = $("terminal").value;
      $("terminal").replaceChildren(...terminals.map((t) => el("option", { value: t.id }, t.name)));
      if (chosen) $("terminal").value = chosen;
      $("terminals").replaceChildren(...terminals.map((t) => row(el("span", { class: "name" }, t.name, el("br"), id(t.id)),
        el("button", { class: "secondary small", onclick: () => kioskLink(t) }, "Kiosk link"))));
      $("keys").replaceChildren(...keys.map((k) => row(k.kind || k.type || "", id(k.display_prefix || k.prefix || k.id),
        k.revoked || k.revoked_at ? "revoked" : "active")));
      $("webhooks").replaceChildren(...tableRows(hooks, (h) => row(id(h.url), (h.enabled_events || []).join(", ")), "No webhook endpoints yet.", 2));
      $("audit").replaceChildren(...tableRows(audit, auditRow, "No face decisions yet.", 7));
      labelCells($("audit"));
      $("promo-cap-label").textContent = "Cap per payment (" + currency() + ")";
      $("dashboard").dataset.state = "ready";
      if (message.classList.contains("info") || message.classList.contains("warn")) showMessage(message, "Up to date.", "ok");
    } catch (err) {
      $("dashboard").dataset.state = "error";
      if (err.status === 401) {
        localStorage.removeItem("smilepay.secretKey");
        SmileApi.key = null;
        showSignedIn(false);
        showMessage(message, "This secret key was not accepted. Sign in again.", "error");
        return;
      }
      showMessage(message, merchantMessage(err), "error");
    }
  }

  async function kioskLink(t) {
    try {
      const k = await SmileApi.post("/v1/api_keys", { kind: "terminal", terminal: t.id }, { idempotent: true });
      const raw = k.secret || k.key || k.raw_key;
      const url = location.origin + "/kiosk#key=" + raw;
      $("kiosk-link").replaceChildren("New key for " + t.name + " (shown once): ", el("a", { href: url, class: "id" }, url));
      await load();
    } catch (err) { showMessage(message, merchantMessage(err), "error"); }
  }

  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    localStorage.setItem("smilepay.secretKey", $("secret").value.trim());
    SmileApi.key = $("secret").value.trim();
    load();
  });

  $("currency").addEventListener("change", () => {
    try { $("amount").value = SmileMoney.example(currency()); } catch (e) { /* list not loaded */ }
    load();
  });

  $("pay-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const result = $("pay-result");
    result.hidden = true;
    try {
      const amountMinor = SmileMoney.toMinor($("amount").value, currency());
      const p = await SmileApi.post("/v1/payment_intents", {
        amount_minor: amountMinor, currency: currency(),
        terminal: $("terminal").value || null, description: $("description").value }, { idempotent: true });
      const where = $("terminal").selectedOptions.length ? $("terminal").selectedOptions[0].textContent : "the kiosk";
      const text = "Sent to " + where + ": " + formatMoney(p.amount_minor, p.currency) + ". The customer can pay at the kiosk now.";
      showMessage(result, text, "ok");
      result.hidden = false;
      result.dataset.payment = p.id;
      showMessage(message, text, "ok");
      $("dashboard").dataset.lastPayment = p.id;
      await load();
    } catch (err) {
      showMessage(result, merchantMessage(err), "error");
      result.hidden = false;
    }
  });

  $("terminal-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await SmileApi.post("/v1/terminals", { name: $("terminal-name").value }, { idempotent: true });
      $("terminal-name").value = "";
      await load();
    } catch (err) { showMessage(message, merchantMessage(err), "error"); }
  });

  $("webhook-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const h = await SmileApi.post("/v1/webhook_endpoints", { url: $("webhook-url").value }, { idempotent: true });
      $("webhook-secret").textContent = h.secret ? "Signing secret (shown once): " + h.secret : "";
      await load();
    } catch (err) { showMessage(message, merchantMessage(err), "error"); }
  });

  $("promo-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const percent = Number($("promo-bps").value);
      if (!(percent > 0 && percent <= 50)) throw new Error("Enter a discount between 0 and 50 %.");
      await SmileApi.post("/v1/face/promotions", { active: $("promo-active").checked,
        max_discount_bps: Math.round(percent * 100),
        cap_minor: SmileMoney.toMinor($("promo-cap").value, currency()) });
      showMessage(message, $("promo-active").checked ? "Happy Go promotion active." : "Happy Go promotion off.", "ok");
    } catch (err) { showMessage(message, merchantMessage(err), "error"); }
  });

  load();
})();
