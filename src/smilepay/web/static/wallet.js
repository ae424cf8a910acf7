// Wallet: balance, test-mode top-up, receipts, notifications, consent, erase.
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
  let currency = "eur";

  function row(...cells) { return el("tr", {}, ...cells.map((c) => el("td", {}, c))); }

  async function load() {
    if (!SmileApi.key) {
      $("wallet").dataset.state = "signed_out";
      showMessage(message, "You are not signed in. Sign up or sign in on the enrol page.", "warn");
      return;
    }
    let w;
    try {
      w = await SmileApi.get("/v1/face/wallet?currency=" + currency);
    } catch (err) {
      $("wallet").dataset.state = "error";
      showMessage(message, err.message, "error");
      return;
    }
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
      ? w.face.templates + " encrypted template(s), model " + w.face.models.join(", ") + ", key " + w.face.key_ids.join(", ")
      : "No face template stored.";
    $("erase").hidden = !(w.consent || w.face.templates);
    $("deletions").replaceChildren(...w.deletion_receipts.map((r) => el("p", { class: "message ok deletion" },
      "Deletion receipt " + r.id + ": " + r.templates_deleted + " template(s) deleted " + formatTime(r.deleted)
      + " (" + r.reason + "), fingerprint " + r.digest)));
    $("payments").replaceChildren(...w.payments.map((p) => row(formatTime(p.created),
      formatMoney(p.amount_minor, p.currency), p.amount_refunded_minor ? formatMoney(p.amount_refunded_minor, p.currency) : "",
      p.status, p.id)));
    $("notifications").replaceChildren(...w.notifications.map((n) => row(formatTime(n.created), n.kind,
      n.subject + (n.body ? " — " + n.body : ""))));
    $("wallet").dataset.state = "ready";
    showMessage(message, "Wallet up to date.", "ok");
  }

  document.querySelectorAll("[data-topup]").forEach((b) => b.addEventListener("click", async () => {
    try {
      await SmileApi.post("/v1/face/wallet/topups", { amount_minor: Number(b.dataset.topup), currency });
      await load();
    } catch (err) {
      showMessage(message, err.message, "error");
    }
  }));

  $("erase").addEventListener("click", async () => {
    if (!window.confirm("Erase your face? Face payment stops until you enrol again.")) return;
    try {
      const r = await SmileApi.del("/v1/face/consent");
      await load();
      showMessage(message, "Your face was erased: " + r.templates_deleted + " template(s) deleted. Receipt " + r.id + ".", "ok");
    } catch (err) {
      showMessage(message, err.message, "error");
    }
  });

  $("sign-out").addEventListener("click", () => {
    localStorage.removeItem("smilepay.wallet");
    SmileApi.key = null;
    location.reload();
  });

  load();
})();
