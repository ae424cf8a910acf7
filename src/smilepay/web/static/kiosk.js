// Kiosk: wait for a payment at this terminal, run the face check, ask the phone digits, pay.
// It keeps polling the terminal while a check runs and always follows the newest active
// payment: one sent later takes over, one canceled or expired at the till ends the check.
// What a customer reads comes from the server (the prompt table) or customerMessage().
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const status = $("status"), message = $("message"), video = $("video");
  const camera = new SmileCamera(video);
  const FRAMES_PER_S = 10; // at most; a slower server gets fewer (camera.js)
  const STEP_NAMES = { smile: "Smile", blink: "Blink", turn_left: "Turn left", turn_right: "Turn right", open_mouth: "Open mouth" };
  const POLL_MS = 1500;
  const SETTLED = new Set(["paid", "confirming"]);  // the kiosk does not switch away from these
  let payment = null, session = null, cameraOpen = false, polling = false, generation = 0;

  function readKey() {
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.get("key")) {
      localStorage.setItem("smilepay.terminalKey", hash.get("key"));
      history.replaceState(null, "", location.pathname);
    }
    return localStorage.getItem("smilepay.terminalKey");
  }

  let fullPhone = false;  // this payment's match asked for the whole number (docs/security.md)

  function setState(state, text, kind) {
    status.dataset.state = state;
    showMessage(message, text, kind);
  }

  function drawSteps(steps, done) {
    const box = $("steps");
    box.replaceChildren(...steps.map((s, i) =>
      el("span", { class: i < done ? "done" : (i === done ? "now" : "") }, STEP_NAMES[s] || s)));
  }

  async function poll() {
    if (polling) return;
    polling = true;
    try {
      const t = await SmileApi.get("/v1/face/terminal");
      $("merchant").textContent = t.merchant + (t.terminal ? " · " + t.terminal : "");
      $("mode").textContent = t.livemode ? "" : "TEST MODE";
      $("phone-label").textContent = t.phone_policy === "full" || fullPhone
        ? "Your phone number" : "Last four digits of your phone number";
      if (SETTLED.has(status.dataset.state)) return;
      const next = t.payment;
      if (next && (!payment || payment.id !== next.id)) {
        payment = next;
        await startCheck();
      } else if (!next && payment) {
        stopCheck();
        payment = null;
        toWaiting("This payment was canceled at the till. Waiting for the next payment…");
      } else if (status.dataset.state === "error" && !payment) {
        toWaiting("Waiting for the next payment…");
      }
    } catch (err) {
      setState("error", kioskMessage(err), "error");
    } finally {
      polling = false;
    }
  }

  // A refused terminal key is for the staff, not "you are signed out" for the customer.
  function kioskMessage(err) {
    if (err && err.status === 401) {
      $("merchant").textContent = "Not connected";
      return "This kiosk is not set up right. Staff: open it again from the dashboard's terminal link.";
    }
    const text = customerMessage(err);
    return /^expected\b/.test(text) ? GENERIC_PROBLEM : text;
  }

  function stopCheck() {
    generation += 1;  // answers of an older check are dropped
    session = null;
    camera.stop_frames();
  }

  function toWaiting(text) {
    $("amount").textContent = "";
    $("steps").replaceChildren();
    $("phone-form").hidden = true;
    $("retry").hidden = true;
    $("result").hidden = true;
    $("description").textContent = "Pay with a smile: the cashier starts your payment here.";
    setState("idle", text, "info");
  }

  function startError(err) {
    if (err.status === 409) {  // too many tries, or no longer open: only a new payment helps
      setState("error", "This payment cannot be checked again. Please ask the cashier to start a new payment.", "error");
      $("retry").hidden = true;
      return;
    }
    setState("error", kioskMessage(err), "error");
    $("retry").hidden = false;
  }

  async function startCheck() {
    stopCheck();
    const mine = generation;
    $("amount").textContent = formatMoney(payment.amount_minor, payment.currency);
    $("amount").dataset.minor = String(payment.amount_minor);
    $("description").textContent = payment.description || "Payment";
    $("status").dataset.payment = payment.id;
    $("result").hidden = true;
    $("retry").hidden = true;
    $("phone-form").hidden = true;
    fullPhone = false;
    $("steps").replaceChildren();
    setState("starting", "Look at the camera…", "info");
    let started;
    try {
      if (!cameraOpen) {
        video.hidden = false;
        await camera.open();
        cameraOpen = true;
      }
      started = await SmileApi.post("/v1/face/payments", { payment_intent: payment.id });
    } catch (err) {
      if (mine === generation) startError(err);
      return;
    }
    if (mine !== generation) return;  // a newer payment took over meanwhile
    session = started;
    drawSteps(session.steps, 0);
    setState("checking", session.prompts[0], "info");
    camera.stream_frames((frame) => sendFrame(frame, mine), FRAMES_PER_S, (err) => {
      if (mine !== generation) return;
      setState("error", err.message, "error");
      $("retry").hidden = false;
    });
  }

  async function sendFrame(frame, mine) {
    if (!session || mine !== generation) return false;
    let answer;
    try {
      answer = await SmileApi.request("POST", "/v1/face/sessions/" + session.id + "/frames", frame.blob,
        { headers: { "X-Capture-Ms": String(frame.capturedAtMs) } });
    } catch (err) {
      if (mine !== generation) return false;
      setState("error", kioskMessage(err), "error");
      $("retry").hidden = false;
      return false;
    }
    if (mine !== generation) return false;
    const text = answer.prompt || answer.message;  // the server's one prompt per reason
    drawSteps(answer.steps, answer.step_index);
    if (answer.state === "passed") {
      setState("phone", "Thank you! Now confirm with your phone number.", "ok");
      $("phone-form").hidden = false;
      $("phone").focus();
      return false;
    }
    if (answer.state === "failed") {
      setState("failed", text, "error");
      message.dataset.reasons = (answer.reasons || []).join(",");
      $("retry").hidden = false;
      return false;
    }
    setState("checking", text, answer.code === "prompt" ? "info" : "warn");
    return true;
  }

  async function confirm(ev) {
    ev.preventDefault();
    if (!session) return;
    $("pay").disabled = true;
    status.dataset.state = "confirming";
    try {
      const r = await SmileApi.post("/v1/face/payments/" + session.id + "/confirm", { phone: $("phone").value });
      if (r.status === "full_phone_required") {  // four digits were not enough: same session
        fullPhone = true;
        $("phone").value = "";
        $("phone-label").textContent = "Your phone number";
        setState("phone", r.message, "info");
        $("phone").focus();
        return;
      }
      $("phone-form").hidden = true;
      $("phone").value = "";
      const box = $("result");
      box.hidden = false;
      if (r.status === "succeeded") {
        const rc = r.receipt;
        const lines = [el("div", { class: "amount" }, formatMoney(rc.paid_minor, rc.currency))];
        if (rc.discount_minor > 0) {
          lines.push(el("p", {}, "Happy Go smile discount: −" + formatMoney(rc.discount_minor, rc.currency)));
        }
        lines.push(el("p", { class: "muted" }, "Receipt " + r.payment.id));
        box.replaceChildren(...lines);
        setState("paid", r.message, "ok");
        setTimeout(reset, 6000);
      } else {
        box.replaceChildren();
        setState("refused", r.message, "error");
        $("retry").hidden = false;
      }
    } catch (err) {
      setState("error", kioskMessage(err), "error");
      $("retry").hidden = false;
    } finally {
      $("pay").disabled = false;
    }
  }

  function reset() {
    stopCheck();
    payment = null;
    toWaiting("Waiting for the next payment…");
  }

  $("phone-form").addEventListener("submit", confirm);
  $("retry").addEventListener("click", () => (payment ? startCheck() : reset()));
  SmileApi.key = readKey();
  if (!SmileApi.key) {
    setState("error", "This kiosk has no terminal key. Open it from the dashboard's terminal link.", "error");
  } else {
    SmileMoney.load().then(() => {
      setInterval(poll, POLL_MS);
      poll();
    }).catch((err) => setState("error", err.message, "error"));
  }
})();
