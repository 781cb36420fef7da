// Receives with @azure/web-pubsub-client for the wsclient interop test.
// Usage: node receive.mjs <client access URL> <group> <messages>
// Joins the group, prints {"ev":"ready"}, then one JSON line per group or
// server message ({"ev":"message", kind, group, from, dataType, data};
// binary data as {"base64": ...}) and exits after the given number.
import { WebPubSubClient } from "@azure/web-pubsub-client";

const [url, group, total] = process.argv.slice(2);
const want = Number(total);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const data = (d) => (d instanceof ArrayBuffer ? { base64: Buffer.from(d).toString("base64") } : d);
const timer = setTimeout(() => {
  out({ ev: "timeout" });
  process.exit(2);
}, 40000);

const client = new WebPubSubClient(url);
let got = 0;
const received = (kind, m) => {
  out({ ev: "message", kind, group: m.group ?? "", from: m.fromUserId ?? "", dataType: m.dataType, data: data(m.data) });
  if (++got === want) {
    clearTimeout(timer);
    client.stop();
    setTimeout(() => process.exit(0), 100);
  }
};
client.on("group-message", (e) => received("group", e.message));
client.on("server-message", (e) => received("server", e.message));
try {
  await client.start();
  await client.joinGroup(group);
  out({ ev: "ready" });
} catch (err) {
  out({ ev: "error", message: String(err && err.message ? err.message : err) });
  process.exit(1);
}
