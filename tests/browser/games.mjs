// Real-browser tests of scopa and hearts: one Chromium page plays each
// match to END against socket clients (here, in Node) that play the other
// seats legally; the end screen must say the deal was verified (§13).
// Screenshots go to build*/artifacts/: table-scopa.png, pass-hearts.png,
// table-hearts.png, end-scopa.png, end-hearts.png.
// Ends with "N passed, M failed"; exit code 1 on any failure, 77 (skipped)
// when chromium or playwright-core is missing.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.TAVOLO_BIN || join(here, "../../build/tavolo");
const ARTIFACTS = process.env.ARTIFACT_DIR || join(here, "../../build/artifacts");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ONLY = process.env.ONLY || ""; // "scopa" or "hearts": run one test

if (!existsSync(CHROMIUM)) {
  console.log(`skipped: no chromium at ${CHROMIUM}`);
  process.exit(77);
}
let chromium;
try {
  ({ chromium } = await import("playwright-core"));
} catch (e) {
  console.log("skipped: playwright-core is not installed (make browser-deps)");
  process.exit(77);
}

function startServer(extra = []) {
  const dir = mkdtempSync(join(tmpdir(), "tavolo-browser-"));
  const proc = spawn(BIN, ["--port", "0", "--bind", "127.0.0.1", "--data", join(dir, "data"),
    "--admin-port", "off", "--turn-ms", "60000", "--rate", "200", "--burst", "400", ...extra],
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

// ---------- a socket client that plays its seat legally ----------

const SCOPA_VALUE = { A: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, J: 8, Q: 9, K: 10 };

class LineClient {
  constructor(port, name) {
    this.name = name;
    this.sock = connect(port, "127.0.0.1");
    this.sock.setEncoding("utf8");
    this.sock.setNoDelay(true);
    this.buf = "";
    this.pending = [];
    this.hand = [];
    this.trick = [];
    this.seat = null;
    this.seats = 0;
    this.ended = null;
    this.log = [];
    this.waiters = [];
    this.sock.on("data", (d) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf("\n")) >= 0) {
        const line = this.buf.slice(0, i).replace(/\r$/, "");
        this.buf = this.buf.slice(i + 1);
        this.onLine(line);
      }
    });
  }

  send(line) {
    return new Promise((resolve) => { this.pending.push(resolve); this.sock.write(line + "\n"); });
  }

  waitFor(pred, ms = 10000) {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: timed out; last lines: ${this.log.slice(-5).join(" / ")}`)), ms);
      this.waiters.push(() => { if (pred()) { clearTimeout(t); resolve(); return true; } return false; });
    });
  }

  onLine(line) {
    this.log.push(line);
    const w = line.split(" ");
    if (w[0] === "OK" || w[0] === "ERR") {
      const r = this.pending.shift();
      if (r) r({ ok: w[0] === "OK", words: w, text: line });
    } else this.onEvent(w);
    this.waiters = this.waiters.filter((f) => !f());
  }

  onEvent(w) {
    switch (w[0]) {
      case "HELLO": this.hello = true; break;
      case "START": this.seats = +w[3]; this.seat = w.slice(4).indexOf(this.name); this.game = w[2]; break;
      case "HAND": this.hand = w.slice(2); break;
      case "DEAL": this.trick = []; break;
      case "PASSING": this.pass().catch((e) => { this.err = e; }); break;
      case "PLAYED":
        if (this.trick.length === this.seats) this.trick = [];
        this.trick.push(w[3]);
        if (+w[2] === this.seat) this.hand = this.hand.filter((c) => c !== w[3]);
        break;
      case "TURN": if (+w[2] === this.seat) this.move().catch((e) => { this.err = e; }); break;
      case "END": this.ended = w; break;
    }
  }

  async pass() {
    const r = await this.send(`PASS ${this.hand.slice(0, 3).join(" ")}`);
    if (!r.ok) throw new Error(`${this.name}: ${r.text}`);
  }

  // Candidates in order of preference; the server's ILLEGAL/BADARG steers.
  // In hearts they play high and shed points, so that the match ends soon.
  candidates() {
    const hand = [...this.hand];
    if (this.game !== "hearts") return hand;
    const order = "23456789TJQKA";
    const high = (a, b) => order.indexOf(b[0]) - order.indexOf(a[0]);
    const trick = this.trick.length === this.seats ? [] : this.trick;
    if (!trick.length) {
      if (hand.includes("2c")) return ["2c"];
      return [...hand.filter((c) => c[1] !== "h").sort(high), ...hand.filter((c) => c[1] === "h").sort(high)];
    }
    const led = trick[0][1];
    const follow = hand.filter((c) => c[1] === led).sort(high);
    if (follow.length) return follow;
    const pointy = (c) => c[1] === "h" || c === "Qs";
    return [...hand.filter(pointy).sort(high), ...hand.filter((c) => !pointy(c)).sort(high)];
  }

  async move() {
    for (const card of this.candidates()) {
      let r = await this.send(`PLAY ${card}`);
      if (r.ok) return;
      if (r.words[1] === "BADARG") { // scopa: "choose a capture: 3d 4h | 7c"
        const opt = /:\s*([^|]+)/.exec(r.text);
        if (opt) r = await this.send(`PLAY ${card} ${opt[1].trim()}`);
        if (r.ok) return;
      }
      if (r.words[1] !== "ILLEGAL") throw new Error(`${this.name}: ${r.text}`);
    }
    throw new Error(`${this.name}: no legal card in ${this.hand.join(" ")}`);
  }

  close() { this.sock.destroy(); }
}

async function lineClient(port, name) {
  const c = new LineClient(port, name);
  await c.waitFor(() => c.hello);
  const r = await c.send(`NICK ${name}`);
  if (!r.ok) throw new Error(r.text);
  await c.send("SEED " + Buffer.from(name).toString("hex"));
  return c;
}

// ---------- the page ----------

// Is a §14 command on this server? (BADCMD: not yet.)
async function serverHas(port, line) {
  const c = new LineClient(port, "probe");
  await c.waitFor(() => c.hello);
  await c.send("NICK probe" + process.pid % 1000);
  const r = await c.send(line);
  c.close();
  return r.words[1] !== "BADCMD";
}

async function enter(page, url, name) {
  await page.goto(url);
  await page.fill("#name", name);
  await page.click("#enter");
  await page.waitForSelector("#lobby:not([hidden])");
  await page.waitForSelector("#game option[value=hearts]", { state: "attached" });
}

async function endShown(page) {
  return page.$eval("#end", (el) => !el.hidden).catch(() => false);
}

// Where a person taps a card of the hand: its visible left strip (the
// cards of a phone's 13-card hand overlap).
const EDGE = { x: 8, y: 40 };

// One move of the page, if it has one: a pass of three cards, a capture
// choice (tapping the table cards of the first option), or a card.
// What the page shows, in one round trip.
function look(page) {
  return page.evaluate(() => {
    const $ = (id) => document.getElementById(id);
    const codes = (sel) => [...document.querySelectorAll(sel)].map((e) => e.dataset.card);
    const opt = document.querySelector("#capture-options button");
    return {
      end: !$("end").hidden,
      passing: $("turn").dataset.passing === "1",
      selectable: codes("#hand .card.selectable:not(.selected)"),
      selected: codes("#hand .card.selected").length,
      capture: !$("capture-box").hidden && opt ? opt.dataset.cards : null,
      playable: codes("#hand .card.playable"),
      illegal: codes("#hand .card.illegal"),
      received: codes("#hand .card.received").length,
      hand: codes("#hand .card").length,
    };
  }).catch(() => ({ end: false, playable: [], illegal: [], selectable: [] }));
}

async function pageMove(page, stats, v) {
  if (v.passing && stats.reloadInPass && !stats.passReloaded) {
    // a reload while passing: the snapshot's PASSING brings the choice back
    stats.passReloaded = true;
    await page.reload();
    await page.waitForSelector('#turn[data-passing="1"]', { timeout: 10000 });
    return true;
  }
  if (v.passing) {
    for (const c of v.selectable.slice(0, 3 - v.selected)) {
      try {
        await page.click(`#hand .card.selectable[data-card="${c}"]`, { position: EDGE, timeout: 3000 });
      } catch (e) { // the hand changed under the click: look again
        if (++stats.retries > 5) throw e;
        return true;
      }
    }
    if (!stats.passShot) {
      await page.screenshot({ path: join(ARTIFACTS, "pass-hearts.png"), fullPage: true });
      stats.passShot = true;
    }
    try {
      await page.click("#pass", { timeout: 3000 });
    } catch (e) {
      const info = await page.evaluate(() => [document.getElementById("turn").textContent,
        document.getElementById("table-error").textContent, document.getElementById("pass").textContent,
        document.getElementById("pass-box").hidden, document.querySelectorAll("#hand .card.selected").length]);
      throw new Error("cannot pass: " + JSON.stringify(info));
    }
    stats.passes++;
    await page.waitForFunction(() => document.getElementById("turn").dataset.passing !== "1", null, { timeout: 5000 });
    return true;
  }
  if (v.capture) {
    if (!stats.captureShot) {
      await page.screenshot({ path: join(ARTIFACTS, "capture-scopa.png"), fullPage: true });
      stats.captureShot = true;
    }
    for (const code of v.capture.split(" ")) {
      try {
        await page.click(`#table-cards .card.choosable[data-card="${code}"]`, { timeout: 3000 });
      } catch (e) { // the choice changed under the tap: look again
        const seen = await page.evaluate(() => JSON.stringify({ table: state.table, choose: state.choose && state.choose.options, turn: state.turnSeat, me: state.mySeat }));
        console.log(`     (tap on ${code} missed: ${seen})`);
        if (++stats.retries > 5) throw e;
        return true;
      }
    }
    stats.choices++;
    return true;
  }
  if (stats.wantServerOptions && !stats.serverOptions) {
    // once: a card with several captures, played as if the page had not
    // seen them; the server's BADARG lists them and the page lets us choose
    const multi = await page.evaluate(() => state.hand.find((c) => scopaCaptures(state.table, c).length > 1) || null);
    if (multi) {
      await page.evaluate(() => { window.realCaptures = scopaCaptures; window.scopaCaptures = () => []; });
      await page.click(`#hand .card[data-card="${multi}"]`, { position: EDGE });
      await page.waitForSelector("#capture-box:not([hidden])", { timeout: 3000 });
      await page.evaluate(() => { window.scopaCaptures = window.realCaptures; });
      stats.serverOptions = await page.$$eval("#capture-options button", (b) => b.length);
      return true;
    }
  }
  // points first (hearts: the match ends sooner)
  const card = v.playable.find((c) => c === "Qs") || v.playable.filter((c) => c[1] === "h").pop() || v.playable[0];
  if (!card) return false;
  if (!stats.receivedShot && v.received === 3) {
    await page.screenshot({ path: join(ARTIFACTS, "received-hearts.png"), fullPage: true });
    stats.receivedShot = true;
  }
  stats.illegalShown += v.illegal.length;
  if (v.illegal.length && !stats.illegalTried) {
    // a greyed card is refused by the server too, and the page says why
    stats.illegalTried = true;
    await page.click(`#hand .card[data-card="${v.illegal[0]}"]`, { timeout: 2000, position: EDGE });
    await page.waitForFunction(() => document.getElementById("table-error").textContent.length > 0, null, { timeout: 3000 })
      .catch(() => { throw new Error(`the greyed ${v.illegal[0]} was not refused`); });
    stats.illegalError = await page.$eval("#table-error", (e) => e.textContent);
    return true;
  }
  await page.click(`#hand .card.playable[data-card="${card}"]`, { timeout: 2000, position: EDGE }).catch(() => null);
  // counted once the card left the hand (or a capture choice opened)
  await page.waitForFunction((n) => document.querySelectorAll("#hand .card").length !== n ||
    !document.getElementById("capture-box").hidden, v.hand, { timeout: 2000 }).then(() => stats.plays++).catch(() => null);
  return true;
}

