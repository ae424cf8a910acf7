// The store gate's display: camera frames go to the entry (a QR code in them, else the face)
// or the exit decision; the answer is shown as "Welcome", "Please wait" or "Please see staff".
// Set-up in the fragment: #key=tk_...&gate=gate_...&mode=entry|exit
"use strict";
(function () {
  const hash = new URLSearchParams(location.hash.slice(1));
  SmileApi.key = hash.get("key");
  const gate = hash.get("gate") || "";
  const mode = hash.get("mode") === "exit" ? "exit" : "entry";
  const root = document.getElementById("gate");
  const display = document.getElementById("display");
  const detail = document.getElementById("detail");
  const video = document.getElementById("camera");
  const canvas = document.getElementById("grab");
  const message = document.getElementById("message");
  document.getElementById("gate-name").textContent = mode + " gate " + gate;
  let busy = false;
  let holdUntil = 0;
  let session = null; // the gate's face session (liveness challenge, then the keypad digits)
  let wantDigits = false;

  function show(state, text, more) {
    root.dataset.state = state;
    display.textContent = text;
    detail.textContent = more || "";
  }

  function idle() {
    show("idle", mode === "entry" ? "Show your wallet's entry code" : "Please walk through");
  }

  function frame() {
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL("image/jpeg", 0.85).split(",")[1];
  }

  function decided(d) {
    holdUntil = Date.now() + 4000;
    session = d.session || null;
    wantDigits = d.reason === "digits_needed";
    if (d.reason === "face_collecting") {
      holdUntil = 0;
      show("wait", d.display, d.message);
    } else if (wantDigits) {
      holdUntil = Date.now() + 30000;
      show("wait", d.display, "");
      document.getElementById("typed").focus();
    } else if (d.open) {
      show("open", mode === "entry" ? "Welcome" : "Goodbye",
           d.trip && d.trip.lines ? d.trip.lines.length + " item(s), total " +
             formatMoney(d.trip.charged_minor, "EUR") : "");
    } else if (d.reason === "not_recognised" || d.reason === "bad_code" || d.reason === "no_face") {
      holdUntil = 0;
    } else {
      show("refused", "Please see staff", d.message || d.reason);
    }
  }

  async function ask(body) {
    busy = true;
    try {
      const path = "/v1/store_gates/" + encodeURIComponent(gate) + "/" + mode;
      decided(await SmileApi.post(path, body));
    } catch (err) {
      session = null;
      wantDigits = false;
      if (err.code !== "invalid_input") {
        showMessage(message, err.message, "error");
        message.hidden = false;
      }
    } finally {
      busy = false;
    }
  }

  async function tick() {
    if (Date.now() > holdUntil && root.dataset.state !== "idle" && !busy) idle();
    if (busy || Date.now() < holdUntil || !video.videoWidth) return;
    await ask({ frames: [frame()], session: session });
  }

  document.getElementById("send-typed").addEventListener("click", () => {
    const typed = document.getElementById("typed").value.trim();
    if (!typed) return;
    show("wait", "Please wait");
    if (wantDigits && /^[0-9]{4}$/.test(typed)) ask({ session: session, digits: typed });
    else ask(mode === "entry" ? { code: typed } : { trip: typed });
  });

  idle();
  if (!SmileApi.key || !gate) {
    showMessage(message, "This gate is not set up: open it as /store/gate#key=tk_...&gate=gate_...&mode=entry " +
                "(or mode=exit); POST /v1/stores/{store_id}/gates creates one (docs/api-reference.md).", "warn");
    message.hidden = false;
    return;
  }
  SmileMoney.load().catch(() => null);
  navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } }).then((stream) => {
    video.srcObject = stream;
    setInterval(tick, 600);
  }).catch(() => {
    showMessage(message, "No camera: staff can type the code.", "error");
    message.hidden = false;
  });
})();
