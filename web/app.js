// tavolo web client: the line protocol over a WebSocket (docs/PROTOCOL.md).
// Every command gets exactly one OK/ERR reply, in order, so replies are
// matched to a FIFO of pending commands; everything else is an event.
// Plays briscola, scopa and hearts (§7, §12); checks every deal (§13,
// web/deal.js); quick play and bots (§14) where the server has them.
"use strict";

const $ = (id) => document.getElementById(id);
const SUITS = { c: "♣", d: "♦", h: "♥", s: "♠" };
const RANKS = { A: "A", 2: "2", 3: "3", 4: "4", 5: "5", 6: "6", 7: "7", J: "J", Q: "Q", K: "K", 8: "8", 9: "9", T: "10" };
const SCOPA_VALUE = { A: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, J: 8, Q: 9, K: 10 };
const GAME_NAMES = { briscola: "Briscola", scopa: "Scopa", hearts: "Hearts" };
const DIR_TEXT = { left: "to the left", right: "to the right", across: "across" };

const state = {
  ws: null, pending: [], name: null, token: sessionStorage.getItem("tavolo.token"),
  registered: sessionStorage.getItem("tavolo.registered") === "1", lastList: [],
  games: { briscola: [2, 4] }, retry: 0, listTimer: null, quick: null,
  noQuick: false, noBots: false, noGameStats: false,
  // one Recorder for the whole page: it sees every line the server sends
  rec: new tavoloDeal.Recorder(), verified: {},
};

