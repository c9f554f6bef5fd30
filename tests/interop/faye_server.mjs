// A real Bayeux server (npm `faye`) on 127.0.0.1 for interop tests and the live bench.
//
// Prints "ready <port>" once listening (port 0 picks a free one). Exits on
// SIGTERM/SIGINT. Serves WebSocket and long-polling at --mount (default /bayeux).
//
// usage: node faye_server.mjs [--port N] [--mount /bayeux] [--timeout S]

import http from "node:http";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const faye = require("faye");

function parseArgs(argv) {
    const options = { port: 0, mount: "/bayeux", timeout: 25 };
    for (let i = 0; i < argv.length; i += 2) {
        const [key, value] = [argv[i], argv[i + 1]];
        if (key === "--port") options.port = Number(value);
        else if (key === "--mount") options.mount = value;
        else if (key === "--timeout") options.timeout = Number(value);
        else {
            process.stderr.write(`faye_server: unknown argument ${key}\n`);
            process.exit(2);
        }
    }
    return options;
}

function main() {
    const options = parseArgs(process.argv.slice(2));
    const bayeux = new faye.NodeAdapter({ mount: options.mount, timeout: options.timeout });
    const server = http.createServer((request, response) => {
        response.writeHead(404, { "Content-Type": "text/plain" });
        response.end("not found\n");
    });
    bayeux.attach(server);
    server.listen(options.port, "127.0.0.1", () => {
        process.stdout.write(`ready ${server.address().port}\n`);
    });
    const stop = () => {
        bayeux.close();
        server.close();
        server.closeAllConnections?.();
        process.exit(0);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
}

main();
