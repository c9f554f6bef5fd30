// chatsim control page: polls /chatsim/status once a second; injects and clears faults
// through the fault API and makes the agent speak, with JSON requests.
(function () {
    "use strict";
    const $ = (id) => document.getElementById(id);
    const tokenInput = $("token");
    tokenInput.value = sessionStorage.getItem("chatsim.token") || "";
    tokenInput.addEventListener("change", () => sessionStorage.setItem("chatsim.token", tokenInput.value));

    function say(text, ok) {
        const message = $("message");
        message.textContent = text;
        message.className = ok ? "ok" : "error";
    }

    async function control(method, path, body) {
        const headers = {"Content-Type": "application/json"};
        if (tokenInput.value) headers.Authorization = "Bearer " + tokenInput.value;
        const init = {method, headers};
        if (body !== undefined) init.body = JSON.stringify(body);
        const response = await fetch(path, init);
        const reply = await response.json().catch(() => ({}));
        if (!response.ok) throw new Error(reply.error || `${method} ${path}: HTTP ${response.status}`);
        return reply;
    }

    function cell(row, text, className) {
        const td = document.createElement("td");
        if (text instanceof Node) td.append(text); else td.textContent = text === undefined ? "" : String(text);
        if (className) td.className = className;
        row.append(td);
        return td;
    }

    function fill(table, rows, columns, empty) {
        const body = $(table).querySelector("tbody");
        body.replaceChildren();
        if (!rows.length) {
            const tr = document.createElement("tr");
            const td = cell(tr, empty, "empty");
            td.colSpan = columns;
            body.append(tr);
        }
        for (const row of rows) body.append(row);
    }

    function badge(state) {
        const span = document.createElement("span");
        span.className = "badge";
        span.dataset.state = state;
        span.textContent = state;
        return span;
    }

    function sessionRow(s) {
        const tr = document.createElement("tr");
        tr.dataset.session = s.session;
        const c = s.counters;
        cell(tr, s.session);
        cell(tr, badge(s.state));
        cell(tr, s.chatId || "");
        cell(tr, s.instance || "");
        for (const key of ["message.in", "message.out", "ack", "send_failed", "error", "interrupted"]) {
            cell(tr, c[key] || 0, "num");
        }
        cell(tr, s.last_seen.toFixed(1) + " s", "num");
        const link = document.createElement("a");
        link.href = s.trace;
        link.textContent = s.file ? s.file.split("/").pop() : "view";
        link.title = s.file || "this session's trace so far";
        cell(tr, link);
        return tr;
    }

    function chatRow(chat) {
        const tr = document.createElement("tr");
        tr.dataset.chat = chat.chatId;
        cell(tr, chat.chatId);
        cell(tr, chat.instance);
        cell(tr, chat.position, "num");
        cell(tr, chat.acks, "num");
        cell(tr, chat.ended || "");
        const form = document.createElement("form");
        const input = document.createElement("input");
        input.placeholder = "the agent says…";
        input.size = 18;
        const button = document.createElement("button");
        button.textContent = "Say";
        form.append(input, " ", button);
        form.addEventListener("submit", async (event) => {
            event.preventDefault();
            try {
                await control("POST", `/agent/${encodeURIComponent(chat.chatId)}/say`,
                              {text: input.value || "Hello from the agent"});
                say(`the agent spoke in ${chat.chatId}`, true);
                input.value = "";
                document.activeElement.blur();  // done typing: let the table refresh
                editing = false;
            } catch (e) {
                say(String(e.message || e), false);
            }
        });
        cell(tr, chat.ended ? "" : form);
        return tr;
    }

    function describe(fault) {
        return Object.entries(fault).filter(([key]) => key !== "kind")
            .map(([key, value]) => `${key}=${typeof value === "number" ? +value.toFixed(3) : JSON.stringify(value)}`)
            .join(" ") || "(no parameters)";
    }

    function faultRow(f) {
        const tr = document.createElement("tr");
        tr.dataset.fault = f.id;
        cell(tr, f.id, "num");
        cell(tr, f.fault.kind);
        cell(tr, describe(f.fault));
        cell(tr, badge(f.state));
        if (f.state === "ended") {
            cell(tr, "");
        } else {
            const button = document.createElement("button");
            button.className = "plain";
            button.textContent = "Clear";
            button.addEventListener("click", () => clearFault(f.id));
            cell(tr, button);
        }
        return tr;
    }

    let editing = false;  // keep the agent's input fields while someone types in them
    document.addEventListener("focusin", (e) => { editing = !!e.target.closest("#chats"); });
    document.addEventListener("focusout", () => { editing = false; });

    async function refresh() {
        try {
            const headers = tokenInput.value ? {Authorization: "Bearer " + tokenInput.value} : {};
            const response = await fetch("/chatsim/status", {cache: "no-store", headers});
            if (response.status === 401) {
                say("this server was started with --token: enter the token below", false);
                return;
            }
            const status = await response.json();
            $("now").textContent = status.now.toFixed(1);
            $("instances").textContent = status.instances.join(", ");
            $("traces").textContent = status.trace_dir || "off";
            fill("sessions", status.sessions.map(sessionRow), 12, "no browser session yet: open a demo widget");
            if (!editing) fill("chats", status.chats.map(chatRow), 6, "no chat yet");
            fill("faults", status.faults.map(faultRow), 5, "no fault");
            document.body.dataset.updated = String(status.now);
        } catch (e) {
            say("cannot reach chatsim serve: " + e, false);
        }
    }

    async function clearFault(id) {
        try {
            await control("DELETE", `/faults/${id}`);
            say(`fault ${id} cleared`, true);
        } catch (e) {
            say(String(e.message || e), false);
        }
        refresh();
    }

    $("fault-form").addEventListener("submit", async (event) => {
        event.preventDefault();
        const fault = {kind: $("fault-kind").value};
        for (const name of ["duration", "at"]) {
            const value = $("fault-" + name).value.trim();
            if (value) fault[name] = Number(value);
        }
        for (const name of ["instance", "client"]) {
            const value = $("fault-" + name).value.trim();
            if (value) fault[name] = value;
        }
        try {
            const more = $("fault-more").value.trim();
            if (more) Object.assign(fault, JSON.parse(more));
            const posted = await control("POST", "/faults", fault);
            say(`fault ${posted.id} added: ${posted.fault.kind} ${describe(posted.fault)}`, true);
        } catch (e) {
            say(String(e.message || e), false);
        }
        refresh();
    });

    $("clear-all").addEventListener("click", async () => {
        try {
            await control("DELETE", "/faults");
            say("all faults cleared", true);
        } catch (e) {
            say(String(e.message || e), false);
        }
        refresh();
    });

    refresh();
    setInterval(refresh, 1000);
})();