// ---------- connection ----------

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/ws`);
  state.ws = ws;
  state.pending = [];
  setConn("connecting…");
  ws.onmessage = (e) => onLine(String(e.data));
  ws.onclose = () => {
    if (state.ws !== ws) return;
    setConn("offline — reconnecting");
    const wait = Math.min(5000, 250 * 2 ** state.retry++);
    setTimeout(connect, wait);
  };
}

function setConn(text) { $("conn").textContent = text; }

function send(line) {
  return new Promise((resolve) => {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) {
      // never queue a reply slot for a line that was not sent: replies are
      // matched to commands by order
      resolve({ ok: false, words: ["ERR", "OFFLINE"], text: "ERR OFFLINE not connected, retrying" });
      return;
    }
    state.ws.send(line);
    state.pending.push(resolve);
  });
}

function onLine(line) {
  try { state.rec.line(line); } catch (e) { console.error("deal recorder", e); }
  const w = line.split(" ");
  if (w[0] === "HELLO") return onHello();
  if (w[0] === "OK" || w[0] === "ERR") {
    const resolve = state.pending.shift();
    if (resolve) resolve({ ok: w[0] === "OK", words: w, text: line });
    return;
  }
  onEvent(w, line);
}

async function onHello() {
  state.retry = 0;
  setConn("online");
  loadGames();
  if (state.token) {
    const r = await send("RESUME " + state.token);
    if (r.ok) {
      state.name = r.words[2];
      saveToken(r.words[3]);
      showMe();
      if (!r.words[4]) enterLobby();
      return; // a match snapshot follows as events
    }
    saveToken(null);
  }
  show("login");
}

async function loadGames() {
  const r = await send("GAMES");
  if (!r.ok) return;
  const games = {};
  for (const g of r.words.slice(2)) {
    const [name, seats] = g.split(":");
    if (name && seats) games[name] = seats.split(",").map(Number);
  }
  if (Object.keys(games).length) state.games = games;
  renderGamePicker();
}

function saveToken(t) {
  state.token = t;
  if (t) sessionStorage.setItem("tavolo.token", t);
  else sessionStorage.removeItem("tavolo.token");
}

// 16 random bytes as hex: this tab's seed for the next deal (§13)
function randomSeed() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// ---------- screens ----------

function show(which) {
  for (const id of ["login", "lobby", "table"]) $(id).hidden = id !== which;
  if (which === "lobby") startListing(); else stopListing();
}

function showMe() { $("me").textContent = state.name ? "as " + state.name : ""; }

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const name = $("name").value.trim(), pw = $("password").value;
  if (!/^[A-Za-z0-9_-]{1,16}$/.test(name)) {
    $("login-error").textContent = "1–16 letters, digits, _ or -";
    return;
  }
  if (/\s/.test(pw)) { $("login-error").textContent = "no spaces in the password"; return; }
  $("enter").disabled = true;
  const r = await send(pw ? `NICK ${name} ${pw}` : `NICK ${name}`);
  $("enter").disabled = false;
  if (!r.ok) { $("login-error").textContent = explain(r); return; }
  state.name = name;
  state.registered = Boolean(pw);
  sessionStorage.setItem("tavolo.registered", state.registered ? "1" : "");
  saveToken(r.words[3]);
  showMe();
  enterLobby();
});

function explain(r) {
  return r.text.replace(/^ERR \S+ ?/, "");
}

// ---------- lobby ----------

function option(value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  return o;
}

function renderGamePicker() {
  for (const id of ["game", "rec-game"]) {
    const sel = $(id), keep = sel.value;
    sel.replaceChildren(...Object.keys(state.games).map((g) =>
      option(g, `${GAME_NAMES[g] || g}` + (id === "game" ? ` (${state.games[g].join(" or ")} players)` : ""))));
    if (keep && state.games[keep]) sel.value = keep;
  }
  renderSeatPicker();
}

function renderSeatPicker() {
  const game = $("game").value, sel = $("seats-n"), keep = Number(sel.value);
  const counts = state.games[game] || [2];
  sel.replaceChildren(...counts.map((n) => option(n, n === 4 && game !== "hearts" ? "4 (teams)" : `${n}`)));
  if (counts.includes(keep)) sel.value = String(keep);
}
$("game").addEventListener("change", renderSeatPicker);
$("rec-game").addEventListener("change", () => refreshRecords());

function chosen() { return { game: $("game").value || "briscola", seats: Number($("seats-n").value) || 2 }; }

function enterLobby() {
  resetTable();
  show("lobby");
  probeFeatures();
}

// Does this server have QUICK and BOT (§14)? Asked with arguments that can
// never start anything: a server without them says BADCMD (§9: the verb is
// checked before the arguments).
async function probeFeatures() {
  if (state.probed === state.ws) return;
  state.probed = state.ws;
  const q = await send("QUICK ~");
  const b = await send("BOT ~");
  state.noQuick = q.words[1] === "BADCMD";
  state.noBots = b.words[1] === "BADCMD";
  renderFeatures();
}

function renderFeatures() {
  for (const [id, off, what] of [["quick", state.noQuick, "Play now"], ["vsbot", state.noBots, "Play the computer"]]) {
    $(id).disabled = off || (id === "quick" && Boolean(state.quick));
    $(id).title = off ? `${what} is not available on this server` : "";
  }
  $("level").disabled = state.noBots;
  const missing = [state.noQuick && "Play now", state.noBots && "playing the computer"].filter(Boolean);
  $("feature-note").textContent = missing.length ? `${missing.join(" and ")}: not available on this server` : "";
}

function startListing() {
  refreshLobby();
  stopListing();
  state.listTimer = setInterval(refreshLobby, 3000);
}

function stopListing() {
  if (state.listTimer) clearInterval(state.listTimer);
  state.listTimer = null;
}

async function refreshLobby() {
  if (!state.ws || state.ws.readyState !== 1) return;
  const r = await send("LIST");
  if (r.ok) {
    state.lastList = r.words.slice(3);
    renderMatches(state.lastList);
  }
  await refreshRecords();
}

// STATS/TOP of the game picked in the records panel (§14: briscola is the
// default, so it is asked for as in version 1).
async function refreshRecords() {
  const game = $("rec-game").value || "briscola";
  const other = game !== "briscola";
  const top = await send(other ? `TOP ${game}` : "TOP");
  if (top.ok) {
    $("rec-note").textContent = "";
    const rows = top.words.slice(3).map((x) => {
      const [n, rating] = x.split(":");
      const li = document.createElement("li");
      li.textContent = `${n} — ${rating}`;
      return li;
    });
    $("top").replaceChildren(...rows);
    if (!rows.length) $("rec-note").textContent = "nobody rated yet";
  } else if (other) {
    $("top").replaceChildren();
    $("rec-note").textContent = `ratings per game are not available on this server`;
  }
  if (!state.registered || !state.name) return; // guests have no record
  const st = await send(other ? `STATS ${state.name} ${game}` : "STATS");
  if (st.ok) {
    const [, , n, rating, played, won, lost, drawn] = st.words;
    $("stats").textContent = `${GAME_NAMES[game] || game} — ${n}: rating ${rating}, ${played} played — ${won} won, ${lost} lost, ${drawn} drawn`;
  } else if (other) {
    $("stats").textContent = `no ${game} record on this server`;
  }
}

function renderMatches(items) {
  const filter = $("filter").value.trim().toLowerCase();
  const onlyWaiting = $("only-waiting").checked;
  const list = $("matches");
  const rows = items.map((it) => {
    const [id, game, seated, state_] = it.split(":");
    return { id, game, seated, state: state_ };
  }).filter((m) => (!onlyWaiting || m.state === "waiting") &&
    (!filter || `${m.id} ${m.state} ${m.game}`.toLowerCase().includes(filter)));
  if (rows.length === 0) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = "no matches yet: create one";
    list.replaceChildren(li);
    return;
  }
  list.replaceChildren(...rows.map((m) => {
    const li = document.createElement("li");
    li.dataset.match = m.id;
    li.dataset.game = m.game;
    const label = document.createElement("span");
    label.className = "grow";
    label.textContent = `#${m.id} ${GAME_NAMES[m.game] || m.game} — ${m.seated} seated — ${m.state}`;
    li.append(label);
    if (m.state === "waiting") li.append(button("Join", "join", () => join(m.id)));
    li.append(button("Watch", "watch quiet", () => watch(m.id)));
    return li;
  }));
}

