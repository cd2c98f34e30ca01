// tavolo web client: the line protocol over a WebSocket (docs/PROTOCOL.md).
// Every command gets exactly one OK/ERR reply, in order, so replies are
// matched to a FIFO of pending commands; everything else is an event.
"use strict";

const $ = (id) => document.getElementById(id);
const SUITS = { c: "♣", d: "♦", h: "♥", s: "♠" };
const RANKS = { A: "A", 2: "2", 3: "3", 4: "4", 5: "5", 6: "6", 7: "7", J: "J", Q: "Q", K: "K", 8: "8", 9: "9", T: "10" };

const state = {
  ws: null, pending: [], name: null, token: sessionStorage.getItem("tavolo.token"),
  registered: sessionStorage.getItem("tavolo.registered") === "1", lastList: [],
  match: null, seats: [], mySeat: null, hand: [], trump: null, trick: [],
  taken: [], turnSeat: null, deadline: 0, away: new Set(), watching: false,
  cardsPlayed: 0, retry: 0, listTimer: null,
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

function saveToken(t) {
  state.token = t;
  if (t) sessionStorage.setItem("tavolo.token", t);
  else sessionStorage.removeItem("tavolo.token");
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
  return r.text.replace(/^ERR \S+ /, "");
}

// ---------- lobby ----------

function enterLobby() {
  resetTable();
  show("lobby");
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
  const top = await send("TOP");
  if (top.ok) {
    $("top").replaceChildren(...top.words.slice(3).map((x) => {
      const [n, rating] = x.split(":");
      const li = document.createElement("li");
      li.textContent = `${n} — ${rating}`;
      return li;
    }));
  }
  if (!state.registered) return; // guests have no record
  const st = await send("STATS");
  if (st.ok) {
    const [, , n, rating, played, won, lost, drawn] = st.words;
    $("stats").textContent = `${n}: rating ${rating}, ${played} played — ${won} won, ${lost} lost, ${drawn} drawn`;
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
    const label = document.createElement("span");
    label.className = "grow";
    label.textContent = `#${m.id} ${m.game} — ${m.seated} seated — ${m.state}`;
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

async function create(seats) {
  const r = await send(`CREATE briscola ${seats}`);
  if (!r.ok) { $("lobby-error").textContent = explain(r); return; }
  openTable(Number(r.words[2]), false);
}
$("create2").addEventListener("click", () => create(2));
$("create4").addEventListener("click", () => create(4));

async function join(id) {
  const r = await send(`JOIN ${id}`);
  if (!r.ok) { $("lobby-error").textContent = explain(r); return; }
  openTable(Number(id), false);
}

async function watch(id) {
  const r = await send(`WATCH ${id}`);
  if (!r.ok) { $("lobby-error").textContent = explain(r); return; }
  openTable(Number(id), true);
}

// ---------- the table ----------

function resetTable() {
  Object.assign(state, { match: null, seats: [], mySeat: null, hand: [], trump: null,
    trick: [], taken: [], turnSeat: null, deadline: 0, away: new Set(), watching: false,
    cardsPlayed: 0, ended: false });
  $("chat-log").replaceChildren();
  $("end").hidden = true;
}

function openTable(id, watching) {
  if (state.match !== id) resetTable();
  state.match = id;
  state.watching = watching;
  $("match-title").textContent = `Match #${id}` + (watching ? " (watching)" : "");
  show("table");
  render();
}

function onEvent(w, line) {
  const id = Number(w[1]);
  if (state.match === null || state.match !== id) {
    if (["START", "SEATED"].includes(w[0])) openTable(id, false);
    else return;
  }
  switch (w[0]) {
    case "SEATED": state.seats[+w[2]] = w[3]; if (w[3] === state.name) state.mySeat = +w[2]; break;
    case "UNSEATED": delete state.seats[+w[2]]; break;
    case "START": {
      const n = +w[3];
      state.seats = w.slice(4, 4 + n);
      state.mySeat = state.seats.indexOf(state.name);
      if (state.mySeat < 0) { state.mySeat = null; state.watching = true; }
      state.taken = new Array(n).fill(0);
      state.trick = [];
      state.away = new Set();
      break;
    }
    case "TRUMP": state.trump = w[2]; break;
    case "HAND": state.hand = w.slice(2); break;
    case "DRAW": state.hand.push(w[2]); break;
    case "TURN": state.turnSeat = +w[2]; state.deadline = Date.now() + +w[3]; break;
    case "PLAYED": {
      // a finished trick stays on the felt until the next card is played
      if (state.trick.length === state.seats.length) state.trick = [];
      state.trick.push([+w[2], w[3]]);
      state.cardsPlayed++;
      if (+w[2] === state.mySeat) state.hand = state.hand.filter((c) => c !== w[3]);
      break;
    }
    case "TRICK": state.taken[+w[2]] += +w[3]; break;
    case "TIMEOUT": chat(`${state.seats[+w[2]]} ran out of time`); break;
    case "AWAY": state.away.add(+w[2]); chat(`${state.seats[+w[2]]} dropped; seat held`); break;
    case "BACK": state.away.delete(+w[2]); chat(`${state.seats[+w[2]]} is back`); break;
    case "CHAT": chat(`${w[2]}: ${w.slice(3).join(" ")}`); break;
    case "END": showEnd(w); break;
  }
  render();
}

function chat(text) {
  const li = document.createElement("li");
  li.textContent = text;
  $("chat-log").append(li);
  $("chat-log").scrollTop = 1e9;
}

function cardEl(code, small) {
  const el = document.createElement("div");
  const suit = code[1];
  el.className = "card" + (suit === "d" || suit === "h" ? " red" : "") + (small ? " small" : "");
  el.dataset.card = code;
  el.title = code;
  el.innerHTML = `<span class="r">${RANKS[code[0]]}</span><span class="big">${SUITS[suit]}</span><span class="s">${SUITS[suit]}</span>`;
  return el;
}

function teamPoints(t) {
  return state.taken.reduce((sum, p, s) => sum + (s % 2 === t ? p : 0), 0);
}

function render() {
  if (state.match === null) return;
  const seats = $("seats");
  seats.replaceChildren(...state.seats.map((name, s) => {
    const el = document.createElement("span");
    el.className = "seat" + (s === state.turnSeat ? " turn" : "") +
      (s === state.mySeat ? " me" : "") + (state.away.has(s) ? " away" : "");
    el.dataset.seat = s;
    el.textContent = `${name ?? "—"} · ${state.taken[s] ?? 0} pts` + (state.seats.length === 4 ? ` · team ${s % 2}` : "");
    return el;
  }));
  $("trump").replaceChildren(...(state.trump ? [cardEl(state.trump, true)] : []));
  const left = Math.max(0, 40 - state.seats.length * 3 - Math.floor(state.cardsPlayed / state.seats.length) * state.seats.length);
  $("deck-left").textContent = state.trump ? `${left} left` : "";
  $("trick").replaceChildren(...state.trick.map(([seat, code]) => {
    const box = document.createElement("div");
    box.className = "played";
    box.append(cardEl(code, false));
    const who = document.createElement("div");
    who.textContent = state.seats[seat] ?? `seat ${seat}`;
    box.append(who);
    return box;
  }));
  const myTurn = state.turnSeat !== null && state.turnSeat === state.mySeat && !state.watching;
  $("hand").replaceChildren(...state.hand.map((code) => {
    const el = cardEl(code, false);
    if (myTurn) {
      el.classList.add("playable");
      el.addEventListener("click", () => play(code));
    }
    return el;
  }));
  $("turn").textContent = !state.trump ? "waiting for players"
    : state.ended ? "match over"
    : myTurn ? "your turn" : `${state.seats[state.turnSeat] ?? "…"}'s turn`;
  $("turn").dataset.myturn = myTurn ? "1" : "0";
  $("leave").textContent = state.watching ? "Stop watching" : "Leave";
}

async function play(code) {
  const r = await send(`PLAY ${code}`);
  $("table-error").textContent = r.ok ? "" : explain(r);
}

$("leave").addEventListener("click", async () => {
  const playing = state.trump && !state.watching;
  if (playing && !confirm("Leaving now forfeits the match. Leave?")) return;
  const r = await send("LEAVE");
  if (r.ok || r.words[1] === "NOTPLAYING") enterLobby();
  else $("table-error").textContent = explain(r);
});

$("chat-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("chat-text").value.trim();
  if (!text) return;
  const r = await send(`SAY ${text}`);
  if (r.ok) $("chat-text").value = "";
  else $("table-error").textContent = explain(r);
});

function showEnd(w) {
  const result = w[2], reason = w[3], pts = w.slice(4).map(Number);
  state.turnSeat = null;
  state.ended = true;
  let title;
  if (result === "draw") title = "A draw, 60 to 60";
  else if (state.mySeat === null || state.watching) title = `Team ${result.slice(4)} wins`;
  else title = (Number(result.slice(4)) === state.mySeat % 2) ? "You won!" : "You lost";
  $("end-title").textContent = title;
  const sides = pts.length === 4 ? `team 0: ${pts[0] + pts[2]} — team 1: ${pts[1] + pts[3]}`
    : `${state.seats[0]} ${pts[0]} — ${state.seats[1]} ${pts[1]}`;
  $("end-detail").textContent = (reason === "forfeit" ? "by forfeit. " : "") + sides;
  $("end").hidden = false;
  $("end").dataset.result = result;
}

$("end-ok").addEventListener("click", () => enterLobby());

// the countdown of the turn clock
setInterval(() => {
  const el = $("clock");
  if (!state.trump || state.turnSeat === null) { el.textContent = ""; return; }
  const left = Math.max(0, Math.ceil((state.deadline - Date.now()) / 1000));
  el.textContent = `${left}s`;
  el.classList.toggle("low", left <= 5);
}, 250);

connect();
