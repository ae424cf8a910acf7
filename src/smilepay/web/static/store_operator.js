// The store operator's dashboard: live trips, alerts, sensor health, the dispute and review
// queues, refreshed every 2 s. Set-up in the fragment: #key=sk_...&store=st_...
"use strict";
(function () {
  const hash = new URLSearchParams(location.hash.slice(1));
  SmileApi.key = hash.get("key");
  const store = hash.get("store") || "";
  const message = document.getElementById("message");

  function table(id, items, columns, render, empty) {
    const node = document.getElementById(id);
    node.replaceChildren();
    if (!items.length) { node.append(el("p", { class: "muted" }, empty)); return; }
    const head = el("tr", {}, ...columns.map((c) => el("th", {}, c)));
    node.append(el("table", {}, el("thead", {}, head),
                   el("tbody", {}, ...items.map((i) => el("tr", {}, ...render(i).map((c) => el("td", {}, c)))))));
  }

  async function decide(id, approve) {
    try {
      await SmileApi.post("/v1/store_disputes/" + encodeURIComponent(id) + "/decide", { approve });
      refresh();
    } catch (err) { showMessage(message, err.message, "error"); }
  }

  async function resolve(id, charge) {
    try {
      await SmileApi.post("/v1/store_review/" + encodeURIComponent(id) + "/resolve", { charge });
      refresh();
    } catch (err) { showMessage(message, err.message, "error"); }
  }

  async function refresh() {
    try {
      const d = await SmileApi.get("/v1/stores/" + encodeURIComponent(store) + "/dashboard");
      const cur = d.store.currency;
      document.getElementById("store-name").textContent = d.store.name;
      showMessage(message, "Updated " + new Date().toLocaleTimeString(), "info");
      table("trips", d.live_trips, ["trip", "status", "people", "hold", "debt"],
            (t) => [t.id, t.status, t.people, formatMoney(t.hold_minor, cur), formatMoney(t.debt_minor, cur)],
            "Nobody in the store.");
      table("alerts", d.alerts, ["kind", "what"], (a) => [a.kind, a.message], "No alerts.");
      table("sensors", d.sensors, ["device", "kind", "zone", "last heard", "state"],
            (s) => [s.id, s.kind, s.zone, s.age_ms == null ? "never" : Math.round(s.age_ms / 1000) + " s ago",
                    s.silent ? "SILENT" : "ok"], "No devices.");
      table("disputes", d.disputes, ["dispute", "reason", "amount", ""],
            (x) => [x.id, x.reason, formatMoney(x.amount_minor, cur),
                    el("span", {}, el("button", { onclick: () => decide(x.id, true) }, "Refund"), " ",
                       el("button", { class: "secondary", onclick: () => decide(x.id, false) }, "Reject"))],
            "No disputes waiting.");
      table("review", d.review, ["trip", "reason", "GTIN", "qty", ""],
            (r) => [r.trip_id, r.reason, r.gtin, r.quantity,
                    el("span", {}, el("button", { onclick: () => resolve(r.id, true) }, "Charge"), " ",
                       el("button", { class: "secondary", onclick: () => resolve(r.id, false) }, "Drop"))],
            "Nothing to review.");
    } catch (err) {
      showMessage(message, err.message, "error");
    }
  }

  if (!SmileApi.key || !store) {
    showMessage(message, "This page needs the merchant's secret key and the store in its address: " +
                "/store/operator#key=sk_...&store=st_... (POST /v1/stores creates one: docs/api-reference.md).", "warn");
    return;
  }
  SmileMoney.load().catch(() => null).then(refresh);
  setInterval(refresh, 2000);
})();
