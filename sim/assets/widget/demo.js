// chatsim demo widget: a Genesys-style chat on the real CometD 9 JavaScript client.
//
// Commands go to /service/chat with cometd.remoteCall("chat", {operation, ...}):
// requestChat (with a clientRequestId, so a retried login finds its chat),
// sendMessage (with a clientMessageId, re-sent until acknowledged),
// requestNotifications (restores from the saved transcript position after a
// reload, a re-handshake or a failover) and disconnect. Transcript events
// arrive on /chat/<chatId>. The connection counts as lost at the first failed
// handshake or connect; `interrupted` (+ error 150) follows after
// `interruptAfter` seconds of loss, `continued` when a connect works again.
// Every application event goes to the chatsim recorder (window.chatsim).
import {CometD} from "/chatsim/vendor/cometd/cometd.js";

const rec = window.chatsim;
const params = new URLSearchParams(location.search);
const TRANSPORT = params.get("transport") === "long-polling" ? "long-polling" : "websocket";
const SERVERS = (params.get("servers") || "/cometd").split(",").filter(Boolean)
    .map((u) => new URL(u, location.href).href);
const INTERRUPT_AFTER = Math.max(0.1, Number(params.get("interruptAfter") || 3));
const FAILOVER_AFTER = 2;  // failed attempts on one server before trying the next
const CALL_TIMEOUT = 10000;
// A message whose publish failed unanswered on a working connection (an HTTP 429 with
// Retry-After over long-polling: CometD hides the header) is sent again this much later.
const RESEND_AFTER = 1000;
// The events by which a server ends a chat itself (statecharts.dialects.SESSION_END_TYPES).
const SESSION_END_TYPES = new Set(["SessionEnd", "EVENT_TYPE_SESSION_END"]);
const KEY = "chatsim.demo";
const DESCRIPTIONS = {
    100: "Chat Server is not available",
    150: "Network connection interrupted",
    152: "Session restoration failed",
};

rec.configure({interrupt_after: INTERRUPT_AFTER, interruption_error: true});

// What a reload restores from (the "cookie"), kept in sessionStorage.
let saved = load();
let cometd = null;
let lossStart = null;     // Date.now() of the first failure of this loss
let interruptTimer = null;
let interrupted = false;
let failures = 0;         // failed handshakes/connects in a row on this server
let working = false;      // the current Bayeux client is bound to the chat
let busy = false;         // a login or restore is on its way
let early = [];           // deliveries that came before the requestChat result
let namedChat = null;     // the chat this page load reported to the recorder
const inFlight = new Set();

function fresh() {
    return {chatId: null, secureKey: null, position: 0, server: 0, pending: {}, ended: false,
            requestId: crypto.randomUUID()};
}

function load() {
    try {
        return Object.assign(fresh(), JSON.parse(sessionStorage.getItem(KEY) || "{}"));
    } catch (e) {
        return fresh();
    }
}

function save() {
    sessionStorage.setItem(KEY, JSON.stringify(saved));
}

function label(url) {
    const match = /\/(i\d+)\/cometd/.exec(url);
    return match ? match[1] : new URL(url).pathname;
}

// -- the Bayeux client ---------------------------------------------------------------
function start(index) {
    saved.server = index % SERVERS.length;
    save();
    const client = new CometD();
    for (const type of client.getTransportTypes()) {
        if (type !== TRANSPORT) client.unregisterTransport(type);
    }
    client.configure({url: SERVERS[saved.server], logLevel: "warn",
                      backoffIncrement: 500, maxBackoff: 2000});
    client.addListener("/meta/handshake", (m) => { if (client === cometd) onHandshake(m); });
    client.addListener("/meta/connect", (m) => { if (client === cometd) onConnect(m); });
    client.addListener("/chat/*", (m) => { if (client === cometd) onDelivery(m); });
    cometd = client;
    working = false;
    busy = false;
    show();
    client.handshake();
}

function restart(index) {
    const old = cometd;
    cometd = null;
    if (old) {
        try { old.disconnect(); } catch (e) { /* already down */ }
    }
    start(index);
}

function onHandshake(reply) {
    if (reply.successful) {
        working = false;  // a new Bayeux client: login or restore once a connect works
        busy = false;
        return;
    }
    failed();
    // CometD gives up when no transport is left (a WebSocket that never opened): start over.
    const client = cometd;
    setTimeout(() => {
        if (client === cometd && client.isDisconnected()) restart(saved.server);
    }, 1000);
}

function onConnect(reply) {
    if (cometd.isDisconnected()) return;
    if (reply.successful) works(); else failed();
}