function button(text, cls, fn) {
  const b = document.createElement("button");
  b.textContent = text;
  b.className = cls;
  b.addEventListener("click", fn);
  return b;
}

// filtering works on the last list: no command per keystroke
$("filter").addEventListener("input", () => renderMatches(state.lastList));
$("only-waiting").addEventListener("change", () => renderMatches(state.lastList));

function lobbyError(text) { $("lobby-error").textContent = text; }

async function create() {
  const { game, seats } = chosen();
  const r = await send(`CREATE ${game} ${seats}`);
  if (!r.ok) { lobbyError(explain(r)); return null; }
  const id = Number(r.words[2]);
  openTable(id, false);
  Object.assign(state, { game, nSeats: seats });
  render();
  return id;
}
$("create").addEventListener("click", () => create());

// Resolves when the COMMIT of match id has been seen (or after ms).
function commitSeen(id, ms) {
  if (state.commits && state.commits.has(id)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => { state.commitWait = null; resolve(false); }, ms);
    state.commitWait = { id, done: () => { clearTimeout(t); state.commitWait = null; resolve(true); } };
  });
}

// The game and seat count of a listed match, for its table before START.
function listed(id) {
  const it = state.lastList.map((x) => x.split(":")).find((x) => Number(x[0]) === id);
  return it ? { game: it[1], nSeats: Number((it[2] || "").split("/")[1]) || 0 } : {};
}

// §13: watch first, see the COMMIT, choose a seed, then take the seat.
async function join(id) {
  id = Number(id);
  const known = listed(id);
  const w = await send(`WATCH ${id}`);
  if (w.ok) {
    openTable(id, true);
    Object.assign(state, known);
    await commitSeen(id, 1500);
    await send("SEED " + randomSeed());
    state.seedSent = true;
  }
  const r = await send(`JOIN ${id}`);
  if (!r.ok) {
    if (w.ok) await send("LEAVE");
    enterLobby();
    lobbyError(explain(r));
    return;
  }
  state.watching = false;
  state.mySeat = Number(r.words[3]);
  openTable(id, false);
}

async function watch(id) {
  const r = await send(`WATCH ${id}`);
  if (!r.ok) { lobbyError(explain(r)); return; }
  const known = listed(Number(id));
  openTable(Number(id), true);
  if (!state.started) Object.assign(state, known);
  render();
}

// Play now (§14 QUICK): wait in the queue until a table forms.
$("quick").addEventListener("click", async () => {
  const { game, seats } = chosen();
  lobbyError("");
  const r = await send(`QUICK ${game} ${seats}`);
  if (!r.ok) {
    if (r.words[1] === "BADCMD") { state.noQuick = true; renderFeatures(); }
    else lobbyError(explain(r));
    return;
  }
  state.quick = { game, seats, since: Date.now() };
  $("quick-box").hidden = false;
  $("quick").disabled = true;
  tickQuick();
});

function tickQuick() {
  if (!state.quick) return;
  const s = Math.floor((Date.now() - state.quick.since) / 1000);
  $("quick-status").textContent = `looking for ${state.quick.seats - 1} player${state.quick.seats > 2 ? "s" : ""} for ${GAME_NAMES[state.quick.game]}… ${s}s`;
}

$("quick-cancel").addEventListener("click", async () => {
  await send("LEAVE");
  stopQuick("");
});

function stopQuick(text) {
  state.quick = null;
  $("quick-box").hidden = !text;
  $("quick-cancel").hidden = Boolean(text);
  $("quick").disabled = false;
  $("quick-status").textContent = text;
}

// Play the computer: a match of our own, our seed, then a bot per free seat.
$("vsbot").addEventListener("click", async () => {
  const { seats } = chosen();
  const level = $("level").value;
  lobbyError("");
  const id = await create();
  if (id === null) return;
  await commitSeen(id, 1500);
  for (let i = 1; i < seats; i++) {
    if (await addBot(level)) continue;
    if (state.noBots) { // a server without bots: give the match up again
      await send("LEAVE");
      enterLobby();
      renderFeatures();
    }
    break;
  }
});

async function addBot(level) {
  const r = await send(`BOT ${level}`);
  if (r.ok) return true;
  if (r.words[1] === "BADCMD") {
    state.noBots = true;
    tableError("bots are not available on this server");
  } else tableError(explain(r));
  render();
  return false;
}
$("add-bot").addEventListener("click", () => addBot($("bot-level").value));

// ---------- the table ----------

function freshTable() {
  return { match: null, game: "briscola", seats: [], mySeat: null, hand: [], trump: null,
    trick: [], taken: [], turnSeat: null, deadline: 0, away: new Set(), watching: false,
    cardsPlayed: 0, ended: false, started: false, totals: null, dealNo: 0,
    table: [], lastPlay: null, lastTake: null, captured: [], sweeps: [],
    passing: null, passed: new Set(), selected: new Set(), received: new Set(),
    handCards: 0, heartsBroken: false, choose: null, endInfo: null, commits: new Set(),
    seedSent: false, quickFound: null, scoreNote: "", nSeats: 0 };
}

