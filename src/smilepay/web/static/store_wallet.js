// The wallet's store part: the entry QR code (drawn by the server with segno), trips with
// their receipt lines, a dispute button per line, paying a store debt.
// The wallet session comes from the wallet page (localStorage) or #token=ws_...
"use strict";
(function () {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) localStorage.setItem("smilepay.wallet", hash.get("token"));
  SmileApi.key = localStorage.getItem("smilepay.wallet");
  const message = document.getElementById("message");
  const qr = document.getElementById("qr");
  const left = document.getElementById("qr-left");
  let timer = null;

  function fail(err) {
    showMessage(message, customerMessage(err), "error");
    message.hidden = false;
  }

  async function newCode() {
    try {
      const code = await SmileApi.post("/v1/wallet/store/entry_code", {});
      // parsed as HTML: segno's inline SVG has no xmlns, the HTML parser puts it in SVG's
      const svg = new DOMParser().parseFromString(code.svg, "text/html").querySelector("svg");
      qr.replaceChildren(document.importNode(svg, true));
      qr.dataset.code = code.code;
      let seconds = code.expires_in_s;
      clearInterval(timer);
      left.textContent = "Valid for " + seconds + " s";
      timer = setInterval(() => {
        seconds -= 1;
        left.textContent = seconds > 0 ? "Valid for " + seconds + " s" : "Expired: show a new code";
        if (seconds <= 0) { clearInterval(timer); qr.replaceChildren(); }
      }, 1000);
    } catch (err) { fail(err); }
  }

  async function dispute(line, reason) {
    try {
      const d = await SmileApi.post("/v1/wallet/store/lines/" + encodeURIComponent(line) + "/dispute", { reason });
      showMessage(message, d.status === "refunded" ? "Refunded." : "Sent to the store's staff.", "info");
      message.hidden = false;
      loadTrips();
    } catch (err) { fail(err); }
  }

  async function payDebt(trip) {
    try {
      const d = await SmileApi.post("/v1/wallet/store/trips/" + encodeURIComponent(trip) + "/pay_debt", {});
      showMessage(message, d.open ? "Paid. Thank you." : "Your wallet could not pay yet.", d.open ? "info" : "error");
      message.hidden = false;
      loadTrips();
    } catch (err) { fail(err); }
  }

  function lineRow(line) {
    const reason = el("select", {}, ...["item_not_taken", "wrong_quantity", "wrong_price", "damaged", "other"]
      .map((r) => el("option", { value: r }, r.replace(/_/g, " "))));
    const action = line.dispute
      ? el("span", { class: "dispute-state" }, "Dispute: " + line.dispute)
      : el("span", {}, reason, " ", el("button", { class: "secondary dispute",
          onclick: () => dispute(line.id, reason.value) }, "Dispute"));
    return el("tr", { "data-line": line.id }, el("td", {}, line.quantity + " × " + line.name),
              el("td", {}, formatMoney(line.amount_minor, "EUR")),
              el("td", {}, line.refunded_minor ? "refunded " + formatMoney(line.refunded_minor, "EUR") : ""),
              el("td", {}, action));
  }

  async function loadTrips() {
    try {
      const trips = (await SmileApi.get("/v1/wallet/store/trips")).data;
      const node = document.getElementById("trips");
      node.replaceChildren();
      if (!trips.length) { node.append(el("p", { class: "muted" }, "No store trips yet.")); return; }
      for (const t of trips) {
        const box = el("div", { class: "trip", "data-trip": t.id, "data-status": t.status },
          el("h3", {}, "Trip " + t.id + " · " + t.status + " · " + formatMoney(t.charged_minor, "EUR")));
        if (t.debt_minor > 0) box.append(el("button", { onclick: () => payDebt(t.id) }, "Pay " + formatMoney(t.debt_minor, "EUR")));
        box.append(el("table", {}, el("tbody", {}, ...t.lines.map(lineRow))));
        node.append(box);
      }
    } catch (err) { fail(err); }
  }

  document.getElementById("new-code").addEventListener("click", newCode);
  if (!SmileApi.key) {
    message.replaceChildren("You are not signed in. ", el("a", { href: "/wallet" }, "Sign in on your wallet"),
                            " first, then come back here.");
    message.className = "message warn";
    message.hidden = false;
    document.getElementById("new-code").disabled = true;
    return;
  }
  SmileMoney.load().catch(() => null).then(loadTrips);
  setInterval(loadTrips, 5000);
})();
