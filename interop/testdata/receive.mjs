// Receives with @azure/web-pubsub-client for the Go test that compares it
// with wsclient. Usage: node receive.mjs <client access URL> <n>
// Joins group "g", prints "ready", then one JSON line per group or server
// message ({from, group, fromUserId, dataType, data}; binary data as
// {base64}) until n arrived.
import { WebPubSubClient } from "@azure/web-pubsub-client";

const [url, nArg] = process.argv.slice(2);
const n = Number(nArg);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const data = (d) => (d instanceof ArrayBuffer ? { base64: Buffer.from(d).toString("base64") } : d);
const timer = setTimeout(() => process.exit(2), 40000);
const client = new WebPubSubClient(url);
let got = 0;
const record = (from, m) => {
  out({ from, group: m.group ?? "", fromUserId: m.fromUserId ?? "", dataType: m.dataType, data: data(m.data) });
  if (++got === n) {
    clearTimeout(timer);
    client.stop();
    setTimeout(() => process.exit(0), 100);
  }
};
client.on("group-message", (e) => record("group", e.message));
client.on("server-message", (e) => record("server", e.message));
await client.start();
await client.joinGroup("g");
out({ ready: true });
