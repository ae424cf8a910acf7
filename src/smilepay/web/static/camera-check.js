// Camera check: open the camera, post one JPEG frame, show what the server saw.
"use strict";
(function () {
  const params = new URLSearchParams(location.search);
  const target = (params.get("post") || "/v1/face/camera-check");
  const postTo = target.startsWith("/") && !target.startsWith("//") ? target : "/v1/face/camera-check";
  const message = document.getElementById("message");
  const button = document.getElementById("check");
  const result = document.getElementById("result");
  const camera = new SmileCamera(document.getElementById("video"));
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("key")) {
    localStorage.setItem("smilepay.terminalKey", hash.get("key"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  SmileApi.key = localStorage.getItem("smilepay.terminalKey");

  async function sendOne() {
    button.disabled = true;
    showMessage(message, "Sending one frame…", "info");
    try {
      const frame = await camera.capture();
      const answer = await SmileApi.request("POST", postTo, frame.blob,
        { headers: { "X-Capture-Ms": String(frame.capturedAtMs) } });
      const faces = answer && typeof answer.faces === "number" ? answer.faces : null;
      // readable when it is the camera check's answer; anything else (a ?post= target) as sent
      result.textContent = faces !== null && typeof answer.largest_face_px === "number"
        ? (faces ? "Largest face: " + answer.largest_face_px + " pixels wide." : "")
        : JSON.stringify(answer);
      result.dataset.state = "done";
      if (faces === null) showMessage(message, "Frame sent.", "ok");
      else if (faces === 0) showMessage(message, "The camera works, but no face is in view.", "warn");
      else if (faces === 1) showMessage(message, "The camera works and sees one face.", "ok");
      else showMessage(message, "The camera works and sees " + faces + " faces.", "ok");
    } catch (err) {
      result.dataset.state = "error";
      showMessage(message, err.message, "error");
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener("click", sendOne);
  camera.open().then(() => {
    showMessage(message, "Camera on (" + camera.video.videoWidth + "x" + camera.video.videoHeight + ").", "ok");
    button.disabled = false;
    if (params.get("auto") === "1") sendOne();
  }).catch((err) => showMessage(message, err.message, "error"));
})();
