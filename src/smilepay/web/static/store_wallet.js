// The wallet's store part: the entry QR code (drawn by the server with segno), trips (visits)
// with their receipt lines and total, a dispute button per line, paying a store debt.
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

  // A trip's amounts are minor units of its store's currency (ISO 4217, with its exponent):
  // 500 JPY is "¥500", 370 euro cents "€3.70".
  function money(minor, t) {
    const digits = t.currency_exponent;
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: t.currency,
        minimumFractionDigits: digits, maximumFractionDigits: digits }).format(minor / Math.pow(10, digits));
    } catch (e) {
      const s = String(Math.abs(minor)).padStart(digits + 1, "0");
      return (minor < 0 ? "-" : "") + (digits ? s.slice(0, -digits) + "." + s.slice(-digits) : s) + " " + t.currency;
    }
  }

  async function dispute(line, reason, t) {
    try {
      const d = await SmileApi.post("/v1/wallet/store/lines/" + encodeURIComponent(line) + "/dispute", { reason });
      showMessage(message, d.status === "refunded"
        ? "Refunded: " + money(d.amount_minor, t) + " is back in your wallet."
        : "Sent to the store's staff: they will look at it.", "info");
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

  const REASONS = [["item_not_taken", "I did not take it"], ["wrong_quantity", "Wrong quantity"],
                   ["wrong_price", "Wrong price"], ["damaged", "Damaged"], ["other", "Other"]];
  const DISPUTES = { queued: "Sent to the store's staff", refunded: "Refunded", rejected: "Refused by the store" };
  const STATUSES = {
    authorised: "In the store", in_store: "In the store", exiting: "Leaving",
    charged: "Paid", review: "Paid · some items are being checked", debt: "Not fully paid",
    canceled: "Cancelled",
  };

  function lineState(line, t) {
    if (line.dispute === "refunded" || (!line.dispute && line.refunded_minor)) {
      return "Refunded " + money(line.refunded_minor, t);
    }
    return DISPUTES[line.dispute] || "Sent to the store's staff";
  }

  function lineRow(line, t) {
    const reason = el("select", { "aria-label": "What is wrong" },
      ...REASONS.map(([value, text]) => el("option", { value }, text)));
    const action = line.dispute || line.refunded_minor
      ? el("span", { class: "dispute-state" }, lineState(line, t))
      : el("span", {}, reason, " ", el("button", { class: "secondary dispute",
          onclick: () => dispute(line.id, reason.value, t) }, "Dispute"));
    return el("tr", { "data-line": line.id }, el("td", {}, line.quantity + " × " + line.name),
              el("td", { class: "nowrap" }, money(line.amount_minor, t)),
              el("td", {}, action));
  }

  function tripBox(t) {
    const when = formatTime(Math.floor(t.created_at_ms / 1000));
    const refunded = t.lines.reduce((sum, line) => sum + line.refunded_minor, 0);
    const box = el("div", { class: "trip", "data-trip": t.id, "data-status": t.status },
      el("h3", {}, t.store_name + " · Trip on " + when + " · " + (STATUSES[t.status] || "In progress")));
    if (t.debt_minor > 0) box.append(el("button", { onclick: () => payDebt(t.id) }, "Pay " + money(t.debt_minor, t)));
    if (t.lines.length) {
      const foot = [el("tr", { class: "total" }, el("td", {}, el("strong", {}, "Total paid")),
                       el("td", { class: "nowrap" }, el("strong", {}, money(t.charged_minor, t))),
                       el("td", {}))];
      if (refunded) {
        foot.push(el("tr", {}, el("td", {}, "Refunded to your wallet"),
                     el("td", { class: "nowrap" }, money(refunded, t)), el("td", {})));
      }
      box.append(el("table", {}, el("tbody", {}, ...t.lines.map((line) => lineRow(line, t))), el("tfoot", {}, ...foot)));
    } else if (t.status === "charged") {
      box.append(el("p", { class: "muted" }, "Nothing taken: nothing paid."));
    } else if (t.status === "authorised" || t.status === "in_store") {
      box.append(el("p", { class: "muted" }, "Your receipt appears here when you leave."));
    }
    box.append(el("p", { class: "muted" }, "Reference for the store's staff: ", el("span", { class: "id" }, t.id)));
    return box;
  }

  async function loadTrips() {
    try {
      const trips = (await SmileApi.get("/v1/wallet/store/trips")).data;
      const node = document.getElementById("trips");
      node.replaceChildren();
      if (!trips.length) { node.append(el("p", { class: "muted" }, "No store trips yet.")); return; }
      for (const t of trips) node.append(tripBox(t));
    } catch (err) { fail(err); }
  }

  // store entry by face: a consent of its own; turning it on seals a copy of the payment face
  // for the gates (entry and exit), turning it off erases that copy (the payment face stays)
  const faceCard = document.getElementById("face-gates");
  const faceOn = document.getElementById("face-gates-on");
  const faceOff = document.getElementById("face-gates-off");
  const faceState = document.getElementById("face-gates-state");
  let faceDigest = null;

  async function loadFaceGates() {
    try {
      const [text, consents, wallet] = await Promise.all([
        SmileApi.get("/v1/identity/consent_text/store_entry"), SmileApi.get("/v1/identity/consents"),
        SmileApi.get("/v1/face/wallet")]);
      faceDigest = text.digest;
      document.getElementById("face-gates-text").textContent = text.body;
      const mine = consents.data.filter((c) => c.purpose === "store_entry" && c.active);
      const on = mine.some((c) => c.version === text.version);
      const older = !on && mine.length > 0; // agreed to an earlier text: the gates ignore it
      const enrolled = wallet.face && wallet.face.templates > 0;
      faceState.textContent = on
        ? "On: the store's gates can recognise you at the entry and at the exit."
        : older
          ? "Paused: this text changed since you agreed. Read it and agree again to use your face at the gates."
          : (enrolled ? "Off: show your entry code at the gates." : "Off. Enrol your face for payments first.");
      faceOn.hidden = on;
      faceOn.disabled = !on && !enrolled;
      faceOff.hidden = !on && !older;
      faceCard.hidden = false;
    } catch (err) {
      faceCard.hidden = true; // a server without the face engine: the entry code only
    }
  }

  faceOn.addEventListener("click", async () => {
    try {
      await SmileApi.post("/v1/wallet/store/face_consent", { digest: faceDigest });
      await loadFaceGates();
    } catch (err) { fail(err); }
  });
  faceOff.addEventListener("click", async () => {
    try {
      await SmileApi.del("/v1/identity/consents/store_entry");
      await loadFaceGates();
    } catch (err) { fail(err); }
  });

  document.getElementById("new-code").addEventListener("click", newCode);
  if (!SmileApi.key) {
    message.replaceChildren("You are not signed in. ", el("a", { href: "/wallet" }, "Sign in on your wallet"),
                            " first, then come back here.");
    message.className = "message warn";
    message.hidden = false;
    // signed out: only the sign-in line, as on the wallet and identity pages
    for (const card of document.querySelectorAll("#store-wallet section.card")) card.hidden = true;
    return;
  }
  loadTrips();
  loadFaceGates();
  setInterval(loadTrips, 5000);
})();
