// Drives MQTT.js against the Go emulator. Usage:
//   node mqtt.mjs <MQTT client access URL> <protocol version 4|5> <client id>
// It subscribes to "room" and $webpubsub/server/messages, publishes one
// message to "room" (5.0: with content type text/plain), and prints one
// JSON object per line for the Go test; it stops after a message "bye".
import mqtt from "mqtt";

const [url, versionArg, clientId] = process.argv.slice(2);
const protocolVersion = Number(versionArg);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const timer = setTimeout(() => {
  out({ ev: "timeout" });
  process.exit(2);
}, 40000);

const client = mqtt.connect(url, { clientId, protocolVersion, clean: true, reconnectPeriod: 0, keepalive: 60 });
client.on("error", (e) => out({ ev: "error", message: String(e && e.message), code: e && e.code }));
client.on("message", (topic, payload, packet) => {
  const text = payload.toString("utf8");
  out({ ev: "message", topic, qos: packet.qos, contentType: packet.properties?.contentType ?? "", data: text });
  if (text === "bye") {
    clearTimeout(timer);
    client.end(false, () => process.exit(0));
  }
});
client.on("connect", async (ack) => {
  out({ ev: "connected", sessionPresent: ack.sessionPresent });
  try {
    const granted = await client.subscribeAsync(["room", "$webpubsub/server/messages"], { qos: 1 });
    out({ ev: "subscribed", granted: granted.map((g) => g.qos) });
    try {
      await client.subscribeAsync("room/+", { qos: 0 });
      out({ ev: "wildcard", message: "granted" });
    } catch (e) {
      out({ ev: "wildcard", message: String(e && e.message) }); // MQTT.js rejects a refused subscription
    }
    const opts = { qos: 1 };
    if (protocolVersion === 5) opts.properties = { contentType: "text/plain" };
    await client.publishAsync("room", `hello from mqtt.js v${protocolVersion}`, opts);
    out({ ev: "sent" });
  } catch (e) {
    out({ ev: "error", message: String(e && e.message) });
  }
});
