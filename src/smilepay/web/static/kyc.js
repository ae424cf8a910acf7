// Identity verification: type the document (checked before any face work), a live selfie
// through the liveness challenge, then the portrait page or chip portrait as a JPEG file.
// The wallet session comes from the wallet page (or #token=ws_...); signed out, the page shows
// only the way to sign in.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const camera = new SmileCamera($("video"));
  const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;  // the server's limit (services.identity_document)
  let digest = null, verification = null, session = null;

  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) {
    localStorage.setItem("smilepay.wallet", hash.get("token"));
    history.replaceState(null, "", location.pathname);
  }
  SmileApi.key = localStorage.getItem("smilepay.wallet");
  const say = (text, kind) => showMessage($("message"), text, kind);
  const state = (s) => { $("kyc").dataset.state = s; };

  // What a customer can act on, for an API error (the server's words are for developers).
  function kycMessage(err) {
    if (err && err.status === 0) return err.message;
    const passport = $("doc-type").value === "passport";
    switch (err && err.code) {
      case "document_invalid":
        return passport
          ? "These passport lines are not right. Type both lines exactly as printed, with every < sign."
          : "This card number is not right: check every digit and the last character (the check character, 0-9 or X).";
      case "document_expired": return "This passport has expired. Use a document that is still valid.";
      case "document_already_linked": return "This document is already linked to another account. Ask the staff for help.";
      case "consent_required": return "Tick the box to agree to the text above.";
      case "not_an_image": case "image_truncated": case "image_empty": case "image_invalid":
        return "This file is not a photo we can read. Choose a JPEG photo of the portrait page.";
      case "image_too_large": return "This photo is too large. Choose a JPEG photo of up to 4 MB.";
      case "no_face_found": return "We could not find a face on this photo. Choose a sharp photo of the portrait page.";
      case "ambiguous_faces": return "This photo shows more than one face. Choose a photo of the portrait only.";
      case "poor_quality": return "This photo is too blurred or too dark. Choose a sharper photo of the portrait page.";
      default: break;
    }
    if (err && err.param === "document") return "Choose a JPEG photo of the portrait page, up to 4 MB.";
    if (err && err.code === "conflict") return "This check has already ended. Reload the page to start again.";
    const text = customerMessage(err);
    return /^expected\b|_/.test(text) ? "Something went wrong. Please try again or ask the staff." : text;
  }

  // The length rules a person can see on the card, before anything is sent.
  function typedProblem() {
    if ($("doc-type").value === "passport") {
      for (const [id, n] of [["mrz1", 1], ["mrz2", 2]]) {
        const line = $(id).value.trim();
        if (line.length !== 44) {
          $(id).focus();
          return `Line ${n} has ${line.length} characters; it needs 44 (count every < sign).`;
        }
      }
      return null;
    }
    const number = $("number").value.trim();
    if (number.length !== 18) {
      $("number").focus();
      return `A resident identity card number has 18 characters; you typed ${number.length}.`;
    }
    return null;
  }

  function showDocumentFields() {
    const passport = $("doc-type").value === "passport";
    $("number-fields").hidden = passport;
    $("mrz-fields").hidden = !passport;
    $("start").textContent = passport ? "Check the passport lines and take a selfie"
      : "Check the number and take a selfie";
  }

  function signedOut(text) {
    localStorage.removeItem("smilepay.wallet");
    SmileApi.key = null;
    camera.close();
    $("kyc").hidden = true;
    $("signin").hidden = false;
    $("result").hidden = true;
    $("kyc-page").dataset.state = "signed_out";
    say(text, "warn");
  }

  async function load() {
    if (!SmileApi.key) { signedOut("You are not signed in."); return; }
    try {
      await SmileApi.get("/v1/face/wallet");  // a session that has ended shows the sign-in
      const text = await SmileApi.get("/v1/identity/consent_text/identity_verification");
      $("consent-text").textContent = text.body;
      digest = text.digest;
    } catch (err) {
      if (err.status === 401) { signedOut("Your session has ended. Please sign in again."); return; }
      $("kyc-page").dataset.state = "error";
      say(kycMessage(err), "error");
      return;
    }
    $("kyc").hidden = false;
    $("kyc-page").dataset.state = "ready";
    say("Your document image and selfie are compared once and not kept.", "info");
  }

  async function start(ev) {
    ev.preventDefault();
    const problem = typedProblem();
    if (problem) { say(problem, "error"); return; }
    const passport = $("doc-type").value === "passport";
    const body = { document_type: $("doc-type").value, consent_digest: digest,
      number: passport ? "" : $("number").value.trim().toUpperCase(),
      mrz_line1: passport ? $("mrz1").value.trim().toUpperCase() : "",
      mrz_line2: passport ? $("mrz2").value.trim().toUpperCase() : "" };
    $("start").disabled = true;
    try {
      verification = await SmileApi.post("/v1/identity/verifications", body);
    } catch (err) {
      $("start").disabled = false;
      if (err.status === 401) { signedOut("Your session has ended. Please sign in again."); return; }
      say(kycMessage(err), "error");
      return;
    }
    $("start").disabled = false;
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
    } catch (err) { say(kycMessage(err), "error"); return false; }
    if (answer.state === "collecting") { say(answer.prompt || answer.message, "info"); return true; }
    camera.close();
    $("video").hidden = true;
    if (answer.state !== "passed") {
      say((answer.prompt || answer.message || "The check did not work.") + " Reload the page to try again.", "error");
      state("failed");
      return false;
    }
    state("document_photo");
    $("upload-form").hidden = false;
    say("Thank you. Now add the document's portrait.", "ok");
    return false;
  }

  // why a verification was refused (the server's reason) in words the customer can act on
  const REFUSALS = {
    below_threshold: "The portrait did not match the selfie.",
    document_not_frontal: "The face on the document must look straight at the camera. Take the photo again from the front, or have the document checked at a counter.",
    document_no_face: "No face was found on the document. Take the photo again, closer and without glare.",
    document_several_faces: "More than one face is on the photo. Take the photo of the portrait alone.",
    model_mismatch: "Something changed on our side. Please start again.",
  };

  async function upload(ev) {
    ev.preventDefault();
    const file = $("document").files[0];
    if (!file) { say("Choose a photo of the portrait page first.", "error"); return; }
    if (file.size > MAX_DOCUMENT_BYTES) { say("This photo is too large. Choose a JPEG photo of up to 4 MB.", "error"); return; }
    $("send").disabled = true;
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
      say(done.status === "verified" ? "Done." : (REFUSALS[done.reason] || REFUSALS.below_threshold),
        done.status === "verified" ? "ok" : "error");
    } catch (err) {
      if (err.status === 401) { signedOut("Your session has ended. Please sign in again."); return; }
      say(kycMessage(err), "error");
    } finally {
      $("send").disabled = false;
    }
  }

  $("doc-type").addEventListener("change", showDocumentFields);
  $("document-form").addEventListener("submit", start);
  $("upload-form").addEventListener("submit", upload);
  showDocumentFields();
  load();
})();