function resetTable() {
  Object.assign(state, freshTable());
  $("chat-log").replaceChildren();
  $("end").hidden = true;
  tableError("");
}

function tableError(text) { $("table-error").textContent = text; }

function openTable(id, watching) {
  if (state.match !== id) resetTable();
  state.match = id;
  state.watching = watching;
  show("table");
  render();
}

function onEvent(w, line) {
  const id = Number(w[1]);
  if (state.match === null || state.match !== id) {
    if (["START", "SEATED"].includes(w[0]) && !state.ended) {
      if (state.quick) {
        const waited = Math.round((Date.now() - state.quick.since) / 1000);
        stopQuick("");
        state.quickFound = waited;
      }
      const found = state.quickFound;
      openTable(id, false);
      state.quickFound = found;
    } else return;
  }
  const n = state.seats.length;
  switch (w[0]) {
    case "SEATED": {
      state.seats[+w[2]] = w[3];
      if (w[3] === state.name && !state.watching) state.mySeat = +w[2];
      break;
    }
    case "UNSEATED": delete state.seats[+w[2]]; break;
    case "COMMIT": {
      state.commits.add(id);
      if (state.commitWait && state.commitWait.id === id) state.commitWait.done();
      // a seed chosen after the commitment, while it can still count (§13)
      if (!state.watching && !state.started && !state.seedSent) {
        state.seedSent = true;
        send("SEED " + randomSeed());
      }
      break;
    }
    case "START": {
      const k = +w[3];
      state.game = w[2];
      state.seats = w.slice(4, 4 + k);
      state.mySeat = state.seats.indexOf(state.name);
      if (state.mySeat < 0) { state.mySeat = null; state.watching = true; }
      state.taken = new Array(k).fill(0);
      state.captured = new Array(k).fill(0);
      state.sweeps = new Array(k).fill(0);
      state.trick = [];
      state.away = new Set();
      state.started = true;
      if (state.quickFound !== null) {
        const others = state.seats.filter((s, i) => i !== state.mySeat).map(displayName);
        chat(`Play now: found ${others.join(", ")} after ${state.quickFound}s`);
        state.quickFound = null;
      }
      break;
    }
    case "TRUMP": state.trump = w[2]; break;
    case "DEAL": {
      state.dealNo = +w[2];
      state.trick = []; state.table = []; state.lastPlay = null; state.lastTake = null;
      state.taken = new Array(n).fill(0);
      state.captured = new Array(n).fill(0);
      state.sweeps = new Array(n).fill(0);
      state.passing = null; state.passed = new Set(); state.selected = new Set();
      state.received = new Set(); state.handCards = 0; state.heartsBroken = false;
      state.choose = null;
      if (state.dealNo > 1) chat(`hand ${state.dealNo}`);
      break;
    }
    case "TABLE": state.table = w.slice(2); break;
    case "HAND": state.hand = w.slice(2); state.choose = null; break;
    case "DRAW": state.hand.push(w[2]); break;
    case "TURN": {
      state.turnSeat = +w[2]; state.deadline = Date.now() + +w[3];
      state.passing = null;
      break;
    }
    case "PASSING": {
      state.passing = { dir: w[2], deadline: Date.now() + +w[3], done: false };
      state.passed = new Set();
      state.selected = new Set();
      state.turnSeat = null;
      break;
    }
    case "PASSED": {
      state.passed.add(+w[2]);
      if (+w[2] === state.mySeat && state.passing) state.passing.done = true;
      break;
    }
    case "RECEIVED": state.received = new Set(w.slice(2)); break;
    case "PLAYED": {
      const seat = +w[2], code = w[3];
      if (state.game === "scopa") {
        state.table.push(code);
        state.lastPlay = { seat, card: code, took: null };
      } else {
        // a finished trick stays on the felt until the next card is played
        if (state.trick.length === n) state.trick = [];
        state.trick.push([seat, code]);
      }
      state.cardsPlayed++;
      state.handCards++;
      state.scoreNote = "";
      if (code[1] === "h") state.heartsBroken = true;
      if (seat === state.mySeat) {
        state.hand = state.hand.filter((c) => c !== code);
        state.received = new Set();
      }
      break;
    }
    case "TAKE": {
      const seat = +w[2], cards = w.slice(3);
      const gone = new Set(cards);
      const lp = state.lastPlay;
      if (lp && lp.seat === seat && lp.took === null) { gone.add(lp.card); lp.took = cards; }
      state.table = state.table.filter((c) => !gone.has(c));
      state.captured[seat] = (state.captured[seat] || 0) + gone.size;
      state.lastTake = { seat, cards, with: lp && lp.took === cards ? lp.card : null };
      break;
    }
    case "SWEEP": state.sweeps[+w[2]] = (state.sweeps[+w[2]] || 0) + 1; chat(`scopa! by ${displayName(state.seats[+w[2]])}`); break;
    case "TRICK": state.taken[+w[2]] += +w[3]; break;
    case "SCORE": {
      const before = state.totals || [];
      state.totals = w.slice(2).map(Number);
      if (state.handCards > 0) {
        // the hand's own points, then the match totals
        const gain = state.totals.map((t, i) => t - (before[i] || 0));
        const text = `hand ${state.dealNo}: ${scoreText(gain, true)} — totals ${scoreText(state.totals)}`;
        chat(text);
        state.scoreNote = text;
      }
      break;
    }
    case "TIMEOUT": chat(`${state.seats[+w[2]]} ran out of time`); break;
    case "AWAY": state.away.add(+w[2]); chat(`${state.seats[+w[2]]} dropped; seat held`); break;
    case "BACK": state.away.delete(+w[2]); chat(`${state.seats[+w[2]]} is back`); break;
    case "REPLACED": state.seats[+w[2]] = w[3]; chat(`a bot (${w[3]}) took seat ${w[2]}`); break;
    case "CHAT": chat(`${w[2]}: ${w.slice(3).join(" ")}`, false); break;
    case "END": showEnd(w); break;
  }
  render();
}

