// Clock terminal: a face punch among this site's staff, or a PIN/badge punch that a manager
// approves. When the server cannot be reached, PIN/badge punches wait in memory with the
// device time and an HMAC-SHA256 signature (key: the hex SHA-256 of the terminal key) and
// are sent again every few seconds; the server flags any that arrive too late.
// Set-up in the fragment: #key=tk_...&site=site_...
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const camera = new SmileCamera($("video"));
  const SEND_TIMEOUT_MS = 10000;  // a request the network swallows counts as offline, so the queue moves on
  const queue = [];  // in memory only: a PIN never goes to the browser's storage
  let site = null, terminalKey = null, session = null, cameraOpen = false, syncing = false;

  function setup() {
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.get("key")) localStorage.setItem("smilepay.terminalKey", hash.get("key"));
    if (hash.get("site")) localStorage.setItem("smilepay.clockSite", hash.get("site"));
    if (hash.get("key") || hash.get("site")) history.replaceState(null, "", location.pathname);
    terminalKey = localStorage.getItem("smilepay.terminalKey");
    site = localStorage.getItem("smilepay.clockSite");
    SmileApi.key = terminalKey;
    $("site").textContent = "Staff clock";
    if (site) $("site").dataset.site = site;
  }

  function say(text, kind) { showMessage($("message"), text, kind); }

  // What staff at the clock can act on, for an API error: never the server's wording, and a
  // wrong PIN or badge reads the same whoever's it might have been (no hint who exists).
  const WRONG_SECRET = {
    pin: "That PIN is not right. Try again or ask your manager.",
    badge: "That badge code is not right. Try again or ask your manager.",
  };
  const SET_UP_AGAIN = "This clock is not set up right. Ask your manager to set it up again.";
  // Too many wrong PINs or badges from this terminal: every PIN is refused for a while (a right
  // one too), so the page says who can help rather than "try again".
  const TOO_MANY_PINS = "Too many wrong PINs. Ask your manager.";
  const LOCK_PAUSE_MS = 60000;  // saved punches wait this long after a lock before the next try
  let lockedUntil = 0;

  function clockMessage(err, method) {
    if (err && err.status === 0) return err.message;
    if (err && err.status === 429 && method) return TOO_MANY_PINS;
    if (err && (err.param === "pin" || err.param === "badge" || err.param === "secret" || err.param === "method")) {
      return WRONG_SECRET[method] || WRONG_SECRET[err.param] || WRONG_SECRET.pin;
    }
    if (err && (err.status === 401 || err.status === 403 || err.param === "site")) return SET_UP_AGAIN;
    const text = customerMessage(err);
    return /^expected\b|_/.test(text) ? "Something went wrong. Try again or ask your manager." : text;
  }

  function result(text, kind) {
    const box = $("result");
    box.textContent = text;
    box.dataset.kind = kind;
    box.hidden = false;
  }

  function punched(p) {
    const when = new Date(p.at_ms).toLocaleTimeString();
    const what = p.kind === "in" ? "Clocked in" : "Clocked out";
    const note = p.manual ? " (waiting for a manager)" : "";
    result(`${what} at ${when}${note}${p.duplicate ? " (already recorded)" : ""}`, p.kind);
  }

  async function startFace() {
    $("result").hidden = true;
    $("start-face").disabled = true;
    try {
      if (!cameraOpen) { $("video").hidden = false; await camera.open(); cameraOpen = true; }
      session = await SmileApi.post(`/v1/identity/sites/${site}/clock`, {});
    } catch (err) {
      say(clockMessage(err), "error");
      $("start-face").disabled = false;
      return;
    }
    say(session.prompts[0], "info");
    camera.stream_frames(sendFrame, 10, (err) => { say(err.message, "error"); $("start-face").disabled = false; });
  }

  async function sendFrame(frame) {
    if (!session) return false;
    let answer;
    try {
      answer = await SmileApi.request("POST", `/v1/face/sessions/${session.id}/frames`, frame.blob,
        { headers: { "X-Capture-Ms": String(frame.capturedAtMs) } });
    } catch (err) {
      say(clockMessage(err) + " Use your PIN or badge.", "error");
      $("start-face").disabled = false;
      return false;
    }
    if (answer.state === "collecting") { say(answer.prompt || answer.message, "info"); return true; }
    const done = session;
    session = null;
    $("start-face").disabled = false;
    if (answer.state !== "passed") { say((answer.message || "The check did not work.") + " Use your PIN or badge.", "error"); return false; }
    try {
      const p = await SmileApi.post(`/v1/identity/sites/${site}/clock/${done.id}/punch`, { idempotency_key: SmileApi.newKey() });
      if (p.object === "punch") { say("Thank you.", "ok"); punched(p); }
      else { say("We could not recognise you. Use your PIN or badge.", "error"); result("Not recognised", "no_match"); }
    } catch (err) { say(clockMessage(err), "error"); }
    return false;
  }

  const enc = (s) => new TextEncoder().encode(s);
  const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");

  async function sign(item) {
    const secret = hex(await crypto.subtle.digest("SHA-256", enc(terminalKey)));
    const key = await crypto.subtle.importKey("raw", enc(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return hex(await crypto.subtle.sign("HMAC", key, enc(`${site}|${item.method}|${item.device_at_ms}|${item.idempotency_key}`)));
  }

  function showQueue() {
    $("queued").textContent = String(queue.length);
    $("queue-note").hidden = !queue.length;
    $("online").dataset.online = queue.length ? "no" : "yes";
    $("online").textContent = queue.length ? "Offline: punches wait" : "";
  }

  async function manual(ev) {
    ev.preventDefault();
    const item = { method: $("method").value, secret: $("secret").value, idempotency_key: SmileApi.newKey() };
    $("secret").value = "";
    try {
      punched(await SmileApi.post(`/v1/identity/sites/${site}/punches`, item, { timeoutMs: SEND_TIMEOUT_MS }));
      say("Thank you.", "ok");
    } catch (err) {
      if (err.status !== 0) {
        say(clockMessage(err, item.method), "error");
        $("result").hidden = true;
        $("secret").focus();
        return;
      }
      item.device_at_ms = Date.now();
      item.signature = await sign(item);
      queue.push(item);
      showQueue();
      say("The server cannot be reached: your punch is kept here and sent when it is back.", "info");
      result("Saved on this terminal", "queued");
    }
  }

  async function sync() {
    if (syncing || !queue.length || Date.now() < lockedUntil) return;
    syncing = true;
    try {
      while (queue.length) {
        try {
          await SmileApi.post(`/v1/identity/sites/${site}/punches`, queue[0], { timeoutMs: SEND_TIMEOUT_MS });
        } catch (err) {
          if (err.status === 0) return;  // still offline
          if (err.status === 429) {  // PINs locked here for a while: keep the punch, try later
            lockedUntil = Date.now() + LOCK_PAUSE_MS;
            say("A saved punch waits: " + clockMessage(err, queue[0].method), "error");
            return;
          }
          say("A saved punch was refused: " + clockMessage(err, queue[0].method), "error");
        }
        queue.shift();
        showQueue();
      }
      say("Saved punches were sent.", "ok");
    } finally {
      syncing = false;
    }
  }

  function showMethod() {
    const pin = $("method").value === "pin";
    $("secret-label").textContent = pin ? "My PIN" : "My badge code";
    $("secret").inputMode = pin ? "numeric" : "text";
    $("manual").textContent = pin ? "Clock in or out with my PIN" : "Clock in or out with my badge";
  }

  setup();
  showMethod();
  $("method").addEventListener("change", showMethod);
  $("start-face").addEventListener("click", startFace);
  $("manual-form").addEventListener("submit", manual);
  if (!site || !terminalKey) {  // staff set the terminal up once; nobody punching sees an API error
    say("This clock is not set up: open it as /identity/clock#key=tk_...&site=site_... (docs/identity.md).", "warn");
    $("start-face").disabled = true;
    $("manual").disabled = true;
  }
  setInterval(sync, 2000);
})();
