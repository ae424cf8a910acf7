// Enrol: phone -> one-time code -> consent -> face frames with a challenge -> template.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const message = $("message");
  const camera = new SmileCamera($("video"));
  const FRAMES_PER_S = 10; // at most; a slower server gets fewer (camera.js)
  const STEP_NAMES = { smile: "Smile", blink: "Blink", turn_left: "Turn left", turn_right: "Turn right", open_mouth: "Open mouth" };
  let signup = null, consent = null, session = null;

  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("key")) {
    localStorage.setItem("smilepay.terminalKey", hash.get("key"));
    history.replaceState(null, "", location.pathname);
  }
  const terminalKey = localStorage.getItem("smilepay.terminalKey");

  function show(id) {
    for (const s of ["step-phone", "step-code", "step-consent", "step-face", "step-done"]) $(s).hidden = s !== id;
  }

  // What a customer can act on, for an API error (the server's own words are for developers).
  function enrolMessage(err) {
    if (err && err.status === 401 && SmileApi.key === terminalKey) {
      return "This sign-up page is not set up right. Ask the shop staff to open it again.";
    }
    if (err && err.code === "rate_limited") return "Too many tries for now. Wait a few minutes and try again.";
    if (err && err.param === "code" && /too many/i.test(err.message || "")) {
      return "Too many wrong codes. Press \u201cSend a new code\u201d and use the new one.";
    }
    const text = customerMessage(err);
    return /^expected\b/.test(text) ? GENERIC_PROBLEM : text;
  }

  function asTerminal() { SmileApi.key = terminalKey; }
  function asWallet() { SmileApi.key = localStorage.getItem("smilepay.wallet"); }

  $("phone-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    asTerminal();
    try {
      signup = await SmileApi.post("/v1/face/signups", { phone: $("phone").value });
      $("code-sent").textContent = "We sent a code to " + signup.phone + ".";
      if (signup.test_code) {
        $("test-code").hidden = false;
        $("test-code").dataset.code = signup.test_code;
        $("test-code").textContent = "Test mode: your code is " + signup.test_code;
      }
      show("step-code");
      showMessage(message, "Enter the code from the message.", "info");
    } catch (err) {
      showMessage(message, enrolMessage(err), "error");
    }
  });

  $("code-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    asTerminal();
    try {
      const login = await SmileApi.post("/v1/face/signups/" + signup.id + "/verify",
        { code: $("code").value, name: $("name").value });
      localStorage.setItem("smilepay.wallet", login.session_token);
      consent = await SmileApi.get("/v1/face/consent_text");
      $("consent-version").textContent = consent.version;
      $("consent-text").textContent = consent.body;
      show("step-consent");
      showMessage(message, login.created ? "Phone verified: your wallet is ready." : "Welcome back.", "ok");
    } catch (err) {
      showMessage(message, enrolMessage(err), "error");
    }
  });

  $("new-code").addEventListener("click", () => {
    signup = null;
    $("code").value = "";
    show("step-phone");
    showMessage(message, "Check your phone number and ask for a new code.", "info");
    $("phone").focus();
  });

  $("consent-box").addEventListener("change", () => { $("consent-ok").disabled = !$("consent-box").checked; });

  $("consent-ok").addEventListener("click", async () => {
    asWallet();
    try {
      await SmileApi.post("/v1/face/consent", { version: consent.version, digest: consent.digest });
      show("step-face");
      showMessage(message, "Consent recorded. Opening the camera...", "ok");
    } catch (err) {
      showMessage(message, enrolMessage(err), "error");
      return;
    }
    try {
      // Start stays disabled until the camera gives pictures: pressed earlier, the first
      // frames failed (no picture) and the challenge ran without them.
      await camera.open();
      $("start-face").disabled = false;
      showMessage(message, "Consent recorded. Now your face: press Start and follow the prompts.", "ok");
    } catch (err) {
      showMessage(message, enrolMessage(err), "error");
    }
  });

  function drawSteps(steps, done) {
    $("steps").replaceChildren(...steps.map((s, i) =>
      el("span", { class: i < done ? "done" : (i === done ? "now" : "") }, STEP_NAMES[s] || s)));
  }

  $("start-face").addEventListener("click", async () => {
    asWallet();
    $("start-face").disabled = true;
    try {
      session = await SmileApi.post("/v1/face/enrolments", null);
    } catch (err) {
      showMessage(message, enrolMessage(err), "error");
      $("start-face").disabled = false;
      return;
    }
    drawSteps(session.steps, 0);
    showMessage(message, session.prompts[0], "info");
    camera.stream_frames(sendFrame, FRAMES_PER_S, (err) => {
      showMessage(message, enrolMessage(err) + " Press Start to try again.", "error");
      $("start-face").disabled = false;
    });
  });

  async function sendFrame(frame) {
    let answer;
    try {
      answer = await SmileApi.request("POST", "/v1/face/sessions/" + session.id + "/frames", frame.blob,
        { headers: { "X-Capture-Ms": String(frame.capturedAtMs) } });
    } catch (err) {
      showMessage(message, enrolMessage(err), "error");
      $("start-face").disabled = false;
      return false;
    }
    drawSteps(answer.steps, answer.step_index);
    if (answer.state === "collecting") {
      showMessage(message, answer.prompt || answer.message, answer.code === "prompt" ? "info" : "warn");
      return true;
    }
    if (answer.state === "failed") {
      showMessage(message, (answer.prompt || answer.message) + " Press Start to try again.", "error");
      $("start-face").disabled = false;
      return false;
    }
    await complete();
    return false;
  }

  async function complete() {
    try {
      const done = await SmileApi.post("/v1/face/enrolments/" + session.id + "/complete", null);
      camera.close();
      $("done-text").textContent = "Your face is enrolled: only an encrypted template was kept, no photo.";
      $("done-text").dataset.frames = String(done.frames_used);
      $("step-done").dataset.state = "enrolled";
      show("step-done");
      showMessage(message, "You can now pay with a smile.", "ok");
    } catch (err) {
      showMessage(message, enrolMessage(err), "error");
      $("start-face").disabled = false;
    }
  }

  if (!terminalKey) showMessage(message, "This enrolment page has no terminal key. Open it from the merchant's link.", "error");
})();