function teams() { return state.game !== "hearts" && state.seats.length === 4; }

function scoreText(t, signed) {
  const f = (v) => (signed && v >= 0 ? `+${v}` : `${v}`);
  if (teams()) return `team 0 ${f(t[0])}, team 1 ${f(t[1])}`;
  return state.seats.map((s, i) => `${displayName(s)} ${f(t[i])}`).join(", ");
}

function chat(text, sys = true) {
  const li = document.createElement("li");
  li.textContent = text;
  if (sys) li.className = "sys";
  $("chat-log").append(li);
  $("chat-log").scrollTop = 1e9;
}

function isBot(name) { return typeof name === "string" && name.startsWith("~"); }
function displayName(name) { return isBot(name) ? `${name.slice(1)} (bot)` : name ?? "—"; }

function cardEl(code, small) {
  const el = document.createElement("div");
  const suit = code[1];
  el.className = "card" + (suit === "d" || suit === "h" ? " red" : "") + (small ? " small" : "");
  el.dataset.card = code;
  el.title = code;
  el.innerHTML = `<span class="r${code[0] === "T" ? " ten" : ""}">${RANKS[code[0]]}<span class="rs">${SUITS[suit]}</span></span><span class="big">${SUITS[suit]}</span><span class="s">${SUITS[suit]}</span>`;
  return el;
}

function teamPoints(t) {
  return state.taken.reduce((sum, p, s) => sum + (s % 2 === t ? p : 0), 0);
}

// ---- scopa: the captures open to a card (§12), as lists of table cards ----

function scopaCaptures(table, card) {
  const same = table.filter((c) => c[0] === card[0]);
  if (same.length) return same.map((c) => [c]);
  const v = SCOPA_VALUE[card[0]], out = [];
  const vals = table.map((c) => SCOPA_VALUE[c[0]]);
  const walk = (i, sum, pick) => {
    if (sum === v && pick.length) { out.push(pick.map((k) => table[k])); return; }
    if (sum >= v || i >= table.length) return;
    walk(i + 1, sum + vals[i], [...pick, i]);
    walk(i + 1, sum, pick);
  };
  walk(0, 0, []);
  return out;
}

const sameSet = (a, b) => a.length === b.length && a.every((c) => b.includes(c));

// ---- hearts: which cards of the hand may be played now (§12) ----

function heartsLegal(hand) {
  const n = state.seats.length;
  const trick = state.trick.length === n ? [] : state.trick;
  const firstTrick = hand.length + (trick.some(([s]) => s === state.mySeat) ? 1 : 0) === 13;
  const pointy = (c) => c[1] === "h" || c === "Qs";
  if (trick.length) {
    const led = trick[0][1][1];
    const follow = hand.filter((c) => c[1] === led);
    if (follow.length) return follow;
    if (firstTrick && !hand.every(pointy)) return hand.filter((c) => !pointy(c));
    return hand;
  }
  if (hand.includes("2c")) return ["2c"];
  // a snapshot may hide earlier hearts: then leave the check to the server
  const seenAll = state.handCards >= 4 * (13 - hand.length);
  if (!state.heartsBroken && seenAll && !hand.every((c) => c[1] === "h"))
    return hand.filter((c) => c[1] !== "h");
  return hand;
}

// Why hearts forbids a card now, in words (the server's text is generic).
function whyIllegal(code) {
  if (state.game !== "hearts") return "";
  const trick = state.trick.length === state.seats.length ? [] : state.trick;
  const hand = state.hand, pointy = (c) => c[1] === "h" || c === "Qs";
  if (trick.length) {
    const led = trick[0][1][1];
    if (code[1] !== led && hand.some((c) => c[1] === led)) return `follow suit: play a ${SUITS[led]}`;
    if (pointy(code)) return "no heart or Q♠ on the first trick";
    return "";
  }
  if (hand.includes("2c")) return "the 2♣ leads the first trick";
  if (code[1] === "h") return "hearts are not broken yet";
  return "";
}

