// Boarding gate: board by face among this departure's passengers, or by the ticket's QR code
// (which also closes the attempt whose face failed). A departure with a fare charges it to the
// wallet on boarding; a wallet that cannot pay keeps the gate shut and the answer's message
// says what to do (top up, or pay the driver / the staff). Set-up: #key=tk_...&departure=dep_...
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const camera = new SmileCamera($("video"));
  let departure = null, session = null, cameraOpen = false, lastAttempt = null;

  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("key")) localStorage.setItem("smilepay.terminalKey", hash.get("key"));
  if (hash.get("departure")) localStorage.setItem("smilepay.gateDeparture", hash.get("departure"));
  if (hash.get("key") || hash.get("departure")) history.replaceState(null, "", location.pathname);
  SmileApi.key = localStorage.getItem("smilepay.terminalKey");
  departure = localStorage.getItem("smilepay.gateDeparture");
  $("departure").textContent = departure ? "Departure " + departure : "No departure set (#departure=...)";

  const say = (text, kind) => showMessage($("message"), text, kind);
  function result(text, kind) { const b = $("result"); b.textContent = text; b.dataset.kind = kind; b.hidden = false; }
  // boarded: the fare paid from the wallet, when there was one
  function welcome(a) { return a.fare ? `Have a good trip. ${a.fare.text} paid from your wallet.` : "Have a good trip."; }
  // the wallet could not pay: the gate stays shut, the ticket stays valid
  function fareDeclined(a) {
    say(a.message, "error");
    result("Not boarded: fare not paid. Pay another way or ask the staff.", "fare_declined");
  }

  async function boardFace() {
    $("result").hidden = true;
    $("board-face").disabled = true;
    try {
      if (!cameraOpen) { $("video").hidden = false; await camera.open(); cameraOpen = true; }
      session = await SmileApi.post(`/v1/identity/departures/${departure}/gate`, {});
    } catch (err) { say(customerMessage(err), "error"); $("board-face").disabled = false; return; }
    say(session.prompts[0], "info");
    camera.stream_frames(sendFrame, 10, (err) => { say(err.message, "error"); $("board-face").disabled = false; });
  }

  async function sendFrame(frame) {
    if (!session) return false;
    let answer;
    try {
      answer = await SmileApi.request("POST", `/v1/face/sessions/${session.id}/frames`, frame.blob,
        { headers: { "X-Capture-Ms": String(frame.capturedAtMs) } });
    } catch (err) { say(customerMessage(err) + " Use your QR code.", "error"); $("board-face").disabled = false; return false; }
    if (answer.state === "collecting") { say(answer.prompt || answer.message, "info"); return true; }
    const done = session;
    session = null;
    $("board-face").disabled = false;
    if (answer.state !== "passed") { say((answer.message || "The check did not work.") + " Please try again.", "error"); return false; }
    try {
      const a = await SmileApi.post(`/v1/identity/departures/${departure}/gate/${done.id}/board`, {});
      lastAttempt = a.id;
      if (a.boarded) { say(welcome(a), "ok"); result("Boarded", "face"); }
      else if (a.state === "fare_declined") fareDeclined(a);
      else { say("We could not find your ticket by face. Scan your QR code.", "error"); result("Not recognised", "no_match"); }
    } catch (err) { say(customerMessage(err), "error"); }
    return false;
  }

  async function boardQr(ev) {
    ev.preventDefault();
    try {
      const a = await SmileApi.post(`/v1/identity/departures/${departure}/qr`, { qr: $("qr").value, attempt: lastAttempt });
      if (a.boarded) { say(welcome(a), "ok"); result("Boarded", "qr"); }
      else if (a.state === "fare_declined") fareDeclined(a);
      else { say("This ticket cannot board here: please ask the staff.", "error"); result("Refused", "refused"); }
    } catch (err) {
      say(customerMessage(err), "error");
      result(err.code === "ticket_already_used" ? "Ticket already used" : "Refused", "refused");
    }
    $("qr").value = "";
    lastAttempt = null;
  }

  $("board-face").addEventListener("click", boardFace);
  $("qr-form").addEventListener("submit", boardQr);
  if (!departure || !SmileApi.key) {  // staff set the gate up once; passengers never see an API error
    say("This gate is not set up: open it as /identity/boarding#key=tk_...&departure=dep_... " +
        "(docs/identity.md).", "warn");
    $("board-face").disabled = true;
    $("board-qr").disabled = true;
  }
})();
