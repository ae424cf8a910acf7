// SmilePay camera: open the webcam, grab JPEG frames from a canvas, explain every failure.
// No framework, no CDN. Used by the kiosk and enrol pages (and the browser tests).
"use strict";

const CAMERA_MESSAGES = {
  NotAllowedError: "Camera permission was refused. Allow the camera for this page and reload.",
  SecurityError: "The browser blocked the camera on this page (it needs https or localhost).",
  NotFoundError: "No camera was found. Plug one in and reload.",
  OverconstrainedError: "The camera cannot deliver 640x480 video.",
  NotReadableError: "The camera is busy in another program. Close it and reload.",
  AbortError: "The camera stopped while starting. Reload the page.",
};

function cameraMessage(err) {
  if (!window.isSecureContext) return CAMERA_MESSAGES.SecurityError;
  return CAMERA_MESSAGES[err && err.name] || ("The camera could not start: " + (err && err.message || err));
}

class SmileCamera {
  constructor(video, canvas) {
    this.video = video;
    this.canvas = canvas || document.createElement("canvas");
    this.stream = null;
    this.run = null;
  }

  async open() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error(cameraMessage({ name: "SecurityError" }));
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" },
        audio: false,
      });
    } catch (err) {
      throw new Error(cameraMessage(err));
    }
    this.video.srcObject = this.stream;
    this.video.muted = true;
    this.video.playsInline = true;
    await this.video.play();
    await this.waitForPicture();
  }

  async waitForPicture(timeoutMs = 5000) {
    const start = performance.now();
    while (!this.video.videoWidth) {
      if (performance.now() - start > timeoutMs) throw new Error("The camera gives no picture.");
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // One JPEG frame as a Blob, with the capture time (ms since the epoch).
  capture(quality = 0.85) {
    const w = this.video.videoWidth, h = this.video.videoHeight;
    if (!w || !h) return Promise.reject(new Error("The camera gives no picture."));
    this.canvas.width = w;
    this.canvas.height = h;
    this.canvas.getContext("2d").drawImage(this.video, 0, 0, w, h);
    const capturedAtMs = Date.now();
    return new Promise((resolve, reject) => {
      this.canvas.toBlob(
        (blob) => (blob ? resolve({ blob, capturedAtMs }) : reject(new Error("Could not encode a frame."))),
        "image/jpeg", quality);
    });
  }

  // Call onFrame({blob, capturedAtMs}) up to fps times a second; onFrame returning false stops.
  // Frames are never queued: the next frame is captured once the previous answer is back, so a
  // slow server gets the newest frame, not a backlog; it is captured as soon as 1/fps has passed
  // since the previous capture (a timer tick skipped while busy used to halve the rate of a
  // server a little slower than 1/fps, and a short smile could fall between two frames).
  // A failure (no picture, an error thrown by onFrame) stops the stream and goes to onError.
  stream_frames(onFrame, fps = 4, onError = (err) => console.error(err)) {
    this.stop_frames();
    const run = { stopped: false };
    this.run = run;
    const intervalMs = 1000 / fps;
    (async () => {
      while (!run.stopped) {
        const started = performance.now();
        try {
          const frame = await this.capture();
          if (run.stopped) return;
          if ((await onFrame(frame)) === false) run.stopped = true;
        } catch (err) {
          run.stopped = true;
          onError(err);
          return;
        }
        const waitMs = intervalMs - (performance.now() - started);
        if (!run.stopped && waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
      }
    })();
  }

  stop_frames() {
    if (this.run) this.run.stopped = true;
    this.run = null;
  }

  close() {
    this.stop_frames();
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    this.stream = null;
  }
}

window.SmileCamera = SmileCamera;
window.cameraMessage = cameraMessage;