function sortHand(hand) {
  if (state.game !== "hearts") return hand;
  const order = "23456789TJQKA", suits = "cdsh";
  return [...hand].sort((a, b) => suits.indexOf(a[1]) - suits.indexOf(b[1]) || order.indexOf(a[0]) - order.indexOf(b[0]));
}

// Lays n cards out in the hand's width, overlapping when they do not fit.
function fan(box, els) {
  box.replaceChildren(...els);
  box.classList.remove("tight");
  const width = box.clientWidth;
  if (els.length < 2 || width <= 0) return;
  const cardW = els[0].offsetWidth || 72, gap = 10;
  const step = Math.min(cardW + gap, (width - cardW - 4) / (els.length - 1));
  box.classList.toggle("tight", step < cardW);
  els.forEach((el, i) => { el.style.marginLeft = i ? `${step - cardW}px` : "0"; });
}

function seatLabel(s) {
  const name = state.seats[s];
  const parts = [name ? displayName(name) : "free seat"];
  if (!state.started) return parts[0];
  if (state.game === "briscola") parts.push(`${state.taken[s] ?? 0} pts`);
  if (state.game === "scopa") {
    parts.push(`${state.captured[s] ?? 0} cards`);
    if (state.sweeps[s]) parts.push(`${state.sweeps[s]} scope`);
  }
  if (state.game === "hearts") parts.push(`${state.taken[s] ?? 0} pts`);
  if (state.totals) parts.push(`total ${state.totals[s]}`);
  if (teams()) parts.push(`team ${s % 2}`);
  if (state.passing && state.passed.has(s)) parts.push("✓ passed");
  return parts.join(" · ");
}

function waitingNote() {
  const free = state.nSeats - state.seats.filter(Boolean).length;
  return !state.started && free > 0 ? `match #${state.match}: waiting for ${free} more player${free > 1 ? "s" : ""}` : "";
}

