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
    if (opts.timeoutMs) init.signal = AbortSignal.timeout(opts.timeoutMs);  // a hung request fails as unreachable
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

// Currencies and their ISO 4217 exponents come from ONE place, the API (GET /v1/currencies):
// "500" JPY is 500 minor units, "12.50" EUR 1250, "1.250" KWD 1250. Load once per page.
const SmileMoney = {
  exponents: null,
  loading: null,

  load() {
    if (!this.loading) {
      this.loading = fetch("/v1/currencies").then((res) => {
        if (!res.ok) throw new Error("The list of currencies could not be loaded.");
        return res.json();
      }).then((body) => {
        this.exponents = {};
        for (const c of body.data) this.exponents[c.code.toUpperCase()] = c.exponent;
        return this.exponents;
      }).catch((err) => { this.loading = null; throw err; });
    }
    return this.loading;
  },

  codes() { return Object.keys(this.exponents || {}).sort(); },

  exponent(currency) {
    const code = (currency || "").toUpperCase();
    if (!this.exponents || !(code in this.exponents)) throw new Error("Unknown currency " + code + ".");
    return this.exponents[code];
  },

  // What a person typed ("12.50", "12,5", "500") as integer minor units, without floats.
  toMinor(text, currency) {
    const code = (currency || "").toUpperCase();
    const digits = this.exponent(code);
    const m = /^\s*(\d{1,13})(?:[.,](\d*))?\s*$/.exec(String(text));
    if (!m) throw new Error("Enter an amount like " + this.example(code) + ".");
    const fraction = (m[2] || "").replace(/0+$/, "");
    if (fraction.length > digits) {
      throw new Error(digits === 0 ? code + " amounts have no decimals: enter a whole number."
        : code + " amounts have at most " + digits + " decimals.");
    }
    const minor = Number(m[1] + fraction.padEnd(digits, "0"));
    if (!Number.isSafeInteger(minor) || minor <= 0) throw new Error("Enter an amount above zero.");
    return minor;
  },

  // Minor units as the plain major amount for an input field ("12.50", "500", "1.250").
  toMajorText(minor, currency) {
    const digits = this.exponent(currency);
    const s = String(Math.abs(minor)).padStart(digits + 1, "0");
    return digits ? s.slice(0, -digits) + "." + s.slice(-digits) : s;
  },

  example(currency) { return this.toMajorText(1250 * Math.pow(10, Math.max(this.exponent(currency) - 2, 0)), currency); },

  format(minor, currency) {
    const code = (currency || "").toUpperCase();
    const digits = this.exponent(code);
    const major = minor / Math.pow(10, digits);
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: code,
        minimumFractionDigits: digits, maximumFractionDigits: digits }).format(major);
    } catch (e) {
      return this.toMajorText(minor, code) + " " + code;
    }
  },
};

function formatMoney(minor, currency) { return SmileMoney.format(minor, currency); }

// What a customer can act on, for an API error: never "minor units", key or account ids.
const CUSTOMER_MESSAGES = {
  insufficient_funds: "Not enough money in your wallet for this payment: top it up and try again.",
  currency_mismatch: "Your wallet has no money in this currency: top it up in this currency and try again.",
  amount_limit_exceeded: "This amount is above your limit per payment.",
  daily_limit_exceeded: "Daily limit reached: try again tomorrow.",
  customer_locked_out: "Too many failed attempts: face payment is paused for a while.",
  authentication_failed: "You are signed out. Please sign in again.",
  invalid_amount: "This amount cannot be used here.",
  payment_intent_unexpected_state: "This payment is no longer open. Ask the cashier for a new one.",
};

const CUSTOMER_PARAM_MESSAGES = {
  phone: "Enter your phone number in international form, like +49 151 12345678.",
  code: "That code is not right. Check the message and try again.",
  amount_minor: "This amount cannot be used here.",
  currency: "This currency cannot be used here.",
};
const GENERIC_PROBLEM = "Something went wrong. Please try again or ask the staff.";

function customerMessage(err) {
  if (err && err.status === 0) return err.message;
  const known = err && (CUSTOMER_MESSAGES[err.code] || (err.status === 400 && CUSTOMER_PARAM_MESSAGES[err.param]));
  if (known) return known;
  const text = (err && err.message) || "";
  if (/minor|acct_|cus_|\b[a-z]{2,5}_[A-Za-z0-9]{6,}/.test(text)) return GENERIC_PROBLEM;
  return text || GENERIC_PROBLEM;
}

function formatTime(epochSeconds) {
  if (!epochSeconds) return "";
  return new Date(epochSeconds * 1000).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}

// Rows for a table body, or one row saying it is empty ("No refunds yet.").
function tableRows(items, render, emptyText, columns) {
  if (items.length) return items.map(render);
  return [el("tr", {}, el("td", { class: "empty", colspan: String(columns) }, emptyText))];
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
window.SmileMoney = SmileMoney;
window.customerMessage = customerMessage;
window.formatTime = formatTime;
window.tableRows = tableRows;
window.el = el;
window.showMessage = showMessage;
