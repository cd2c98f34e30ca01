// Real-browser test: two Chromium pages (Debian's chromium, driven by
// playwright-core; no browser is downloaded) play briscola against each
// other on build/tavolo, one of them reloads mid-match and must get its seat
// back, and a screenshot of the table is kept as an artifact.
// Ends with "N passed, M failed"; exit code 1 on any failure.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.TAVOLO_BIN || join(here, "../../build/tavolo");
const ARTIFACTS = process.env.ARTIFACT_DIR || join(here, "../../build/artifacts");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

function startServer() {
  const dir = mkdtempSync(join(tmpdir(), "tavolo-browser-"));
  const log = join(dir, "server.log");
  const proc = spawn(BIN, ["--port", "0", "--bind", "127.0.0.1", "--data", join(dir, "data"),
    "--admin-port", "off", "--turn-ms", "60000"], { stdio: ["ignore", "ignore", "pipe"] });
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

async function enter(page, url, name) {
  await page.goto(url);
  await page.fill("#name", name);
  await page.click("#enter");
  await page.waitForSelector("#lobby:not([hidden])");
}

// Plays whatever card is playable on the page, if it is its turn.
// Locators, not element handles: the page re-renders the hand on every
// table event, and a handle taken just before that is detached ("Element is
// not attached to the DOM", seen under load on Debian 12 by
// scripts/fresh-check.sh); a locator is resolved again at the click. The
// card is named by its code so that a re-render cannot make the click land
// on another one, and the play counts only once the server's PLAYED has
// taken it out of the hand, so the next round cannot click it twice.
async function tryPlay(page) {
  const playable = page.locator("#hand .card.playable");
  if ((await playable.count()) === 0) return false;
  const code = await playable.first().getAttribute("data-card", { timeout: 5000 }).catch(() => null);
  if (!code) return false; // the hand changed in between: look again next round
  await page.locator(`#hand .card.playable[data-card="${code}"]`).click({ timeout: 10000 });
  await page.locator(`#hand .card[data-card="${code}"]`).waitFor({ state: "detached", timeout: 10000 });
  return true;
}

async function endShown(page) {
  return page.$eval("#end", (el) => !el.hidden).catch(() => false);
}

const results = [];
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push([name, null]);
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  } catch (e) {
    results.push([name, e]);
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

const server = await startServer();
const url = `http://127.0.0.1:${server.port}/`;
// headless: true makes playwright-core pass --headless itself, and launch()
// always starts Chromium on a new empty temporary --user-data-dir (it
// refuses one in args). The flags keep Chromium off the network: this
// machine's network is closed, and background fetches only fail and slow
// the start. Checked with playwright-core 1.61.1 and Debian 12's Chromium.
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

try {
  await test("two pages play a match to the end; a reload resumes the seat", async () => {
    // separate contexts: separate sessionStorage, like two people
    const [ctxA, ctxB] = [await browser.newContext({ viewport: { width: 390, height: 844 } }),
      await browser.newContext()];
    const a = await ctxA.newPage(), b = await ctxB.newPage();
    await enter(a, url, "alice");
    await enter(b, url, "bob");
    await a.waitForSelector("#game option[value=briscola]", { state: "attached" });
    await a.selectOption("#game", "briscola");
    await a.selectOption("#seats-n", "2");
    await a.click("#create");
    await a.waitForSelector("#table:not([hidden])");
    await b.waitForSelector("#matches li[data-match] button.join", { timeout: 10000 });
    await b.click("#matches li[data-match] button.join");
    await b.waitForSelector("#hand .card");
    await a.waitForSelector("#hand .card");
    const trump = await a.$eval("#trump .card", (el) => el.dataset.card);
    if (!/^[A2-7JQK][cdhs]$/.test(trump)) throw new Error("no trump card shown: " + trump);

    let plays = 0, reloaded = false, shot = false;
    const deadline = Date.now() + 120000;
    while (!(await endShown(a) && await endShown(b))) {
      if (Date.now() > deadline) throw new Error(`no END after ${plays} plays`);
      for (const page of [a, b]) if (await tryPlay(page)) plays++;
      if (plays >= 9 && !shot) {
        mkdirSync(ARTIFACTS, { recursive: true });
        await a.screenshot({ path: join(ARTIFACTS, "table.png"), fullPage: true });
        shot = true;
      }
      if (plays >= 11 && !reloaded) {
        // mid-match reload: the tab keeps its token and takes its seat back
        await b.reload();
        await b.waitForSelector("#table:not([hidden])", { timeout: 10000 });
        await b.waitForSelector("#hand .card", { timeout: 10000 });
        const seats = await b.$$eval("#seats .seat", (els) => els.map((e) => e.textContent));
        if (!seats.some((t) => t.startsWith("bob"))) throw new Error("no seat after reload: " + seats);
        reloaded = true;
      }
      await a.waitForTimeout(30);
    }
    if (!reloaded) throw new Error("the match ended before the reload");
    if (plays !== 40) throw new Error(`40 cards should be played by the pages, got ${plays}`);
    for (const page of [a, b]) {
      const detail = await page.$eval("#end-detail", (el) => el.textContent);
      const pts = (detail.match(/\d+/g) || []).map(Number);
      if (pts.length !== 2 || pts[0] + pts[1] !== 120) throw new Error("END points: " + detail);
    }
    const [ta, tb] = [await a.$eval("#end-title", (e) => e.textContent),
      await b.$eval("#end-title", (e) => e.textContent)];
    const ok = (ta === "You won!" && tb === "You lost") || (ta === "You lost" && tb === "You won!") ||
      (ta.startsWith("A draw") && tb.startsWith("A draw"));
    if (!ok) throw new Error(`results disagree: ${ta} / ${tb}`);
    // the deal check of the end screen (PROTOCOL §13, web/deal.js)
    await a.waitForFunction(() => /deal (verified|NOT)/.test(document.getElementById("end-verify").textContent),
      null, { timeout: 10000 });
    const verify = await a.$eval("#end-verify", (el) => el.textContent);
    if (!verify.startsWith("deal verified")) throw new Error("end screen: " + verify);
    await a.screenshot({ path: join(ARTIFACTS, "end.png") });
    if (!/resumed bob|session\.resumed .*name=bob/.test(server.log())) throw new Error("the server did not see a RESUME");
    await a.click("#end-ok");
    await a.waitForSelector("#lobby:not([hidden])");
  });
} finally {
  await browser.close();
  server.proc.kill("SIGTERM");
}

const failed = results.filter(([, e]) => e).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