function render() {
  if (state.match === null) return;
  const game = state.game, started = state.started;
  $("match-title").innerHTML = `<span class="mt-id">#${state.match} </span>` + (started || state.nSeats ? `${GAME_NAMES[game] || game}` : "") +
    (state.dealNo ? ` · hand ${state.dealNo}` : "") + (state.watching ? " (watching)" : "");
  const nSeats = Math.max(state.seats.length, state.nSeats || 0);
  $("seats").replaceChildren(...Array.from({ length: nSeats }, (_, s) => {
    const el = document.createElement("span");
    el.className = "seat" + (s === state.turnSeat ? " turn" : "") +
      (s === state.mySeat ? " me" : "") + (state.away.has(s) ? " away" : "") +
      (isBot(state.seats[s]) ? " bot" : "") + (state.seats[s] ? "" : " free") + (state.passed.has(s) && state.passing ? " passed" : "");
    el.dataset.seat = s;
    el.textContent = seatLabel(s);
    return el;
  }));

  // waiting: offer a bot for a free seat
  const waitingSeat = !started && !state.watching && state.mySeat !== null && !state.ended;
  $("bot-box").hidden = !waitingSeat || state.noBots;

  $("felt").dataset.game = game;
  $("trump-box").hidden = game !== "briscola" || !started;
  $("trump").replaceChildren(...(state.trump ? [cardEl(state.trump, true)] : []));
  const left = Math.max(0, 40 - state.seats.length * 3 - Math.floor(state.cardsPlayed / state.seats.length) * state.seats.length);
  $("deck-left").textContent = state.trump ? `${left} left` : "";

  const myTurn = started && !state.ended && state.turnSeat !== null && state.turnSeat === state.mySeat && !state.watching;
  // a capture choice lives only while it is our turn and its cards are all on the table
  if (state.choose && (!myTurn || !state.hand.includes(state.choose.card) ||
      !state.choose.options.every((o) => o.every((c) => state.table.includes(c))))) state.choose = null;
  const passing = game === "hearts" && state.passing && !state.watching && state.mySeat !== null;

  // scopa's table cards; the trick elsewhere
  const choose = state.choose;
  $("table-cards").hidden = game !== "scopa";
  $("trick").hidden = game === "scopa";
  if (game === "scopa") {
    $("table-cards").replaceChildren(...state.table.map((code) => {
      const el = cardEl(code, false);
      if (choose && choose.options.some((o) => o.includes(code))) {
        el.classList.add("choosable");
        if (choose.picked.has(code)) el.classList.add("picked");
        el.addEventListener("click", () => pickTableCard(code));
      }
      return el;
    }));
    if (!state.table.length) {
      const e = document.createElement("div");
      e.className = "muted felt-note";
      e.textContent = started ? "the table is empty" : "";
      $("table-cards").append(e);
    }
    const lt = state.lastTake, lp = state.lastPlay;
    let note = "";
    if (lp && lp.took) note = `${displayName(state.seats[lp.seat])} took ${lp.took.join(" ")} with ${lp.card}`;
    else if (lp) note = `${displayName(state.seats[lp.seat])} laid ${lp.card}`;
    else if (lt) note = `${displayName(state.seats[lt.seat])} took ${lt.cards.join(" ")}`;
    $("felt-note").textContent = waitingNote() || state.scoreNote || note;
  } else {
    $("felt-note").textContent = waitingNote() || state.scoreNote;
    $("trick").replaceChildren(...state.trick.map(([seat, code]) => {
      const box = document.createElement("div");
      box.className = "played";
      box.append(cardEl(code, false));
      const who = document.createElement("div");
      who.textContent = displayName(state.seats[seat]) ?? `seat ${seat}`;
      box.append(who);
      return box;
    }));
  }

  // the hand
  const legal = myTurn && game === "hearts" ? new Set(heartsLegal(state.hand)) : null;
  const hand = sortHand(state.hand);
  const els = hand.map((code) => {
    const el = cardEl(code, false);
    if (state.received.has(code)) el.classList.add("received");
    if (passing && !state.passing.done) {
      el.classList.add("selectable");
      if (state.selected.has(code)) el.classList.add("selected");
      el.addEventListener("click", () => toggleSelect(code));
    } else if (myTurn) {
      if (legal && !legal.has(code)) el.classList.add("illegal");
      else el.classList.add("playable");
      if (choose && choose.card === code) el.classList.add("selected");
      el.addEventListener("click", () => play(code));
    }
    return el;
  });
  $("hand").classList.toggle("many", hand.length > 6);
  fan($("hand"), els);

  // hearts' pass
  $("pass-box").hidden = !passing;
  if (passing) {
    const k = state.selected.size;
    $("pass").disabled = k !== 3 || state.passing.done;
    const dir = DIR_TEXT[state.passing.dir] || state.passing.dir;
    $("pass").textContent = state.passing.done ? "Passed — waiting for the others" : `Pass ${k}/3 ${dir}`;
    $("pass-help").textContent = state.passing.done ? "" : `Tap three cards to pass ${dir}` +
      (DIR_TEXT[state.passing.dir] && state.mySeat !== null ? `, to ${displayName(passTarget())}` : "");
  }

  // scopa's capture choice
  $("capture-box").hidden = !choose;
  if (choose) {
    $("capture-options").replaceChildren(...choose.options.map((o) => {
      const b = button(`take ${o.join(" + ")}`, "option", () => playCapture(choose.card, o));
      b.dataset.cards = o.join(" ");
      return b;
    }));
  }

  let turn;
  if (!started) {
    const taken = state.seats.filter(Boolean).length;
    turn = "waiting for players" + (state.nSeats ? ` (${taken}/${state.nSeats})` : "");
  }
  else if (state.ended) turn = "match over";
  else if (passing) turn = state.passing.done ? "waiting for the pass" : "pass 3 cards";
  else if (state.passing) turn = "passing";
  else if (myTurn) turn = choose ? "choose what to take" : "your turn";
  else turn = `${displayName(state.seats[state.turnSeat]) ?? "…"}'s turn`;
  $("turn").textContent = turn;
  $("turn").dataset.myturn = myTurn ? "1" : "0";
  $("turn").dataset.passing = passing && !state.passing.done ? "1" : "0";
  $("leave").textContent = state.watching ? "Stop watching" : "Leave";
}

// The seat our three cards go to (§12: left i+1, right i-1, across i+2).
function passTarget() {
  const n = state.seats.length, d = { left: 1, right: n - 1, across: 2 }[state.passing.dir] || 0;
  return state.seats[(state.mySeat + d) % n];
}

function toggleSelect(code) {
  if (state.selected.has(code)) state.selected.delete(code);
  else if (state.selected.size < 3) state.selected.add(code);
  render();
}

$("pass").addEventListener("click", async () => {
  if (state.selected.size !== 3) return;
  const cards = [...state.selected];
  if (state.passing) state.passing.done = true; // no second PASS while this one is answered
  render();
  const r = await send(`PASS ${cards.join(" ")}`);
  if (r.ok || r.words[1] === "ALREADY") tableError("");
  else {
    if (state.passing) state.passing.done = false;
    tableError(explain(r));
  }
  render();
});

async function play(code) {
  if (state.game === "scopa") {
    const options = scopaCaptures(state.table, code);
    if (options.length > 1) {
      state.choose = { card: code, options, picked: new Set() };
      tableError("");
      render();
      return;
    }
  }
  state.choose = null;
  const r = await send(`PLAY ${code}`);
  if (r.ok) { tableError(""); return; }
  if (r.words[1] === "ILLEGAL") { tableError(`${RANKS[code[0]]}${SUITS[code[1]]}: ${whyIllegal(code) || explain(r)}`); render(); return; }
  // the server's list of captures: "choose a capture: 3d 4h | 7c"
  const m = /:\s*(.+)$/.exec(explain(r));
  if (state.game === "scopa" && r.words[1] === "BADARG" && m && m[1].includes(" ")) {
    const options = m[1].split("|").map((o) => o.trim().split(/\s+/)).filter((o) => o.every((c) => /^[A2-7JQK][cdhs]$/.test(c)));
    if (options.length) {
      state.choose = { card: code, options, picked: new Set() };
      render();
      return;
    }
  }
  tableError(explain(r));
  render();
}

