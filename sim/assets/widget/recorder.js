/*
 * chatsim recorder: a page reports its chat application events to `chatsim serve`,
 * which writes them, beside the server's own truth, into a per-session trace
 * (`chatsim serve --trace DIR`).
 *
 *   <script src="http://127.0.0.1:8080/chatsim/recorder.js"></script>
 *   chatsim.record("ready");
 *   chatsim.record("chat", {chatId});
 *   chatsim.record("message", {direction: "in", index: 3, party: "agent", text: "hi"});
 *   chatsim.record("message", {direction: "out", id: clientMessageId, text});
 *   chatsim.record("ack", {id: clientMessageId, index: 4});
 *   chatsim.record("interrupted"); chatsim.record("error", {code: 150});
 *   chatsim.record("continued", {duration: 5.2});
 *
 * Kinds: state, ready, interrupted, continued, error, restored, message, ack,
 * send_failed, ended, chat. The session id lives in sessionStorage, so a reload
 * continues the same session. Events are buffered (also in sessionStorage) and
 * POSTed in batches; a failed POST is retried with backoff, and what is left
 * when the page goes away is sent with navigator.sendBeacon. Each event has a
 * sequence number, so the server records a batch sent twice only once.
 */
(function () {
    "use strict";
    if (window.chatsim && window.chatsim.record) return;  // included twice

    const EPOCH_MS = __CHATSIM_EPOCH_MS__;  // the server's start, on the wall clock
    const script = document.currentScript;
    const ENDPOINT = new URL("record", script ? script.src : location.href).href;
    const KEY = "chatsim.recorder";
    const MAX_QUEUE = 5000;
    const MAX_BATCH = 100;
    let batchSize = MAX_BATCH;  // halved after a 413 (long texts), back to full on success
    const storage = (function () {
        try { return window.sessionStorage; } catch (e) { return null; }
    })();

    function load() {
        try { return JSON.parse((storage && storage.getItem(KEY)) || "{}") || {}; } catch (e) { return {}; }
    }

    function newId() {
        const bytes = new Uint8Array(12);
        crypto.getRandomValues(bytes);
        return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    }

    const saved = load();
    let session = typeof saved.session === "string" ? saved.session : newId();
    let seq = Number.isInteger(saved.seq) ? saved.seq : 0;
    let queue = Array.isArray(saved.queue) ? saved.queue : [];
    let settings = saved.settings && typeof saved.settings === "object" ? saved.settings : {};
    let inFlight = false;
    let backoff = 250;
    let timer = null;
    let lastError = null;
    const seen = {};  // kind -> how many this page recorded (tests wait on it)

    function now() {
        return Math.max(0, (Date.now() - EPOCH_MS) / 1000);
    }

    function persist() {
        if (!storage) return;
        try {
            storage.setItem(KEY, JSON.stringify({session, seq, queue, settings}));
        } catch (e) { /* storage full or denied: the in-memory queue still works */ }
    }

    function record(kind, fields) {
        const event = Object.assign({}, fields || {}, {seq: seq++, t: now(), kind: String(kind)});
        queue.push(event);
        seen[event.kind] = (seen[event.kind] || 0) + 1;
        if (queue.length > MAX_QUEUE) queue.splice(0, queue.length - MAX_QUEUE);
        persist();
        schedule(0);
        return event;
    }

    function schedule(delay) {
        if (timer === null) timer = setTimeout(() => { timer = null; flush(); }, delay);
    }

    const opened = now();  // the page's start: faults from then on belong in its trace

    function body(events) {
        return JSON.stringify({session, settings, opened, events});
    }

    async function flush() {
        if (inFlight || queue.length === 0) return;
        const batch = queue.slice(0, batchSize);
        inFlight = true;
        try {
            // text/plain keeps it a simple request: no CORS preflight from another origin.
            const response = await fetch(ENDPOINT, {
                method: "POST", body: body(batch), credentials: "omit",
                headers: {"Content-Type": "text/plain"},
            });
            if (response.status === 400) {
                // One event was refused: drop it (the reason goes to the console), keep the rest.
                const reply = await response.json().catch(() => ({}));
                lastError = reply.error || "refused";
                console.warn("chatsim recorder:", lastError);
                const bad = Number.isInteger(reply.event) ? reply.event : batch.length - 1;
                queue.splice(0, bad + 1, ...batch.slice(0, bad));
            } else if (response.ok) {
                queue.splice(0, batch.length);
                lastError = null;
                batchSize = MAX_BATCH;
            } else if (response.status === 410) {
                session = newId();  // the server retired the old session (idle too long)
                window.chatsim.session = session;
            } else if (response.status === 413) {
                if (batch.length === 1) queue.splice(0, 1);  // one event too large: dropped
                batchSize = Math.max(1, Math.floor(batch.length / 2));
            } else {
                throw new Error("HTTP " + response.status);
            }
            persist();
            backoff = 250;
            inFlight = false;
            if (queue.length) schedule(0);
        } catch (e) {
            inFlight = false;
            lastError = String(e);
            schedule(backoff);
            backoff = Math.min(backoff * 2, 4000);
        }
    }

    window.addEventListener("pagehide", () => {
        persist();  // a reload sends them again; the server keeps each seq once
        if (queue.length && navigator.sendBeacon) {
            navigator.sendBeacon(ENDPOINT, body(queue.slice(0, MAX_BATCH)));
        }
    });

    window.chatsim = {
        session,
        record,
        seen,
        /** Trace header settings: {interrupt_after: seconds, interruption_error: bool}. */
        configure(values) {
            settings = Object.assign({}, settings, values);
            persist();
            schedule(0);
        },
        flush() { schedule(0); },
        pending() { return queue.length + (inFlight ? 1 : 0); },
        lastError() { return lastError; },
        now,
    };
    schedule(0);
})();
