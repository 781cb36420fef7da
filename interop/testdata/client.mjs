// Drives @azure/web-pubsub-client against the Go emulator. Usage:
//   node client.mjs <client access URL> <number of server messages to await>
// Prints one JSON object per line for the Go test to check.
import { WebPubSubClient } from "@azure/web-pubsub-client";

const [url, wantArg] = process.argv.slice(2);
const want = Number(wantArg);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const data = (d) => (d instanceof ArrayBuffer ? { base64: Buffer.from(d).toString("base64") } : d);

const timer = setTimeout(() => {
  out({ ev: "timeout" });
  process.exit(2);
}, 40000);

const client = new WebPubSubClient(url);
let got = 0;
client.on("connected", (e) => out({ ev: "connected", id: e.connectionId, user: e.userId }));
client.on("disconnected", (e) => out({ ev: "disconnected", message: e.message }));
client.on("stopped", () => out({ ev: "stopped" }));
client.on("group-message", (e) =>
  out({ ev: "group", group: e.message.group, from: e.message.fromUserId, dataType: e.message.dataType, data: data(e.message.data) }),
);
client.on("server-message", (e) => {
  out({ ev: "server", dataType: e.message.dataType, data: data(e.message.data) });
  if (++got === want) {
    out({ ev: "done" });
    clearTimeout(timer);
    client.stop();
    setTimeout(() => process.exit(0), 100);
  }
});

try {
  await client.start();
  await client.joinGroup("g");
  out({ ev: "joined" });
  await client.sendToGroup("g", { a: 1 }, "json");
  await client.sendToGroup("g", "hi", "text");
  await client.sendToGroup("g", new Uint8Array([1, 2, 3]).buffer, "binary");
  out({ ev: "sent" });
} catch (err) {
  out({ ev: "error", message: String(err && err.message ? err.message : err) });
  process.exit(1);
}
