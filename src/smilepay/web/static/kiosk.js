// Kiosk: wait for a payment at this terminal, run the face check, ask the phone digits, pay.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const status = $("status"), message = $("message"), video = $("video");
  const camera = new SmileCamera(video);
  const FRAMES_PER_S = 10; // at most; a slower server gets fewer (camera.js)
  const STEP_NAMES = { smile: "Smile", blink: "Blink", turn_left: "Turn left", turn_right: "Turn right", open_mouth: "Open mouth" };
  let payment = null, session = null, polling = null, cameraOpen = false;

  function readKey() {
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.get("key")) {
      localStorage.setItem("smilepay.terminalKey", hash.get("key"));
      history.replaceState(null, "", location.pathname);
    }
    return localStorage.getItem("smilepay.terminalKey");
  }

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
    try {
      const t = await SmileApi.get("/v1/face/terminal");
      $("merchant").textContent = t.merchant + (t.terminal ? " · " + t.terminal : "");
      $("mode").textContent = t.livemode ? "" : "TEST MODE";
      $("phone-label").textContent = t.phone_policy === "full"
        ? "Your phone number" : "Last four digits of your phone number";
      if (t.payment && (!payment || payment.id !== t.payment.id)) {
        payment = t.payment;
        clearInterval(polling);
        await startCheck();
      }
    } catch (err) {
      setState("error", err.message, "error");
    }
  }

  async function startCheck() {
    $("amount").textContent = formatMoney(payment.amount_minor, payment.currency);
    $("description").textContent = payment.description || "Payment";
    $("result").hidden = true;
    $("retry").hidden = true;
    $("phone-form").hidden = true;
    try {
      if (!cameraOpen) {
        video.hidden = false;
        await camera.open();
        cameraOpen = true;
      }
      session = await SmileApi.post("/v1/face/payments", { payment_intent: payment.id });
    } catch (err) {
      setState("error", err.message, "error");
      $("retry").hidden = false;
      return;
    }
    drawSteps(session.steps, 0);
    setState("checking", session.prompts[0], "info");
    camera.stream_frames(sendFrame, FRAMES_PER_S, (err) => {
      setState("error", err.message, "error");
      $("retry").hidden = false;
    });
  }

  async function sendFrame(frame) {
    if (!session) return false;
    let answer;
    try {
      answer = await SmileApi.request("POST", "/v1/face/sessions/" + session.id + "/frames", frame.blob,
        { headers: { "X-Capture-Ms": String(frame.capturedAtMs) } });
    } catch (err) {
      setState("error", err.message, "error");
      $("retry").hidden = false;
      return false;
    }
    drawSteps(answer.steps, answer.step_index);
    if (answer.state === "passed") {
      setState("phone", "Thank you! Now confirm with your phone number.", "ok");
      $("phone-form").hidden = false;
      $("phone").focus();
      return false;
    }
    if (answer.state === "failed") {
      setState("failed", answer.message, "error");
      $("retry").hidden = false;
      return false;
    }
    setState("checking", answer.message, answer.code === "prompt" ? "info" : "warn");
    return true;
  }

  async function confirm(ev) {
    ev.preventDefault();
    $("pay").disabled = true;
    try {
      const r = await SmileApi.post("/v1/face/payments/" + session.id + "/confirm", { phone: $("phone").value });
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
      setState("error", err.message, "error");
      $("retry").hidden = false;
    } finally {
      $("pay").disabled = false;
    }
  }

  function reset() {
    payment = null;
    session = null;
    camera.stop_frames();
    $("amount").textContent = "";
    $("steps").replaceChildren();
    $("description").textContent = "Waiting for the next payment…";
    setState("idle", "Waiting for the next payment…", "info");
    polling = setInterval(poll, 1500);
  }

  $("phone-form").addEventListener("submit", confirm);
  $("retry").addEventListener("click", () => (payment ? startCheck() : reset()));
  SmileApi.key = readKey();
  if (!SmileApi.key) {
    setState("error", "This kiosk has no terminal key. Open it from the dashboard's terminal link.", "error");
  } else {
    polling = setInterval(poll, 1500);
    poll();
  }
})();