function failed() {
    if (lossStart === null) {
        lossStart = Date.now();
        interruptTimer = setTimeout(interrupt, INTERRUPT_AFTER * 1000);
    }
    failures += 1;
    show();
    if (failures >= FAILOVER_AFTER && SERVERS.length > 1) failover();
}

function failover() {
    const next = (saved.server + 1) % SERVERS.length;
    if (saved.chatId && !saved.ended) {
        report({code: 100, data: {from: label(SERVERS[saved.server]), to: label(SERVERS[next])}});
    }
    failures = 0;
    restart(next);
}

function interrupt() {
    interruptTimer = null;
    interrupted = true;
    rec.record("interrupted");
    report({code: 150});
    show();
}

function works() {
    failures = 0;
    if (lossStart !== null) {
        clearTimeout(interruptTimer);
        interruptTimer = null;
        if (interrupted) rec.record("continued", {duration: (Date.now() - lossStart) / 1000});
        interrupted = false;
        lossStart = null;
    }
    if (saved.ended) {
        show();
    } else if (!working && !busy) {
        if (saved.chatId) restore(); else login();
    } else if (working) {
        resendPending();
    }
    show();
}

// -- chat commands ---------------------------------------------------------------------
function call(data, callback) {
    const client = cometd;
    try {
        client.remoteCall("chat", data, CALL_TIMEOUT, (reply) => {
            const body = client === cometd && reply.successful ? reply.data : null;
            if (body && body.result) callback(body.result, null);
            else if (body && body.error) callback(null, body.error);
            else callback(null, null);  // no answer: tried again once the connection works
        });
    } catch (e) {
        callback(null, null);
    }
}

function login() {
    busy = true;
    call({operation: "requestChat", nickname: "demo widget", clientRequestId: saved.requestId},
        (result, error) => {
            if (result) {
                busy = false;
                saved.chatId = result.chatId;
                saved.secureKey = result.secureKey;
                saved.position = result.position || 0;
                save();
                nameChat();
                working = true;
                rec.record("ready", {chatId: saved.chatId});
                subscribe();
                const held = early;
                early = [];
                held.forEach(onDelivery);
                resendPending();
            } else if (error && error.code === 100 && error.data && error.data.retryAfter) {
                setTimeout(() => { busy = false; works(); }, error.data.retryAfter * 1000);
            } else if (error) {
                busy = false;
                report(error);
                finish("login failed");
            } else {
                busy = false;
            }
            show();
        });
}

function restore() {
    busy = true;
    call({operation: "requestNotifications", chatId: saved.chatId, secureKey: saved.secureKey,
          transcriptPosition: saved.position}, (result, error) => {
        busy = false;
        if (result) {
            nameChat();
            working = true;
            rec.record("restored", {instance: String(result.instance), position: result.position,
                                    replayed: result.replayed});
            subscribe();
            resendPending();
        } else if (error && error.code === 50) {
            report({code: 152});
            finish("restore_failed", 152);
        } else if (error) {
            report(error);
        }
        show();
    });
}

function nameChat() {
    if (namedChat !== saved.chatId) {
        namedChat = saved.chatId;
        rec.record("chat", {chatId: saved.chatId});
    }
}

function subscribe() {
    try {
        cometd.subscribe("/chat/" + saved.chatId, () => {});  // deliveries reach "/chat/*" anyway
    } catch (e) { /* disconnected meanwhile */ }
}

function send(text) {
    const id = crypto.randomUUID();
    saved.pending[id] = text;
    save();
    rec.record("message", {direction: "out", id, text});
    addLine("client", text, "sending", id);
    // In order: while the connection is lost, messages wait and go out once it works.
    if (working && lossStart === null) resendPending();
}

function resendPending() {
    Object.keys(saved.pending).forEach(sendOne);
}

function sendOne(id) {
    if (inFlight.has(id) || !(id in saved.pending)) return;
    inFlight.add(id);
    call({operation: "sendMessage", chatId: saved.chatId, secureKey: saved.secureKey,
          text: saved.pending[id], clientMessageId: id}, (result, error) => {
        inFlight.delete(id);
        if (!(id in saved.pending)) return;
        if (result) {
            delete saved.pending[id];
            save();
            rec.record("ack", {id, index: result.index});
            markLine(id, "acknowledged #" + result.index);
        } else if (error && error.code === 50 && !busy) {
            working = false;
            restore();
        } else if (error) {
            delete saved.pending[id];
            save();
            rec.record("send_failed", {id, code: error.code});
            markLine(id, "failed (" + error.code + ")");
            report(error);
        } else if (working) {
            setTimeout(() => { if (working) sendOne(id); }, RESEND_AFTER);
        }
    });
}

