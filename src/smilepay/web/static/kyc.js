// Identity verification: type the document (checked before any face work), a live selfie
// through the liveness challenge, then the portrait page or chip portrait as a JPEG file.
// The wallet session comes from the wallet page (or #token=ws_...).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const camera = new SmileCamera($("video"));
  let digest = null, verification = null, session = null;

  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) {
    localStorage.setItem("smilepay.wallet", hash.get("token"));
    history.replaceState(null, "", location.pathname);
  }
  SmileApi.key = localStorage.getItem("smilepay.wallet");
  const say = (text, kind) => showMessage($("message"), text, kind);
  const state = (s) => { $("kyc").dataset.state = s; };

  async function loadConsent() {
    const text = await SmileApi.get("/v1/identity/consent_text/identity_verification");
    $("consent-text").textContent = text.body;
    digest = text.digest;
  }

  async function start(ev) {
    ev.preventDefault();
    const body = { document_type: $("doc-type").value, consent_digest: digest,
      number: $("number").value, mrz_line1: $("mrz1").value, mrz_line2: $("mrz2").value };
    try {
      verification = await SmileApi.post("/v1/identity/verifications", body);
    } catch (err) {
      say(customerMessage(err), "error");
      return;
    }
    session = verification.session;
    state("selfie");
    $("document-form").hidden = true;
    try {
      $("video").hidden = false;
      await camera.open();
    } catch (err) { say(err.message, "error"); return; }
    say(session.prompts[0], "info");
    camera.stream_frames(sendFrame, 10, (err) => say(err.message, "error"));
  }

  async function sendFrame(frame) {
    let answer;
    try {
      answer = await SmileApi.request("POST", `/v1/face/sessions/${session.id}/frames`, frame.blob,
        { headers: { "X-Capture-Ms": String(frame.capturedAtMs) } });
    } catch (err) { say(customerMessage(err), "error"); return false; }
    if (answer.state === "collecting") { say(answer.prompt || answer.message, "info"); return true; }
    camera.close();
    $("video").hidden = true;
    if (answer.state !== "passed") { say(answer.message || "The check did not work.", "error"); state("failed"); return false; }
    state("document_photo");
    $("upload-form").hidden = false;
    say("Thank you. Now add the document's portrait.", "ok");
    return false;
  }

  async function upload(ev) {
    ev.preventDefault();
    const file = $("document").files[0];
    if (!file) return;
    try {
      const done = await SmileApi.request("POST", `/v1/identity/verifications/${verification.id}/complete`,
        new Blob([await file.arrayBuffer()], { type: "image/jpeg" }));
      $("upload-form").hidden = true;
      const box = $("result");
      box.hidden = false;
      box.dataset.status = done.status;
      box.textContent = done.status === "verified"
        ? "Verified: your document is linked to your account."
        : "Not verified. You can try again, or have the document checked at a counter.";
      state(done.status);
      say(done.status === "verified" ? "Done." : "The portrait did not match the selfie.", done.status === "verified" ? "ok" : "error");
    } catch (err) { say(customerMessage(err), "error"); }
  }

  $("document-form").addEventListener("submit", start);
  $("upload-form").addEventListener("submit", upload);
  loadConsent().catch((err) => say(customerMessage(err), "error"));
})();
