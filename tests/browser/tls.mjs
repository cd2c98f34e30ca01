// Real-browser check of TLS on the game port (PROTOCOL §10): Chromium
// (Debian's, driven by playwright-core, as in play.mjs) loads
// https://127.0.0.1:PORT/ from a server with a self-signed certificate made
// here by `openssl req` (so --ignore-certificate-errors), enters a name,
// and must reach the lobby, which needs the page's wss:// WebSocket on the
// same port. Skips cleanly (exit 0) without Chromium or openssl.
// Ends with "N passed, M failed"; exit code 1 on any failure.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.TAVOLO_BIN || join(here, "../../build/tavolo");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

if (!existsSync(CHROMIUM) || spawnSync("openssl", ["version"]).status !== 0) {
  console.log(`skipped: no ${CHROMIUM} or no openssl`);
  console.log("0 passed, 0 failed, 1 skipped");
  process.exit(0);
}
const { chromium } = await import("playwright-core");

const dir = mkdtempSync(join(tmpdir(), "tavolo-browser-tls-"));
const cert = join(dir, "cert.pem"), key = join(dir, "key.pem");
const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt",
  "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
  "-subj", "/CN=127.0.0.1"], { stdio: "ignore", timeout: 30000 });
if (made.status !== 0) throw new Error("openssl req failed");

function startServer() {
  const proc = spawn(BIN, ["--port", "0", "--bind", "127.0.0.1", "--data", join(dir, "data"),
    "--admin-port", "off", "--tls-cert", cert, "--tls-key", key],
  { stdio: ["ignore", "ignore", "pipe"] });
  let text = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server did not start: " + text)), 10000);
    proc.stderr.on("data", (d) => {
      text += d;
      const m = /^listening on .*:(\d+)$/m.exec(text);
      if (m) { clearTimeout(timer); resolve({ proc, port: Number(m[1]), log: () => text }); }
    });
    proc.on("exit", (code) => reject(new Error(`server exited ${code}: ${text}`)));
  });
}

const server = await startServer();
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--ignore-certificate-errors"],
});
let failed = 0;
try {
  const t0 = Date.now();
  try {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await ctx.newPage();
    await page.goto(`https://127.0.0.1:${server.port}/`);
    if (!page.url().startsWith("https:")) throw new Error("not on https: " + page.url());
    await page.fill("#name", "tlsuser");
    await page.click("#enter");
    await page.waitForSelector("#lobby:not([hidden])", { timeout: 15000 });
    if (!/tls=yes|conn\.opened/.test(server.log())) throw new Error("no connection logged");
    console.log(`ok   https page and wss lobby (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  } catch (e) {
    failed++;
    console.log(`FAIL https page and wss lobby: ${e.stack || e}\n${server.log().slice(-2000)}`);
  }
} finally {
  await browser.close();
  server.proc.kill("SIGTERM");
}
console.log(`${1 - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
