// SmilePay API helper: JSON in and out, Stripe-shaped errors turned into readable messages.
"use strict";

class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || ("The server answered " + status));
    this.status = status;
    this.type = e.type || "api_error";
    this.code = e.code || "unknown";
    this.param = e.param || null;
    this.body = body;
  }
}

const SmileApi = {
  key: null,  // "Bearer" credential: a secret key, a terminal key or a wallet session token

  headers(extra) {
    const h = Object.assign({}, extra || {});
    if (this.key) h["Authorization"] = "Bearer " + this.key;
    return h;
  },

  async request(method, path, body, opts) {
    opts = opts || {};
    const init = { method, headers: this.headers(opts.headers) };
    if (body instanceof Blob) {
      init.body = body;
      init.headers["Content-Type"] = body.type || "application/octet-stream";
    } else if (body !== undefined && body !== null) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    if (opts.idempotent) init.headers["Idempotency-Key"] = opts.idempotencyKey || SmileApi.newKey();
    let res;
    try {
      res = await fetch(path, init);
    } catch (err) {
      throw new ApiError(0, { error: { message: "The SmilePay server cannot be reached. Check the network." } });
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: { message: text } }; }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  },

  get(path) { return this.request("GET", path); },
  post(path, body, opts) { return this.request("POST", path, body, opts); },
  del(path, opts) { return this.request("DELETE", path, null, opts); },

  newKey() {
    const a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  },
};

function formatMoney(minor, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: (currency || "eur").toUpperCase() })
      .format(minor / 100);
  } catch (e) {
    return (minor / 100).toFixed(2) + " " + (currency || "").toUpperCase();
  }
}

function formatTime(epochSeconds) {
  if (!epochSeconds) return "";
  return new Date(epochSeconds * 1000).toLocaleString();
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return node;
}

function showMessage(node, text, kind) {
  node.textContent = text;
  node.className = "message " + (kind || "info");
}

window.ApiError = ApiError;
window.SmileApi = SmileApi;
window.formatMoney = formatMoney;
window.formatTime = formatTime;
window.el = el;
window.showMessage = showMessage;
