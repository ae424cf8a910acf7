// The store gate's display: camera frames go to the entry (a QR code in them, else the face)
// or the exit decision (the face names the trip, which pays); the answer is shown as "Welcome",
// "Goodbye" (with the items and the total paid), "Please wait" or "Please see staff" with why.
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
  const typedInput = document.getElementById("typed");
  const typedLabel = document.getElementById("typed-label");
  const TYPED_LABELS = {
    entry: "Entry code, if the camera cannot read it",
    exit: "Trip number (on the store dashboard), if the camera cannot recognise the customer",
    digits: "Last four digits of your phone number",
  };
  // why a gate stays shut, in words a customer or staff can act on (never a reason code)
  const REFUSALS = {
    bad_code: ["Code not recognised", "Show the entry code from your SmilePay wallet."],
    expired: ["Code expired", "Show a new code from your wallet."],
    code_used: ["Code already used", "Show a new code from your wallet."],
    unpaid_debt: ["Please see staff", "An earlier visit is still unpaid: you can pay it in your wallet."],
    trip_open: ["Please see staff", "Your visit has already started."],
    hold_failed: ["Please see staff", "Your wallet could not set aside the entry amount: please top it up."],
    payment_failed: ["Please see staff", "Your wallet could not pay for everything."],
    not_live: ["Please see staff", "The camera could not check your face."],
    not_recognised: ["Please see staff", "We could not find your visit."],
  };
  const ERRORS = {  // what staff see when the server refuses what the gate sent
    not_found: "No such trip at this store: check the number.",
    trip_unexpected_state: "This trip has already left the store.",
    invalid_input: mode === "entry" ? "That is not an entry code." : "That is not a trip number.",
    permission_denied: "This gate belongs to another terminal: check the gate's set-up link.",
  };
  function errorText(err) {
    if (err.param === "gate") return "This gate is not known: check the gate's set-up link.";
    return ERRORS[err.code] || customerMessage(err);
  }
  document.getElementById("gate-name").textContent = mode === "entry" ? "Entry gate" : "Exit gate";
  typedLabel.textContent = TYPED_LABELS[mode];
  let busy = false;
  let holdUntil = 0;
  let session = null; // the gate's face session (liveness challenge, then the keypad digits)
  let wantDigits = false;
  let typedBody = null; // what staff typed, sent before the next camera frame
  let cameraError = false; // the message shows an error of a camera frame's request

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

  function items(n) { return n + (n === 1 ? " item" : " items"); }

  function decided(d, typed) {
    holdUntil = Date.now() + 4000;
    session = d.session || null;
    wantDigits = d.reason === "digits_needed";
    typedLabel.textContent = TYPED_LABELS[wantDigits ? "digits" : mode];
    if (d.reason === "face_collecting") {
      holdUntil = 0;
      show("wait", d.display, d.message);
    } else if (wantDigits) {
      holdUntil = Date.now() + 30000;
      show("wait", d.display, "");
      typedInput.focus();
    } else if (d.open) {
      const trip = d.trip;
      show("open", mode === "entry" ? "Welcome" : "Goodbye",
           trip && trip.lines ? items(trip.lines.length) + ", total " +
             formatMoney(trip.charged_minor, trip.currency) : "");
    } else if (!typed && (d.reason === "not_recognised" || d.reason === "bad_code" || d.reason === "no_face")) {
      holdUntil = 0; // an idle gate (nobody, or a stranger): keep looking, quietly
    } else {
      const [title, more] = REFUSALS[d.reason] || ["Please see staff", ""];
      show("refused", title, more);
    }
  }

  async function ask(body, typed) {
    busy = true;
    try {
      const path = "/v1/store_gates/" + encodeURIComponent(gate) + "/" + mode;
      decided(await SmileApi.post(path, body), typed);
      if (typed || cameraError) { message.hidden = true; cameraError = false; }
    } catch (err) {
      session = null;
      wantDigits = false;
      typedLabel.textContent = TYPED_LABELS[mode];
      if (typed || err.code !== "invalid_input") {
        showMessage(message, errorText(err), "error");
        message.hidden = false;
        cameraError = !typed;
      }
      if (typed) {
        holdUntil = Date.now() + 4000;
        show("refused", "Please see staff", "");
      }
    } finally {
      busy = false;
    }
  }

  function sendTyped() {
    const body = typedBody;
    typedBody = null;
    ask(body, true);
  }

  async function tick() {
    if (typedBody && !busy) { sendTyped(); return; } // staff first
    if (Date.now() > holdUntil && root.dataset.state !== "idle" && !busy) idle();
    if (busy || Date.now() < holdUntil || !video.videoWidth) return;
    await ask({ frames: [frame()], session: session });
  }

  document.getElementById("send-typed").addEventListener("click", () => {
    const typed = typedInput.value.trim();
    if (!typed) return;
    show("wait", "Please wait");
    holdUntil = Date.now() + 30000;
    if (wantDigits && /^[0-9]{4}$/.test(typed)) typedBody = { session: session, digits: typed };
    else typedBody = mode === "entry" ? { code: typed } : { trip: typed };
    typedInput.value = "";
    if (!busy) sendTyped(); // else the next tick sends it, before any camera frame
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
    showMessage(message, "No camera: staff can type the " +
                (mode === "entry" ? "entry code" : "trip number") + " below.", "error");
    message.hidden = false;
  });
})();