function pickTableCard(code) {
  const ch = state.choose;
  if (!ch) return;
  if (ch.picked.has(code)) ch.picked.delete(code); else ch.picked.add(code);
  const picked = [...ch.picked];
  const hit = ch.options.find((o) => sameSet(o, picked));
  if (hit) { playCapture(ch.card, hit); return; }
  render();
}

async function playCapture(card, cards) {
  state.choose = null;
  render();
  const r = await send(`PLAY ${card} ${cards.join(" ")}`);
  tableError(r.ok ? "" : explain(r));
}

$("capture-cancel").addEventListener("click", () => { state.choose = null; render(); });

$("leave").addEventListener("click", async () => {
  const playing = state.started && !state.watching && !state.ended;
  if (playing && !confirm("Leaving now forfeits the match. Leave?")) return;
  const r = await send("LEAVE");
  if (r.ok || r.words[1] === "NOTPLAYING") enterLobby();
  else tableError(explain(r));
});

$("chat-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("chat-text").value.trim();
  if (!text) return;
  const r = await send(`SAY ${text}`);
  if (r.ok) $("chat-text").value = "";
  else tableError(explain(r));
});

function showEnd(w) {
  const result = w[2], reason = w[3], pts = w.slice(4).map(Number);
  const me = state.watching ? null : state.mySeat;
  state.turnSeat = null;
  state.ended = true;
  $("clock").textContent = "";
  state.passing = null;
  state.choose = null;
  let title;
  if (result === "draw") title = state.game === "briscola" ? "A draw, 60 to 60" : "A draw";
  else if (result.startsWith("seat")) {
    const k = Number(result.slice(4));
    title = me === k ? "You won!" : me === null ? `${displayName(state.seats[k])} wins` : "You lost";
  } else if (me === null) title = `Team ${result.slice(4)} wins`;
  else title = (Number(result.slice(4)) === me % 2) ? "You won!" : "You lost";
  $("end-title").textContent = title;
  let sides;
  if (state.game === "hearts")
    sides = state.seats.map((s, i) => `${displayName(s)} ${pts[i]}` + (result === `seat${i}` ? " (winner)" : "")).join(" · ");
  else if (pts.length === 4)
    sides = state.game === "briscola" ? `team 0: ${pts[0] + pts[2]} — team 1: ${pts[1] + pts[3]}` : `team 0: ${pts[0]} — team 1: ${pts[1]}`;
  else sides = `${displayName(state.seats[0])} ${pts[0]} — ${displayName(state.seats[1])} ${pts[1]}`;
  $("end-detail").textContent = (reason === "forfeit" ? "by forfeit. " : "") + sides;
  $("end-verify").textContent = "checking the deal…";
  $("end-verify").className = "muted";
  $("end").hidden = false;
  $("end").dataset.result = result;
  $("end").dataset.game = state.game;
  const done = state.verified[state.match];
  if (done) showVerified(done);
}

// After REVEAL (§13): did every card shown here come from the committed deck?
state.rec.onVerified = (res) => {
  state.verified[res.match] = res;
  if (res.match === state.match && state.ended) showVerified(res);
};

function showVerified(res) {
  const el = $("end-verify");
  if (res.ok) {
    const n = res.decks.length;
    el.textContent = `deal verified: the ${res.checked} cards seen in ${n === 1 ? "this deal" : `these ${n} deals`} come from the decks the server committed to` +
      (res.seedOk ? ", with your seed" : "");
    el.className = "verified";
  } else if (res.commitOk === null && !res.mismatches.length) {
    el.textContent = "this server sent no commitment: the deal cannot be checked";
    el.className = "muted";
  } else {
    // a broken commitment first: it explains every card that follows
    const why = [...res.mismatches].sort((a, b) => /^COMMIT/.test(b) - /^COMMIT/.test(a));
    el.textContent = "deal NOT verified: " + why.slice(0, 3).join("; ") +
      (why.length > 3 ? ` (and ${why.length - 3} more)` : "");
    el.className = "error";
  }
}

$("end-ok").addEventListener("click", () => enterLobby());

// the countdown of the turn clock and of the pass; the quick-play wait
setInterval(() => {
  const el = $("clock");
  tickQuick();
  const until = state.passing ? state.passing.deadline : state.turnSeat !== null ? state.deadline : 0;
  if (!state.started || state.ended || !until) { el.textContent = ""; return; }
  const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
  el.textContent = `${left}s`;
  el.classList.toggle("low", left <= 5);
}, 250);

window.addEventListener("resize", () => render());

connect();
