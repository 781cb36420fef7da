// Drives the official server SDK @azure/web-pubsub against the Go emulator.
// Usage: node server.mjs <connection string> <hub>
//    or: node server.mjs <https endpoint> <hub>   (Microsoft Entra ID: a
//        stand-in TokenCredential whose unsigned tokens the emulator takes
//        with WithUnvalidatedEntraTokens; the SDK sends bearer tokens over
//        https only)
// Reads one JSON command a line from stdin ({"op": ..., ...}), runs it and
// prints one JSON line: {"op", "ok", "result"} or {"op", "ok": false,
// "error": {status, code, message}}, plus "requests": the method and raw URL
// of every HTTP request the SDK sent for the command.
import { createInterface } from "node:readline";
import { WebPubSubServiceClient, odata } from "@azure/web-pubsub";

const [connectionString, hub] = process.argv.slice(2);

// entraCredential hands out an unsigned JWT with the service's audience, as
// a real Entra token would carry.
const entraCredential = {
  getToken: async () => {
    const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const token = `${part({ alg: "RS256", typ: "JWT" })}.${part({ aud: "https://webpubsub.azure.com", exp })}.c2lnbmF0dXJl`;
    return { token, expiresOnTimestamp: exp * 1000 };
  },
};
let requests = [];
const recorder = {
  name: "recordRequests",
  sendRequest: (request, next) => {
    requests.push(`${request.method} ${request.url}`);
    return next(request);
  },
};
// The emulator speaks plain HTTP; @azure/core-rest-pipeline 1.24 refuses
// any http:// URL unless allowInsecureConnection is set ("Cannot connect to
// ... while allowInsecureConnection is false"), so every JS app pointed at a
// local emulator needs this option.
const clientOptions = {
  allowInsecureConnection: true,
  additionalPolicies: [{ policy: recorder, position: "perRetry" }],
  retryOptions: { maxRetries: 0 },
};
const service = connectionString.startsWith("https://")
  ? new WebPubSubServiceClient(connectionString, entraCredential, hub, clientOptions)
  : new WebPubSubServiceClient(connectionString, hub, clientOptions);

// payload turns a command's message into what the SDK takes for its type.
function payload(cmd) {
  switch (cmd.type) {
    case "text":
      return [cmd.message, { ...cmd.options, contentType: "text/plain" }];
    case "binary":
      return [Buffer.from(cmd.message, "base64"), { ...cmd.options }];
    default:
      return [cmd.message, { ...cmd.options }];
  }
}

// options copies a command's options and builds its OData filter with the
// SDK's odata tag, which quotes and escapes the value.
function options(cmd) {
  const o = { ...cmd.options };
  if (cmd.filterUserId !== undefined) {
    o.filter = odata`userId eq ${cmd.filterUserId}`;
  }
  return o;
}

async function run(cmd) {
  switch (cmd.op) {
    case "sendToAll": {
      const [m, o] = payload(cmd);
      return service.sendToAll(m, { ...o, ...options(cmd) });
    }
    case "sendToUser": {
      const [m, o] = payload(cmd);
      return service.sendToUser(cmd.user, m, { ...o, ...options(cmd) });
    }
    case "sendToConnection": {
      const [m, o] = payload(cmd);
      return service.sendToConnection(cmd.connectionId, m, o);
    }
    case "groupSendToAll": {
      const [m, o] = payload(cmd);
      return service.group(cmd.group).sendToAll(m, { ...o, ...options(cmd) });
    }
    case "connectionExists":
      return service.connectionExists(cmd.connectionId);
    case "userExists":
      return service.userExists(cmd.user);
    case "groupExists":
      return service.groupExists(cmd.group);
    case "groupAddUser":
      return service.group(cmd.group).addUser(cmd.user);
    case "groupRemoveUser":
      return service.group(cmd.group).removeUser(cmd.user);
    case "groupAddConnection":
      return service.group(cmd.group).addConnection(cmd.connectionId);
    case "groupRemoveConnection":
      return service.group(cmd.group).removeConnection(cmd.connectionId);
    case "removeConnectionFromAllGroups":
      return service.removeConnectionFromAllGroups(cmd.connectionId);
    case "removeUserFromAllGroups":
      return service.removeUserFromAllGroups(cmd.user);
    case "addConnectionsToGroups":
      return service.addConnectionsToGroups(cmd.groups, cmd.filter);
    case "removeConnectionsFromGroups":
      return service.removeConnectionsFromGroups(cmd.groups, cmd.filter);
    case "closeConnection":
      return service.closeConnection(cmd.connectionId, cmd.options);
    case "closeAllConnections":
      return service.closeAllConnections(cmd.options);
    case "closeUserConnections":
      return service.closeUserConnections(cmd.user, cmd.options);
    case "groupCloseAllConnections":
      return service.group(cmd.group).closeAllConnections(cmd.options);
    case "grantPermission":
      return service.grantPermission(cmd.connectionId, cmd.permission, cmd.options);
    case "revokePermission":
      return service.revokePermission(cmd.connectionId, cmd.permission, cmd.options);
    case "hasPermission":
      return service.hasPermission(cmd.connectionId, cmd.permission, cmd.options);
    case "listConnections": {
      // Once item by item (the async iterator), once page by page.
      const group = service.group(cmd.group);
      const items = [];
      for await (const m of await group.listConnections(cmd.options)) {
        items.push(m);
      }
      const pages = [];
      for await (const page of (await group.listConnections(cmd.options)).byPage()) {
        pages.push(page.length);
      }
      return { items, pages };
    }
    case "getClientAccessToken":
      return service.getClientAccessToken(cmd.options);
    default:
      throw new Error(`unknown op ${cmd.op}`);
  }
}

// The operations that answer with a value; the others resolve to nothing
// of interest (void in the SDK's types).
const answers = new Set([
  "connectionExists",
  "userExists",
  "groupExists",
  "hasPermission",
  "listConnections",
  "getClientAccessToken",
]);

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const cmd = JSON.parse(line);
  requests = [];
  const out = { op: cmd.op };
  try {
    const result = await run(cmd);
    out.ok = true;
    if (answers.has(cmd.op)) out.result = result;
  } catch (err) {
    out.ok = false;
    out.error = { status: err.statusCode ?? 0, code: err.code ?? "", message: String(err.message ?? err) };
  }
  out.requests = requests;
  process.stdout.write(JSON.stringify(out) + "\n");
}
