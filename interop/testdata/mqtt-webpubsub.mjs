// Cross-protocol check: MQTT.js and @azure/web-pubsub-client in one hub of
// the Go emulator. Usage:
//   node mqtt-webpubsub.mjs <MQTT client access URL> <Web PubSub client access URL>
// The Web PubSub client joins group "g"; then, for MQTT 3.1.1 (4) and 5.0,
// an MQTT.js client subscribes to "g", publishes to it (5.0: with content
// types), and receives the Web PubSub client's json, text and binary
// messages. Every received message is printed as one JSON object per line,
// in a fixed order, for the Go test to compare.
import mqtt from "mqtt";
import { WebPubSubClient } from "@azure/web-pubsub-client";

const [mqttURL, webURL] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const data = (d) => (d instanceof ArrayBuffer ? { base64: Buffer.from(d).toString("base64") } : d);

const timer = setTimeout(() => {
  out({ ev: "timeout" });
  process.exit(2);
}, 40000);

// queue hands out pushed items in order, waiting for the next one.
const queue = () => {
  const items = [];
  const waiters = [];
  return {
    push: (x) => (waiters.length ? waiters.shift()(x) : items.push(x)),
    next: () => (items.length ? Promise.resolve(items.shift()) : new Promise((r) => waiters.push(r))),
  };
};

try {
  const web = new WebPubSubClient(webURL);
  const webMsgs = queue();
  web.on("group-message", (e) => webMsgs.push(e.message));
  await web.start();
  await web.joinGroup("g");

  for (const version of [4, 5]) {
    const mq = mqtt.connect(mqttURL, { clientId: `mqttjs${version}`, protocolVersion: version, clean: true, reconnectPeriod: 0 });
    const mqMsgs = queue();
    mq.on("message", (topic, payload, packet) => mqMsgs.push({ topic, payload, packet }));
    mq.on("error", (e) => out({ ev: "error", message: String(e && e.message) }));
    await new Promise((resolve) => mq.once("connect", resolve));
    await mq.subscribeAsync("g", { qos: 1 });

    // MQTT -> Web PubSub.
    const publishes =
      version === 4
        ? [{ payload: Buffer.from([0, 255, 104, 105]) }]
        : [
            { payload: '{"a":1}', contentType: "application/json" },
            { payload: "héllo", contentType: "text/plain" },
            { payload: Buffer.from([1, 2]) },
          ];
    for (const p of publishes) {
      const opts = { qos: 1 };
      if (p.contentType) opts.properties = { contentType: p.contentType };
      await mq.publishAsync("g", p.payload, opts);
      const m = await webMsgs.next();
      out({ ev: "web", version, from: m.fromUserId, dataType: m.dataType, data: data(m.data) });
      await mqMsgs.next(); // its own message comes back to the MQTT client
    }

    // Web PubSub -> MQTT.
    for (const [d, dataType] of [[{ a: 1 }, "json"], ["hi", "text"], [new Uint8Array([1, 2, 3]).buffer, "binary"]]) {
      await web.sendToGroup("g", d, dataType, { noEcho: true });
      const m = await mqMsgs.next();
      out({
        ev: "mqtt",
        version,
        topic: m.topic,
        qos: m.packet.qos,
        contentType: m.packet.properties?.contentType ?? "",
        data: { base64: m.payload.toString("base64") },
      });
    }
    await mq.endAsync();
  }
  web.stop();
  out({ ev: "done" });
  clearTimeout(timer);
  setTimeout(() => process.exit(0), 100);
} catch (err) {
  out({ ev: "error", message: String(err && err.message ? err.message : err) });
  process.exit(1);
}