// A screenshot of the same table at another viewport size.
async function otherViewport(page, size, file) {
  const was = page.viewportSize();
  await page.setViewportSize(size);
  await page.waitForTimeout(100);
  await page.screenshot({ path: join(ARTIFACTS, file), fullPage: true });
  await page.setViewportSize(was);
  await page.waitForTimeout(50);
}

async function playToEnd(page, clients, stats, shoot, limitMs) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await look(page);
    if (v.end) break;
    if (Date.now() > deadline) throw new Error(`no END after ${stats.plays} plays by the page`);
    for (const c of clients) if (c.err) throw c.err;
    if (await pageMove(page, stats, v)) await shoot();
    else await page.waitForTimeout(15);
  }
  // every client got END too
  for (const c of clients) await c.waitFor(() => c.ended, 5000);
}

async function checkEnd(page, game, want = /^deal verified/) {
  await page.waitForFunction(() => /deal (verified|NOT)/.test(document.getElementById("end-verify").textContent),
    null, { timeout: 10000 });
  const verify = await page.$eval("#end-verify", (e) => e.textContent);
  if (!want.test(verify)) throw new Error(`${game} end screen: ${verify}`);
  const title = await page.$eval("#end-title", (e) => e.textContent);
  const detail = await page.$eval("#end-detail", (e) => e.textContent);
  await page.screenshot({ path: join(ARTIFACTS, `end-${game}.png`) });
  return { title, detail, verify };
}

