// Drive the real CometD JavaScript client (npm `cometd`) from Node.
//
// cometd-nodejs-client's adapt() installs XMLHttpRequest and WebSocket so the
// browser client runs unchanged. Everything the client observes is printed to
// stdout as one JSON object per line; the test reads them. Commands arrive on
// stdin, one JSON object per line: {"op": "publish", "data": ...},
// {"op": "chat"|"remoteCall", "data": {operation...}} (on /service/chat) or
// {"op": "disconnect"}. Only 127.0.0.1 URLs are accepted.
//
// usage: node cometd_client.mjs --url http://127.0.0.1:PORT/cometd
//        [--transport websocket|long-polling] [--channel /demo]
//        [--publish N] [--backoff MS] [--max-network-delay MS] [--ack]

import { createInterface } from "node:readline";
import { adapt } from "cometd-nodejs-client";
import { AckExtension, CometD } from "cometd";

function parseArgs(argv) {
    const options = {
        url: null, transport: "websocket", channel: "/demo", publish: 0,
        backoff: 200, maxNetworkDelay: 5000, ack: false,
    };
    for (let i = 0; i < argv.length; i++) {
        const key = argv[i];
        const value = argv[i + 1];
        switch (key) {
            case "--url": options.url = value; i++; break;
            case "--transport": options.transport = value; i++; break;
            case "--channel": options.channel = value; i++; break;
            case "--publish": options.publish = Number(value); i++; break;
            case "--backoff": options.backoff = Number(value); i++; break;
            case "--max-network-delay": options.maxNetworkDelay = Number(value); i++; break;
            case "--ack": options.ack = true; break;
            default: fail(`unknown argument ${key}`);
        }
    }
    if (!options.url) fail("--url is required");
    const host = new URL(options.url).hostname;
    if (host !== "127.0.0.1") fail(`refusing to connect to ${host}: 127.0.0.1 only`);
    if (!["websocket", "long-polling"].includes(options.transport)) {
        fail(`--transport must be websocket or long-polling, got ${options.transport}`);
    }
    return options;
}

function fail(reason) {
    process.stderr.write(`cometd_client: ${reason}\n`);
    process.exit(2);
}

function emit(event, fields) {
    process.stdout.write(JSON.stringify({ event, t: Date.now() / 1000, ...fields }) + "\n");
}

// Keep only the transport under test, so a failure cannot hide behind a fallback.
function keepOnly(cometd, transport) {
    for (const type of cometd.getTransportTypes()) {
        if (type !== transport) cometd.unregisterTransport(type);
    }
}

function main() {
    const options = parseArgs(process.argv.slice(2));
    adapt();
    const cometd = new CometD();
    keepOnly(cometd, options.transport);
    if (options.ack) cometd.registerExtension("ack", new AckExtension());
    cometd.configure({
        url: options.url,
        logLevel: "warn",
        backoffIncrement: options.backoff,
        maxBackoff: options.backoff * 5,
        maxNetworkDelay: options.maxNetworkDelay,
    });
    let published = 0;

    cometd.addListener("/meta/handshake", (reply) => {
        emit("handshake", {
            successful: reply.successful, clientId: reply.clientId ?? null,
            error: reply.error ?? null, transport: cometd.getTransport()?.type ?? null,
        });
        if (!reply.successful) return;
        // A (re-)handshake clears subscriptions: subscribe again every time.
        cometd.subscribe(options.channel, (message) => {
            emit("message", { channel: message.channel, data: message.data });
        }, (subscribeReply) => {
            emit("subscribe", {
                successful: subscribeReply.successful, channel: options.channel,
                error: subscribeReply.error ?? null,
            });
            while (subscribeReply.successful && published < options.publish) {
                publish(cometd, options.channel, { n: published, from: "cometd-js" });
                published++;
            }
        });
    });
    cometd.addListener("/meta/connect", (reply) => {
        emit("connect", {
            successful: reply.successful, clientId: cometd.getClientId() ?? null,
            error: reply.error ?? null,
        });
    });
    // Chat results arrive on /service/chat (a publish's callback only gets the ack).
    cometd.addListener("/service/chat", (message) => {
        emit("service", { id: message.id ?? null, data: message.data ?? null });
    });
    cometd.addListener("/meta/disconnect", (reply) => {
        emit("disconnect", { successful: reply.successful });
        process.exit(0);
    });

    createInterface({ input: process.stdin }).on("line", (line) => {
        if (!line.trim()) return;
        let command;
        try {
            command = JSON.parse(line);
        } catch {
            emit("bad_command", { line });
            return;
        }
        if (command.op === "publish") publish(cometd, command.channel ?? options.channel, command.data);
        else if (command.op === "chat") chatPublish(cometd, command.data);
        else if (command.op === "remoteCall") chatRemoteCall(cometd, command.data);
        else if (command.op === "disconnect") cometd.disconnect();
        else emit("bad_command", { line });
    }).on("close", () => process.exit(0));

    cometd.handshake();
}

// The two ways widgets send chat commands: publish with a callback, and remoteCall.
function chatPublish(cometd, data) {
    cometd.publish("/service/chat", data, (reply) => {
        emit("chat_publish", {
            successful: reply.successful, id: reply.id ?? null, error: reply.error ?? null,
            hasData: reply.data !== undefined,
        });
    });
}

function chatRemoteCall(cometd, data) {
    cometd.remoteCall("chat", data, 5000, (reply) => {
        emit("remote_call", {
            successful: reply.successful, id: reply.id ?? null, error: reply.error ?? null,
            data: reply.data ?? null,
        });
    });
}

function publish(cometd, channel, data) {
    cometd.publish(channel, data, (reply) => {
        emit("publish", { successful: reply.successful, channel, data, error: reply.error ?? null });
    });
}

main();