function end() {
    if (!saved.chatId || saved.ended) {
        saved = fresh();  // "New chat"
        save();
        location.reload();
        return;
    }
    call({operation: "disconnect", chatId: saved.chatId, secureKey: saved.secureKey},
        (result, error) => {
            if (result || (error && error.code === 50)) finish("client", 100);
            else if (error) report(error);
        });
}

function finish(reason, failCode) {
    for (const id of Object.keys(saved.pending)) {
        rec.record("send_failed", {id, code: failCode || 100});
        markLine(id, "failed");
    }
    saved = Object.assign(fresh(), {ended: true, server: saved.server});
    save();
    working = false;
    rec.record("ended", {reason});
    const client = cometd;
    setTimeout(() => {
        try { client.disconnect(); } catch (e) { /* already down */ }
    }, 0);
    show();
}

function report(error) {
    const fields = {code: error.code, description: error.description || DESCRIPTIONS[error.code] || ""};
    if (error.data && typeof error.data === "object" && Object.keys(error.data).length) {
        fields.data = error.data;
    }
    rec.record("error", fields);
    const item = document.createElement("li");
    item.textContent = `error ${fields.code}: ${fields.description}`;
    document.getElementById("errors").append(item);
}

// -- deliveries and the page -------------------------------------------------------------
function onDelivery(message) {
    const data = message.data || {};
    const chatId = message.channel.slice("/chat/".length);
    if (!saved.chatId) {
        if (early.length < 1000) early.push(message);
        return;
    }
    if (chatId === saved.chatId && SESSION_END_TYPES.has(data.type)) {
        report({code: 50, data: {native: data, chatId}});  // the server ended the chat
        finish("server", 50);
        return;
    }
    if (chatId !== saved.chatId || !Number.isInteger(data.index)) return;  // typing: no index
    if (data.index <= saved.position) return;  // a replay of what the page has
    saved.position = data.index;
    save();
    const fields = {direction: "in", index: data.index, party: String(data.party)};
    if (typeof data.text === "string") fields.text = data.text;
    rec.record("message", fields);
    const text = data.type === "Message" ? data.text : `${data.type} ${data.text || ""}`;
    if (data.type === "Message" && data.party === "client" && data.clientMessageId) {
        markLine(data.clientMessageId, "delivered #" + data.index);
    } else {
        addLine(data.party, text, "#" + data.index);
    }
}

function addLine(party, text, note, id) {
    const item = document.createElement("li");
    item.className = "party-" + party;
    if (id) item.dataset.id = id;
    const body = document.createElement("span");
    body.textContent = text;
    const small = document.createElement("small");
    small.textContent = note;
    item.append(body, small);
    const log = document.getElementById("log");
    log.append(item);
    log.scrollTop = log.scrollHeight;
}

function markLine(id, note) {
    const item = document.querySelector(`#log li[data-id="${CSS.escape(id)}"] small`);
    if (item) item.textContent = note;
}

function show() {
    const badge = document.getElementById("status");
    let text = "ready";
    if (saved.ended) text = "ended";
    else if (interrupted) text = "interrupted";
    else if (lossStart !== null) text = "reconnecting";
    else if (!working) text = saved.chatId ? "restoring" : "connecting";
    badge.textContent = text;
    badge.dataset.state = text;
    document.getElementById("transport").textContent = TRANSPORT;
    document.getElementById("server").textContent = label(SERVERS[saved.server]);
    document.getElementById("chat").textContent = saved.chatId || "none";
    document.getElementById("end").textContent = saved.ended ? "New chat" : "End chat";
    document.body.dataset.pending = String(Object.keys(saved.pending).length);
}

document.getElementById("session").textContent = rec.session;
document.getElementById("compose").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("text");
    if (input.value.trim() && !saved.ended) send(input.value.trim());
    input.value = "";
});
document.getElementById("end").addEventListener("click", end);
// Leaving (or reloading) the page: say goodbye to the Bayeux server, so that a long poll of
// this page is not left held (the browser's next page would count as a second tab).
window.addEventListener("pagehide", () => {
    const clientId = cometd && cometd.getClientId();
    if (clientId && navigator.sendBeacon) {
        const bye = [{channel: "/meta/disconnect", clientId, id: "pagehide"}];
        navigator.sendBeacon(SERVERS[saved.server], JSON.stringify(bye));
    }
});
for (const id of Object.keys(saved.pending)) addLine("client", saved.pending[id], "sending", id);
start(saved.server);