class Skip extends Error {}
const results = [];
let skipped = 0;
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push([name, null]);
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  } catch (e) {
    if (e instanceof Skip) { skipped++; console.log(`skip ${name}: ${e.message}`); return; }
    results.push([name, e]);
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

const server = await startServer();
const url = `http://127.0.0.1:${server.port}/`;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
mkdirSync(ARTIFACTS, { recursive: true });

try {
  if (!ONLY || ONLY === "scopa") await test("scopa: a desktop page plays a 2-seat match to END; deal verified", async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await enter(page, url, "paola");
    await page.screenshot({ path: join(ARTIFACTS, "lobby-desktop.png"), fullPage: true });
    // bob creates; the page joins from the lobby's list (WATCH, COMMIT,
    // its SEED, then JOIN: §13's careful client)
    const bob = await lineClient(server.port, "bob");
    const c = await bob.send("CREATE scopa 2");
    if (!c.ok) throw new Error(c.text);
    await page.waitForSelector(`#matches li[data-match="${c.words[2]}"] button.join`, { timeout: 10000 });
    await page.click(`#matches li[data-match="${c.words[2]}"] button.join`);
    await page.waitForSelector("#hand .card");
    const stats = { plays: 0, choices: 0, passes: 0, illegalShown: 0, retries: 0, wantServerOptions: true };
    let shot = false;
    const shoot = async () => {
      const onTable = await page.$$eval("#table-cards .card", (e) => e.length);
      if (!shot && stats.plays >= 3 && onTable >= 3) {
        await page.screenshot({ path: join(ARTIFACTS, "table-scopa.png"), fullPage: true });
        await otherViewport(page, { width: 360, height: 740 }, "table-scopa-phone.png");
        shot = true;
      }
    };
    await playToEnd(page, [bob], stats, shoot, 60000);
    if (!shot) await page.screenshot({ path: join(ARTIFACTS, "table-scopa.png"), fullPage: true });
    const end = await checkEnd(page, "scopa");
    const pts = (end.detail.match(/\d+/g) || []).map(Number);
    if (pts.length !== 2 || Math.max(...pts) < 11) throw new Error("scopa END points: " + end.detail);
    if (!end.detail.startsWith("bob ")) throw new Error("seat 0 is bob's: " + end.detail);
    if (!/with your seed/.test(end.verify)) throw new Error("the page's seed was not used: " + end.verify);
    const want = bob.ended[2] === "draw" ? "A draw" : bob.ended[2] === "team1" ? "You won!" : "You lost";
    if (end.title !== want) throw new Error(`title ${end.title}, END ${bob.ended.join(" ")}`);
    // (a deal may give the page no card with several captures: then say so)
    if (!stats.serverOptions) console.log("     scopa: no card with several captures came to the page this time");
    console.log(`     scopa: ${stats.plays} cards by the page, ${stats.choices} capture choices (one from the server's list of ${stats.serverOptions}); ${end.title} ${end.detail}`);
    bob.close();
    await ctx.close();
  });

  if (!ONLY || ONLY === "scopa4") await test("scopa: a phone page plays a 4-seat team match to END; a forged REVEAL is caught", async () => {
    const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    // a server that lies about its secret at REVEAL must be caught
    const tamper = typeof ctx.routeWebSocket === "function";
    if (tamper) {
      await ctx.routeWebSocket(/\/ws$/, (ws) => {
        const server = ws.connectToServer();
        server.onMessage((m) => ws.send(String(m).replace(/^(REVEAL \d+ )([0-9a-f])/,
          (all, head, d) => head + (d === "0" ? "1" : "0"))));
      });
    }
    const page = await ctx.newPage();
    await enter(page, url, "sara");
    await page.selectOption("#game", "scopa");
    await page.selectOption("#seats-n", "4");
    await page.click("#create");
    await page.waitForSelector("#table:not([hidden])");
    const id = await page.$eval("#match-title", (e) => e.textContent.match(/#(\d+)/)[1]);
    const clients = [];
    for (const name of ["tom", "ugo", "vic"]) {
      const c = await lineClient(server.port, name);
      const j = await c.send(`JOIN ${id}`);
      if (!j.ok) throw new Error(j.text);
      clients.push(c);
    }
    await page.waitForSelector("#hand .card");
    const stats = { plays: 0, choices: 0, passes: 0, illegalShown: 0, retries: 0 };
    let shot = false;
    const shoot = async () => {
      if (!shot && stats.plays >= 2) {
        await page.screenshot({ path: join(ARTIFACTS, "table-scopa4.png"), fullPage: true });
        shot = true;
      }
    };
    await playToEnd(page, clients, stats, shoot, 60000);
    const end = await checkEnd(page, "scopa4", tamper ? /^deal NOT verified: COMMIT does not match/ : /^deal verified/);
    const m = /^team 0: (\d+) — team 1: (\d+)$/.exec(end.detail);
    if (!m || Math.max(+m[1], +m[2]) < 11) throw new Error("scopa END points: " + end.detail);
    const res = clients[0].ended[2];
    const want = res === "draw" ? "A draw" : res === "team0" ? "You won!" : "You lost";
    if (end.title !== want) throw new Error(`title ${end.title}, END ${clients[0].ended.join(" ")}`);
    const seats = await page.$$eval("#seats .seat", (els) => els.map((e) => e.textContent));
    if (!seats.every((t) => /team [01]/.test(t))) throw new Error("no teams on the seats: " + seats);
    console.log(`     scopa4: ${stats.plays} cards by the page; ${end.title} ${end.detail}`);
    for (const c of clients) c.close();
    await ctx.close();
  });

  if (!ONLY || ONLY === "hearts") await test("hearts: a phone page passes and plays a 4-seat match to END; deal verified", async () => {
    const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    const page = await ctx.newPage();
    await enter(page, url, "hana");
    await page.screenshot({ path: join(ARTIFACTS, "lobby-phone.png"), fullPage: true });
    await page.selectOption("#game", "hearts");
    await page.click("#create");
    await page.waitForSelector("#table:not([hidden])");
    const id = await page.$eval("#match-title", (e) => e.textContent.match(/#(\d+)/)[1]);
    const clients = [];
    for (const name of ["ivo", "jan", "kim"]) {
      const c = await lineClient(server.port, name);
      const j = await c.send(`JOIN ${id}`);
      if (!j.ok) throw new Error(j.text);
      clients.push(c);
    }
    await page.waitForSelector("#hand .card");
    // 13 cards fit the phone's width
    const box = await page.$eval("#hand", (h) => {
      const cs = [...h.querySelectorAll(".card")].map((c) => c.getBoundingClientRect());
      return { n: cs.length, left: Math.min(...cs.map((r) => r.left)), right: Math.max(...cs.map((r) => r.right)) };
    });
    if (box.n !== 13 || box.left < 0 || box.right > 360) throw new Error("hand does not fit: " + JSON.stringify(box));
    const stats = { plays: 0, choices: 0, passes: 0, illegalShown: 0, retries: 0, reloadInPass: true };
    let shot = false;
    let reloaded = false;
    const shoot = async () => {
      if (!reloaded && stats.plays >= 20) {
        // the tab keeps its token: RESUME, and the snapshot of §12
        await page.reload();
        await page.waitForSelector("#hand .card", { timeout: 10000 });
        const n = await page.$$eval("#hand .card", (els) => els.length);
        if (n < 1 || n > 13) throw new Error(`${n} cards after the reload`);
        reloaded = true;
      }
      if (!shot && stats.plays >= 3) {
        await page.screenshot({ path: join(ARTIFACTS, "table-hearts.png"), fullPage: true });
        await otherViewport(page, { width: 1280, height: 800 }, "table-hearts-desktop.png");
        shot = true;
      }
    };
    await playToEnd(page, clients, stats, shoot, 90000);
    const end = await checkEnd(page, "hearts");
    const pts = (end.detail.match(/\d+/g) || []).map(Number);
    if (pts.length !== 4 || Math.max(...pts) < 100) throw new Error("hearts END points: " + end.detail);
    const res = clients[0].ended[2];
    const want = res === "draw" ? "A draw" : res === "seat0" ? "You won!" : "You lost";
    if (end.title !== want) throw new Error(`title ${end.title}, END ${clients[0].ended.join(" ")}`);
    if (stats.passes < 1) throw new Error("the page never passed");
    if (!reloaded) throw new Error("the match ended before the reload");
    if (!stats.passReloaded) throw new Error("no reload while passing");
    if (!stats.receivedShot) throw new Error("the three cards received were never marked");
    if (stats.illegalShown < 1) throw new Error("no card was ever greyed out");
    console.log(`     hearts: a greyed card refused: ${stats.illegalError}`);
    console.log(`     hearts: ${stats.plays} cards and ${stats.passes} passes by the page, ${stats.illegalShown} greyed cards seen; ${end.title} ${end.detail}`);
    for (const c of clients) c.close();
    await ctx.close();
  });
  if (!ONLY || ONLY === "records") await test("records: ratings per game in the lobby's records panel", async () => {
    const c = new LineClient(server.port, "probe");
    await c.waitFor(() => c.hello);
    const t = await c.send("TOP hearts");
    c.close();
    if (!t.ok) throw new Skip("TOP <game> is not on this server yet");
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await ctx.newPage();
    await page.goto(url);
    await page.fill("#name", "rita");
    await page.fill("#password", "correct-horse-9");
    await page.click("#enter");
    await page.waitForSelector("#lobby:not([hidden])");
    await page.waitForSelector("#rec-game option[value=hearts]", { state: "attached" });
    await page.selectOption("#rec-game", "hearts");
    await page.waitForFunction(() => /^Hearts — rita: rating \d+, 0 played/.test(document.getElementById("stats").textContent),
      null, { timeout: 5000 });
    const note = await page.$eval("#rec-note", (e) => e.textContent);
    if (/not available/.test(note)) throw new Error("records panel: " + note);
    await page.selectOption("#rec-game", "scopa");
    await page.waitForFunction(() => /^Scopa — rita:/.test(document.getElementById("stats").textContent), null, { timeout: 5000 });
    await page.screenshot({ path: join(ARTIFACTS, "records.png"), fullPage: true });
    await ctx.close();
  });

  if (!ONLY || ONLY === "quick") await test("Play now: a page and a socket client meet in the quick-play queue", async () => {
    if (!(await serverHas(server.port, "QUICK ~"))) throw new Skip("QUICK is not on this server yet");
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await ctx.newPage();
    await enter(page, url, "quinn");
    await page.selectOption("#game", "scopa");
    await page.selectOption("#seats-n", "2");
    await page.click("#quick");
    await page.waitForFunction(() => /looking for/.test(document.getElementById("quick-status").textContent));
    await page.screenshot({ path: join(ARTIFACTS, "quick-wait.png"), fullPage: true });
    const rosa = await lineClient(server.port, "rosa");
    const q = await rosa.send("QUICK scopa 2");
    if (!q.ok) throw new Error(q.text);
    await page.waitForSelector("#hand .card", { timeout: 15000 });
    await page.waitForFunction(() => /Play now: found rosa after \d+s/.test(document.getElementById("chat-log").textContent));
    const stats = { plays: 0, choices: 0, passes: 0, illegalShown: 0, retries: 0 };
    await playToEnd(page, [rosa], stats, async () => {}, 60000);
    await checkEnd(page, "quick");
    rosa.close();
    await ctx.close();
  });

  if (!ONLY || ONLY === "bots") await test("Play the computer: a page plays scopa against a bot to END", async () => {
    if (!(await serverHas(server.port, "BOT ~"))) throw new Skip("BOT is not on this server yet");
    const fast = await startServer(["--bot-delay-ms", "30"]).catch(() => null);
    if (!fast) throw new Skip("this server has no --bot-delay-ms");
    try {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await ctx.newPage();
      await enter(page, `http://127.0.0.1:${fast.port}/`, "tess");
      await page.selectOption("#game", "scopa");
      await page.selectOption("#seats-n", "2");
      await page.selectOption("#level", "easy");
      await page.click("#vsbot");
      await page.waitForSelector("#hand .card", { timeout: 15000 });
      const bot = await page.$eval("#seats .seat.bot", (e) => e.textContent);
      if (!/^easy1 \(bot\)/.test(bot)) throw new Error("bot seat: " + bot);
      await page.screenshot({ path: join(ARTIFACTS, "table-bot.png"), fullPage: true });
      const stats = { plays: 0, choices: 0, passes: 0, illegalShown: 0, retries: 0 };
      await playToEnd(page, [], stats, async () => {}, 60000);
      await checkEnd(page, "bot");
      await ctx.close();
    } finally {
      fast.proc.kill("SIGTERM");
    }
  });
  // Play now alone, in every game: nobody else comes, so after
  // --quick-bot-ms the queue seats normal bots, marked at the table.
  if (!ONLY || ONLY === "quickbots") await test("Play now alone in every game: a table with bots within --quick-bot-ms", async () => {
    if (!(await serverHas(server.port, "QUICK ~"))) throw new Skip("QUICK is not on this server yet");
    const QUICK_MS = 1500;
    const fast = await startServer(["--quick-bot-ms", String(QUICK_MS), "--bot-delay-ms", "30"]);
    try {
      const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
      for (const [game, n] of [["briscola", 2], ["briscola", 4], ["scopa", 2], ["hearts", 4]]) {
        const page = await ctx.newPage();
        const frames = []; // [ms, line] of what the server sent the page
        page.on("websocket", (ws) => ws.on("framereceived", (f) => {
          for (const l of String(f.payload).split(/\r?\n/)) if (l) frames.push([Date.now(), l]);
        }));
        await enter(page, `http://127.0.0.1:${fast.port}/`, `pn${game.slice(0, 3)}${n}`);
        await page.selectOption("#game", game);
        if (game !== "hearts") await page.selectOption("#seats-n", String(n));
        const t0 = Date.now();
        await page.click("#quick");
        await page.waitForSelector("#hand .card", { timeout: QUICK_MS + 5000 });
        const waited = Date.now() - t0;
        // the server's side: from OK QUICK to START, --quick-bot-ms (the
        // page's own time adds its rendering, on a loaded machine)
        const at = (re) => (frames.find(([, l]) => re.test(l)) || [null])[0];
        const okAt = at(/^OK QUICK/), startAt = at(/^START /);
        if (okAt === null || startAt === null) throw new Error(`${game} ${n}: no OK QUICK or START in ${JSON.stringify(frames.slice(-5))}`);
        // Not before --quick-bot-ms: counted from the click, which is
        // before the server got QUICK (the frames' times are when this
        // process heard of them: OK QUICK's can come late on a loaded
        // machine, so it bounds the wait from above only).
        const queued = startAt - okAt, sinceClick = startAt - t0;
        if (sinceClick < QUICK_MS - 50 || queued > QUICK_MS + 1000)
          throw new Error(`${game} ${n}: START ${sinceClick} ms after the click and ${queued} ms after OK QUICK, --quick-bot-ms ${QUICK_MS}`);
        const bots = await page.$$eval("#seats .seat.bot", (els) => els.map((e) => e.textContent));
        if (bots.length !== n - 1 || !bots.every((t) => /^normal\d \(bot\)/.test(t)))
          throw new Error(`${game} ${n}: bot seats ${JSON.stringify(bots)}`);
        await page.waitForFunction(() => /Play now: found (normal\d \(bot\)(, )?)+ after \d+s/.test(document.getElementById("chat-log").textContent),
          null, { timeout: 3000 });
        await page.screenshot({ path: join(ARTIFACTS, `quick-bots-${game}${n}.png`), fullPage: true });
        // the page plays: the bots answer (its first move, or pass)
        const stats = { plays: 0, choices: 0, passes: 0, illegalShown: 0, retries: 0 };
        const deadline = Date.now() + 15000;
        while (stats.plays + stats.passes < 1) {
          if (Date.now() > deadline) throw new Error(`${game} ${n}: the page never moved`);
          const v = await look(page);
          if (!(await pageMove(page, stats, v))) await page.waitForTimeout(20);
        }
        console.log(`     Play now ${game} ${n}: START ${queued} ms after OK QUICK (the hand on the page after ${waited} ms), with ${bots.map((t) => t.split(" (bot)")[0]).join(", ")}`);
        await page.close();
      }
      await ctx.close();
    } finally {
      fast.proc.kill("SIGTERM");
    }
  });

  // A waiting match of our own: "Add a bot" of each level fills it.
  if (!ONLY || ONLY === "addbot") await test("Add a bot: a waiting 4-seat match filled with bots of three levels, marked", async () => {
    if (!(await serverHas(server.port, "BOT ~"))) throw new Skip("BOT is not on this server yet");
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await enter(page, url, "abby");
    await page.selectOption("#game", "briscola");
    await page.selectOption("#seats-n", "4");
    await page.click("#create");
    await page.waitForSelector("#bot-box:not([hidden])");
    for (const [i, level] of ["hard", "easy", "normal"].entries()) {
      await page.selectOption("#bot-level", level);
      await page.click("#add-bot");
      if (i < 2) await page.waitForFunction((k) => document.querySelectorAll("#seats .seat.bot").length === k, i + 1, { timeout: 5000 });
    }
    await page.waitForSelector("#hand .card", { timeout: 10000 });
    const seats = await page.$$eval("#seats .seat", (els) => els.map((e) => [e.className, e.textContent]));
    const bots = seats.filter(([c]) => / bot/.test(c)).map(([, t]) => t.split(" (bot)")[0]);
    if (JSON.stringify(bots) !== JSON.stringify(["hard1", "easy2", "normal3"])) throw new Error("bot seats: " + JSON.stringify(seats));
    if (!(await page.$eval("#bot-box", (e) => e.hidden))) throw new Error("Add a bot still offered in a match in play");
    await page.screenshot({ path: join(ARTIFACTS, "add-bot.png"), fullPage: true });
    await ctx.close();
  });
} finally {
  await browser.close();
  server.proc.kill("SIGTERM");
}

const failed = results.filter(([, e]) => e).length;
console.log(`${results.length - failed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
if (!results.length && skipped) console.log("skipped: nothing to test on this server");
process.exit(failed ? 1 : !results.length && skipped ? 77 : 0);
