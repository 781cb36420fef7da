// The @azure/web-pubsub-client 1.1 side of `make bench-client`
// (bench/cmd/clientload): one client on the default reliable protocol
// joins a group and receives text messages whose first 9 characters are
// their number, checking that each arrives once and in order.
//
//   node recv.mjs <client access URL> <group> <messages> [<every>]
//
// Prints "ready" when joined, "n <count>" every <every> messages (100 by
// default; the harness paces its sender by it in its live mode), and at the end one JSON line:
// {"count", "seconds", "cpuMicros"} measured from the first message to the
// last (process.cpuUsage: user + system CPU of this process).
import { WebPubSubClient } from "@azure/web-pubsub-client";

const [url, group, total, everyArg] = process.argv.slice(2);
const want = Number(total);
const every = Number(everyArg ?? 100);
const client = new WebPubSubClient(url);
let count = 0;
// A benchmark must not hide a lost connection.
client.on("disconnected", (e) => process.stderr.write(`recv.mjs: connection lost: ${e.message ?? ""}\n`));
let t0 = 0;
let cpu0 = null;
client.on("group-message", (e) => {
  if (count === 0) {
    t0 = performance.now();
    cpu0 = process.cpuUsage();
  }
  const seq = Number(e.message.data.slice(0, 9));
  if (seq !== count) {
    process.stdout.write(`error message ${seq} arrived as number ${count}\n`);
    process.exit(1);
  }
  count++;
  if (count % every === 0) process.stdout.write(`n ${count}\n`);
  if (count === want) {
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(cpu0);
    process.stdout.write(JSON.stringify({ count, seconds, cpuMicros: c.user + c.system }) + "\n");
    client.stop();
    setTimeout(() => process.exit(0), 50);
  }
});
await client.start();
await client.joinGroup(group);
process.stdout.write("ready\n");
