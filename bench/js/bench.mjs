// The official JavaScript SDK's side of the comparison that
// bench/cmd/compare runs. It does one measurement and prints one JSON line:
//
//   node bench.mjs --mode send  --endpoint http://127.0.0.1:PORT --size 100 --inflight 32 --seconds 2
//   node bench.mjs --mode token --seconds 2
//
// send: WebPubSubServiceClient.sendToAll of a JSON object whose encoding is
// --size bytes, --inflight calls at a time, against the sink the Go harness
// runs. token: getClientAccessToken({ userId, roles }) in a loop (signed
// locally with the access key, no I/O).
//
// Output: {"mode":"send","ops":N,"seconds":S,"errors":E}
import { WebPubSubServiceClient } from "@azure/web-pubsub";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    mode: { type: "string", default: "send" },
    endpoint: { type: "string", default: "http://127.0.0.1:1" },
    key: { type: "string", default: "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefgh" },
    hub: { type: "string", default: "chat" },
    size: { type: "string", default: "100" },
    inflight: { type: "string", default: "1" },
    seconds: { type: "string", default: "2" },
    warmup: { type: "string", default: "0.5" },
  },
});

const size = Number(args.size);
const inflight = Number(args.inflight);
const seconds = Number(args.seconds);
const warmup = Number(args.warmup);
if (!(size >= 16) || !(inflight >= 1) || !(seconds > 0) || !(warmup >= 0)) {
  console.error("bench.mjs: --size must be >= 16, --inflight >= 1, --seconds > 0, --warmup >= 0");
  process.exit(2);
}

const client = new WebPubSubServiceClient(
  `Endpoint=${args.endpoint};AccessKey=${args.key};Version=1.0;`,
  args.hub,
  { retryOptions: { maxRetries: 0 }, allowInsecureConnection: true },
);

// The same JSON the Go side sends: {"n":12345,"p":"xxx…"} of `size` bytes.
const head = '{"n":12345,"p":"';
const message = { n: 12345, p: "x".repeat(size - head.length - 2) };
if (JSON.stringify(message).length !== size) {
  console.error("bench.mjs: payload size mismatch");
  process.exit(2);
}

// run calls op from `inflight` loops for warmup + seconds and counts the
// calls that completed inside the measured window.
async function run(op, inflight) {
  let ops = 0;
  let errors = 0;
  let firstError = "";
  let measuring = false;
  const start = performance.now();
  const measureFrom = start + warmup * 1000;
  const end = measureFrom + seconds * 1000;
  let measuredStart = 0;
  const loop = async () => {
    for (;;) {
      const now = performance.now();
      if (now >= end) return;
      if (!measuring && now >= measureFrom) {
        measuring = true;
        measuredStart = now;
      }
      const counting = measuring;
      try {
        await op();
        if (counting) ops++;
      } catch (e) {
        errors++;
        if (!firstError) firstError = String(e && e.message ? e.message : e);
      }
    }
  };
  await Promise.all(Array.from({ length: inflight }, loop));
  const elapsed = (performance.now() - (measuredStart || start)) / 1000;
  return { ops, seconds: elapsed, errors, firstError };
}

let result;
if (args.mode === "send") {
  result = await run(() => client.sendToAll(message), inflight);
} else if (args.mode === "token") {
  // A synchronous loop in async clothing: getClientAccessToken is async but
  // does no I/O with an access key.
  result = await run(() => client.getClientAccessToken({ userId: "user1", roles: ["webpubsub.joinLeaveGroup"] }), 1);
} else {
  console.error(`bench.mjs: unknown --mode ${args.mode}: use send or token`);
  process.exit(2);
}
console.log(JSON.stringify({ mode: args.mode, ...result }));
