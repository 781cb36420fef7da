// An upstream app built on @azure/web-pubsub-express (WebPubSubEventHandler)
// for the Go emulator's event handler settings. Usage:
//   node express-app.mjs <hub>
// It serves the handler at http://127.0.0.1:<port>/eventhandler/ (the
// emulator's URL template is .../eventhandler/{event}), prints
// {"ev":"listening","port":N} and then one JSON line per event it handles,
// and exits when stdin closes.
//
// The middleware is mounted on a plain node:http server: it only needs the
// request's baseUrl and path, which express would otherwise set.
import http from "node:http";
import { WebPubSubEventHandler } from "@azure/web-pubsub-express";

const [hub] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const first = (q, key) => (q && q[key] ? [].concat(q[key])[0] : undefined);

const handler = new WebPubSubEventHandler(hub, {
  path: "/eventhandler",
  handleConnect(req, res) {
    const ctx = req.context;
    out({ ev: "connect", connectionId: ctx.connectionId, userId: ctx.userId, subprotocols: req.subprotocols, scenario: first(req.queries, "scenario") });
    if (first(req.queries, "scenario") === "reject") {
      res.fail(401, "express says no");
      return;
    }
    res.setState("greeting", "hello");
    res.success({ userId: ctx.userId ?? "express-user", groups: ["fromExpress"] });
  },
  onConnected(req) {
    out({ ev: "connected", connectionId: req.context.connectionId, userId: req.context.userId, states: req.context.states });
  },
  handleUserEvent(req, res) {
    const ctx = req.context;
    const count = (ctx.states.count ?? 0) + 1;
    out({ ev: "user", event: ctx.eventName, userId: ctx.userId, dataType: req.dataType, data: req.data, states: ctx.states, signature: Boolean(ctx.signature) });
    if (ctx.eventName === "fail") {
      res.fail(500, "express failed");
      return;
    }
    res.setState("count", count);
    res.success(`${ctx.states.greeting} ${req.data} #${count}`, "text");
  },
  onDisconnected(req) {
    out({ ev: "disconnected", connectionId: req.context.connectionId, userId: req.context.userId, reason: req.reason });
  },
});
const middleware = handler.getMiddleware();

const server = http.createServer((req, res) => {
  req.baseUrl = "";
  req.path = new URL(req.url, "http://localhost").pathname;
  middleware(req, res, (err) => {
    res.statusCode = err ? 500 : 404;
    res.end(err ? String(err) : "not found");
  });
});
server.listen(0, "127.0.0.1", () => out({ ev: "listening", port: server.address().port }));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
