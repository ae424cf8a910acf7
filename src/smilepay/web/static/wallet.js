// Wallet: balance, test-mode top-up, receipts, notifications, consent, erase, standing authorisations.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const message = $("message");
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) {
    localStorage.setItem("smilepay.wallet", hash.get("token"));
    history.replaceState(null, "", location.pathname);
  }
  SmileApi.key = localStorage.getItem("smilepay.wallet");
  let currency = localStorage.getItem("smilepay.walletCurrency") || "EUR";

  function row(...cells) { return el("tr", {}, ...cells.map((c) => el("td", {}, c))); }

  // A receipt or refund id in a notification ("Receipt pi_...") may wrap like the receipts'
  // ids on a phone; the words around it do not.
  function withIds(text) {
    return el("span", {}, ...text.split(/(\b[a-z]{2,5}_[A-Za-z0-9]{6,}\b)/)
      .map((part, i) => (i % 2 ? el("span", { class: "id" }, part) : part)));
  }

  // Each cell names its column (data-label), as on the dashboard: at <= 720 px a table.stack
  // shows each row as a labelled block instead of scrolling inside its card.
  function labelCells(tbody) {
    const heads = Array.from(tbody.closest("table").querySelectorAll("thead th"), (th) => th.textContent);
    for (const tr of tbody.rows) {
      Array.from(tr.cells).forEach((td, i) => {
        if (td.colSpan === 1 && heads[i]) td.dataset.label = heads[i];
        td.classList.toggle("blank", !td.textContent.trim() && !td.children.length);
      });
    }
  }

  async function load() {
    if (!SmileApi.key) {
      signedIn(false);
      $("wallet").dataset.state = "signed_out";
      showMessage(message, "You are not signed in.", "warn");
      return;
    }
    let w;
    try {
      await SmileMoney.load();
      if (!$("wallet-currency").options.length) {
        $("wallet-currency").replaceChildren(...SmileMoney.codes().map((c) => el("option", { value: c }, c)));
        $("wallet-currency").value = SmileMoney.codes().includes(currency) ? currency : "EUR";
        currency = $("wallet-currency").value;
      }
      w = await SmileApi.get("/v1/face/wallet?currency=" + currency);
    } catch (err) {
      if (err.status === 401) {
        localStorage.removeItem("smilepay.wallet");
        SmileApi.key = null;
        signedIn(false);
        $("wallet").dataset.state = "signed_out";
        showMessage(message, "Your session has ended. Please sign in again.", "warn");
        return;
      }
      $("wallet").dataset.state = "error";
      showMessage(message, customerMessage(err), "error");
      return;
    }
    signedIn(true);
    $("mode").textContent = w.livemode ? "" : "TEST MODE";
    $("balance").textContent = formatMoney(w.balance.available_minor, w.balance.currency);
    $("who").textContent = (w.customer.name ? w.customer.name + " · " : "") + w.customer.phone;
    $("topup-box").hidden = w.livemode;
    if (w.consent) {
      $("consent").textContent = "Consent " + w.consent.version + " given " + formatTime(w.consent.granted)
        + "; kept until " + new Date(w.consent.retention_until * 1000).toLocaleDateString() + " unless used.";
    } else {
      $("consent").textContent = "No face-payment consent: your face is not enrolled.";
    }
    $("face").textContent = w.face.templates
      ? "Your face is enrolled: " + w.face.templates + " encrypted template(s) stored, never a photo."
      : "No face template stored.";
    $("erase").hidden = !(w.consent || w.face.templates);
    $("deletions").replaceChildren(...w.deletion_receipts.map((r) => el("p", { class: "message ok deletion" },
      "Deletion receipt " + r.id + ": " + r.templates_deleted + " template(s) deleted " + formatTime(r.deleted)
      + " (" + r.reason + "), fingerprint " + r.digest)));
    $("payments").replaceChildren(...tableRows(w.payments, (p) => row(formatTime(p.created),
      formatMoney(p.amount_minor, p.currency), p.amount_refunded_minor ? formatMoney(p.amount_refunded_minor, p.currency) : "",
      p.status, el("span", { class: "id" }, p.id)), "No receipts yet.", 5));
    $("notifications").replaceChildren(...tableRows(w.notifications, (n) => row(formatTime(n.created), n.kind,
      withIds(n.subject + (n.body ? " — " + n.body : ""))), "No notifications yet.", 3));
    labelCells($("payments"));
    labelCells($("notifications"));
    drawTopups();
    await drawMandates();
    $("wallet").dataset.state = "ready";
    showMessage(message, "Wallet up to date.", "ok");
  }

  // Standing authorisations: the shop may debit the wallet outside the face flow only with one.
  async function drawMandates() {
    const found = (await SmileApi.get("/v1/face/wallet/mandates")).data;
    const rows = found.map((m) => row(formatTime(Math.floor(m.created_ms / 1000)),
      m.status === "active" ? "Active" : "Stopped " + formatTime(Math.floor(m.revoked_ms / 1000)),
      m.status === "active" ? el("button", { class: "danger", "data-mandate": m.id, onclick: () => revokeMandate(m.id) }, "Stop")
        : ""));
    $("mandates").replaceChildren(...(rows.length ? rows
      : [el("tr", {}, el("td", { class: "empty", colspan: "3" }, "None: only your face can pay."))]));
    labelCells($("mandates"));
    $("grant-mandate").hidden = found.some((m) => m.status === "active");
  }

  async function revokeMandate(id) {
    try {
      await SmileApi.del("/v1/face/wallet/mandates/" + id);
      await load();
      showMessage(message, "The shop can no longer charge your wallet without your face.", "ok");
    } catch (err) {
      showMessage(message, customerMessage(err), "error");
    }
  }

  $("grant-mandate").addEventListener("click", async () => {
    if (!window.confirm("Allow this shop to charge your wallet without a face check? You can stop it at any time.")) return;
    try {
      await SmileApi.post("/v1/face/wallet/mandates", null);
      await load();
      showMessage(message, "This shop may now charge your wallet. Stop it here at any time.", "ok");
    } catch (err) {
      showMessage(message, customerMessage(err), "error");
    }
  });

  function signedIn(on) {
    $("signin").hidden = on;
    $("signed-in").hidden = !on;
  }

  function drawTopups() {
    document.querySelectorAll("[data-topup]").forEach((b) => {
      try { b.textContent = "Top up " + formatMoney(SmileMoney.toMinor(b.dataset.topup, currency), currency) + " (test)"; } catch (e) { /* not loaded yet */ }
    });
  }

  $("wallet-currency").addEventListener("change", () => {
    currency = $("wallet-currency").value;
    localStorage.setItem("smilepay.walletCurrency", currency);
    load();
  });

  document.querySelectorAll("[data-topup]").forEach((b) => b.addEventListener("click", async () => {
    try {
      await SmileApi.post("/v1/face/wallet/topups", { amount_minor: SmileMoney.toMinor(b.dataset.topup, currency), currency });
      await load();
    } catch (err) {
      showMessage(message, customerMessage(err), "error");
    }
  }));

  $("erase").addEventListener("click", async () => {
    if (!window.confirm("Erase your face? Face payment stops until you enrol again.")) return;
    try {
      const r = await SmileApi.del("/v1/face/consent");
      await load();
      showMessage(message, "Your face was erased: " + r.templates_deleted + " template(s) deleted. Receipt " + r.id + ".", "ok");
    } catch (err) {
      showMessage(message, customerMessage(err), "error");
    }
  });

  $("sign-out").addEventListener("click", () => {
    localStorage.removeItem("smilepay.wallet");
    SmileApi.key = null;
    location.reload();
  });

  load();
})();
