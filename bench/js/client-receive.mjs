// The JavaScript side of make bench-client: @azure/web-pubsub-client
// receives n group messages. Usage: node client-receive.mjs <url> <n>
// Prints "ready" once connected, then one JSON line: the messages after
// the first, the seconds from the first to the last, and the process's
// CPU milliseconds meanwhile.
import { WebPubSubClient } from "@azure/web-pubsub-client";

const [url, nArg] = process.argv.slice(2);
const n = Number(nArg);
const client = new WebPubSubClient(url);
let got = 0;
let t0, cpu0;
client.on("group-message", () => {
  got++;
  if (got === 1) {
    t0 = process.hrtime.bigint();
    cpu0 = process.cpuUsage();
  }
  if (got === n) {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(cpu0);
    process.stdout.write(JSON.stringify({ n: n - 1, seconds, cpuMs: (c.user + c.system) / 1000 }) + "\n");
    client.stop();
    setTimeout(() => process.exit(0), 100);
  }
});
await client.start();
process.stdout.write("ready\n");
