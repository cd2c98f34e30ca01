// tavolo web client: verifiable deals (PROTOCOL §13).
//
// Every deck is a pure function of the match's secret S, committed to
// (COMMIT) before any seed is used and revealed after END (REVEAL), and of
// the seats' seeds. This file recomputes the decks and checks that every
// card the client was shown is where the deck puts it: the same function
// and the same checks as tools/verify-deal and src/game/deal.c, tested
// against §13's known answers (tests/web/deal.test.js).
//
// WebCrypto exists only in secure contexts, and the client is also served
// over plain http, so SHA-256 and HMAC come from @noble/hashes
// (web/noble-hashes.js, built by tools/webdeps). A classic script, like
// app.js: load noble-hashes.js first; it defines the global tavoloDeal,
// and under Node `require("./deal.js")` returns the same object.
//
//   const rec = new tavoloDeal.Recorder({ name: "alice" });
//   ws.onmessage = (e) => rec.line(e.data);   // every line from the server
//   rec.onVerified = (result) => show(result); // after REVEAL
(function (root) {
  "use strict";

  if (!root.nobleHashes && typeof require === "function")
    require("./noble-hashes.js"); // sets root.nobleHashes
  const { sha256, hmac } = root.nobleHashes;
  const utf8 = new TextEncoder();

  const RANKS_40 = "A234567JQK";
  const RANKS_52 = "A23456789TJQK";
  const SUITS = "cdhs";
  const DECK_SIZE = { briscola: 40, scopa: 40, hearts: 52 };
  const HEX = /^[0-9a-f]*$/;

  // ---------- bytes ----------

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  function bytesToHex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Hex of either case, an even number of digits; throws otherwise.
  function hexToBytes(hex) {
    if (typeof hex !== "string" || hex.length % 2 || !/^[0-9a-fA-F]*$/.test(hex))
      throw new Error("malformed hex");
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++)
      out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return out;
  }

  function be32(v) {
    return new Uint8Array([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
  }

  // ---------- PROTOCOL §13 ----------

  // commit = SHA-256("tavolo-commit-1" || S), as 64 lowercase hex digits.
  function commitHex(secret) {
    return bytesToHex(sha256(concat(utf8.encode("tavolo-commit-1"), secret)));
  }

  // K = HMAC-SHA256(S, "tavolo-deal-1" || game || 0x00 || N ||
  // for each seat: len(seed) || seed); seeds in lowercase hex, "" for none.
  function dealKey(secret, game, seeds) {
    const parts = [utf8.encode("tavolo-deal-1"), utf8.encode(game),
      new Uint8Array([0, seeds.length])];
    for (const s of seeds) {
      if (s.length > 64 || !HEX.test(s)) throw new Error("malformed seed " + s);
      parts.push(new Uint8Array([s.length]), utf8.encode(s));
    }
    return hmac(sha256, secret, concat(...parts));
  }

  // Suits c d h s, within each A 2 3 4 5 6 7 [8 9 T] J Q K.
  function canonicalDeck(n) {
    const ranks = n === 40 ? RANKS_40 : RANKS_52;
    const out = [];
    for (const s of SUITS) for (const r of ranks) out.push(r + s);
    return out;
  }

  // The words of HMAC-SHA256(K, "hand" || h || j), j = 0, 1, ..., read as
  // 8-byte big-endian integers (BigInt).
  function* words(key, hand) {
    for (let j = 0; ; j++) {
      const b = hmac(sha256, key, concat(utf8.encode("hand"), be32(hand), be32(j)));
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let k = 0; k < 32; k += 8)
        yield (BigInt(v.getUint32(k)) << 32n) | BigInt(v.getUint32(k + 4));
    }
  }

  const TWO_64 = 1n << 64n;

  // Takes words until one is below 2^64 - (2^64 mod n); returns it mod n.
  function uniform(n, source) {
    const big = BigInt(n);
    const limit = TWO_64 - (TWO_64 % big);
    for (;;) {
      const w = source.next().value;
      if (w < limit) return Number(w % big);
    }
  }

  // The deck of hand `hand` (from 1): n card codes, dealt from index 0.
  function shuffle(key, hand, n) {
    const deck = canonicalDeck(n);
    const source = words(key, hand);
    for (let i = n - 1; i >= 1; i--) {
      const j = uniform(i + 1, source);
      [deck[i], deck[j]] = [deck[j], deck[i]];
    }
    return deck;
  }

  // ---------- checking what a client saw ----------

  const sorted = (cards) => [...cards].sort().join(" ");

  // One match's lines, replayed against its decks once REVEAL is known.
  // The rules of the deal (PROTOCOL §7, §12, §13) are tools/verify-deal's:
  // briscola: seat s takes cards 3s..3s+2, card 3N is the trump, draws
  // take the next cards, winner first, the trump last; scopa: hand n led
  // by seat (n-1) mod N, three each from it, four to the table, refills
  // of three each in the same order; hearts: seat i takes 13i..13i+12.
  class Replay {
    constructor(m) {
      this.m = m;
      this.key = dealKey(m.secret, m.game, m.seeds);
      this.size = DECK_SIZE[m.game];
      this.decks = new Map();
      this.checked = 0;
      this.unchecked = 0;
      this.mismatches = [];
      this.hand = 0;
      this.synced = false;
      this.inSnapshot = false;
    }

    deck(h) {
      if (!this.decks.has(h)) this.decks.set(h, shuffle(this.key, h, this.size));
      return this.decks.get(h);
    }

    bad(text) {
      this.mismatches.push(text);
    }

    same(verb, got, want, where) {
      if (sorted(got) === sorted(want)) this.checked++;
      else this.bad(`${verb} ${got.join(" ")}, but the deck gives ${want.join(" ")} (${where})`);
    }

    run() {
      for (const { w, isSnapshot } of this.m.events) {
        const verb = w[0];
        if (verb === "START") {
          this.hand = 1;
          this.synced = false;
          this.inSnapshot = isSnapshot;
          if (this.m.game === "briscola") this.startBriscola(isSnapshot);
          continue;
        }
        if (verb === "DEAL" && w.length === 3 && /^[1-9]\d*$/.test(w[2])) {
          this.hand = Number(w[2]);
          this.synced = !this.inSnapshot; // a snapshot's DEAL: a hand in progress
          this.inSnapshot = false;
          if (this.m.game === "scopa") this.dealScopa();
          else if (this.m.game === "hearts") this.dealHearts();
          continue;
        }
        if (verb === "TURN" || verb === "PASSING") this.inSnapshot = false;
        if (this.hand === 0) continue;
        // TRICK needs its winner, PLAYED its seat and card.
        if ((verb === "PLAYED" || verb === "TRICK") &&
            (!/^\d+$/.test(w[2] || "") || (verb === "PLAYED" && w.length < 4))) continue;
        if (verb === "TRUMP") {
          if (this.m.game === "briscola") this.onTrump(w.slice(2));
          continue;
        }
        if (!this.synced) {
          if (["HAND", "DRAW", "TABLE", "PLAYED", "RECEIVED"].includes(verb)) this.unchecked++;
          continue;
        }
        const f = this["on" + verb[0] + verb.slice(1).toLowerCase()];
        if (f) f.call(this, w.slice(2));
      }
    }

    // -- briscola --

    startBriscola(isSnapshot) {
      const n = this.m.seats, d = this.deck(1);
      this.trump = d[3 * n];
      if (isSnapshot) return;
      this.synced = true;
      this.hands = [];
      for (let s = 0; s < n; s++) this.hands.push(d.slice(3 * s, 3 * s + 3));
      this.pile = [];
      for (let i = 3 * n + 1; i < d.length; i++) this.pile.push([i, d[i]]);
      this.pile.push([3 * n, d[3 * n]]); // the trump is drawn last
      this.pilePos = 0;
      this.draws = [];
    }

    onTrump(cards) {
      if (cards.length === 1 && cards[0] === this.trump) this.checked++;
      else this.bad(`TRUMP ${cards.join(" ")}, but the deck's card ${3 * this.m.seats} is ${this.trump}`);
    }

    onTrick(words) {
      if (this.m.game !== "briscola") return;
      const n = this.m.seats, winner = Number(words[0]);
      if (this.pilePos >= this.pile.length || winner >= n) return;
      for (let k = 0; k < n; k++) {
        const s = (winner + k) % n;
        const [i, c] = this.pile[this.pilePos++];
        this.hands[s].push(c);
        if (s === this.m.seat) this.draws.push([i, c]);
      }
    }

    onDraw(cards) {
      if (this.m.game !== "briscola" || this.m.seat === null) return;
      if (!this.draws.length) return this.bad(`DRAW ${cards.join(" ")}, but no draw is due`);
      const [i, c] = this.draws.shift();
      if (cards.length === 1 && cards[0] === c) this.checked++;
      else this.bad(`DRAW ${cards.join(" ")}, but the deck's card ${i} is ${c}`);
    }

    // -- scopa --

    dealScopa() {
      const n = this.m.seats, d = this.deck(this.hand), lead = (this.hand - 1) % n;
      const order = [];
      for (let i = 0; i < n; i++) order.push((lead + i) % n);
      this.rounds = [];
      let base = 0;
      while (base + 3 * n <= d.length) {
        const round = [];
        order.forEach((s, i) => { round[s] = [base + 3 * i, d.slice(base + 3 * i, base + 3 * i + 3)]; });
        this.rounds.push(round);
        base += 3 * n;
        if (this.rounds.length === 1) {
          this.table = [base, d.slice(base, base + 4)];
          base += 4;
        }
      }
      this.handsSeen = 0;
      this.seenTable = false;
      this.played = order.map(() => []);
    }

    onTable(cards) {
      if (this.m.game !== "scopa" || this.seenTable) return;
      this.seenTable = true;
      const [at, want] = this.table;
      this.same("TABLE", cards, want, `cards ${at}-${at + 3} of hand ${this.hand}`);
    }

    // -- hearts --

    dealHearts() {
      const d = this.deck(this.hand);
      this.orig = [0, 1, 2, 3].map((s) => d.slice(13 * s, 13 * s + 13));
      this.dir = [null, "left", "right", "across"][this.hand % 4];
      this.received = null;
      this.myHand = null;
      this.played = [[], [], [], []];
    }

    giver(s) {
      const step = { left: -1, right: 1, across: 2 }[this.dir];
      return step === undefined ? null : (s + step + 4) % 4;
    }

    onPassing(words) {
      if (this.m.game === "hearts" && words.length) this.dir = words[0];
    }

    onReceived(cards) {
      if (this.m.game !== "hearts" || this.m.seat === null) return;
      const g = this.giver(this.m.seat);
      this.received = cards;
      if (g === null) return this.bad(`RECEIVED in hand ${this.hand}, which has no pass`);
      if (cards.length === 3 && cards.every((c) => this.orig[g].includes(c))) this.checked++;
      else this.bad(`RECEIVED ${cards.join(" ")}, but seat ${g} was dealt ${this.orig[g].join(" ")}`);
    }

    // -- every game --

    onHand(cards) {
      const m = this.m, s = m.seat;
      if (s === null) return;
      if (m.game === "briscola") {
        this.same("HAND", cards, this.hands[s], `seat ${s}'s cards so far`);
      } else if (m.game === "scopa") {
        const r = this.handsSeen++;
        if (r >= this.rounds.length) return this.bad(`HAND ${cards.join(" ")}, but the deck has no more cards`);
        const [first, want] = this.rounds[r][s];
        this.same("HAND", cards, want, `cards ${first}-${first + 2} of hand ${this.hand}`);
      } else if (this.received === null) {
        this.same("HAND", cards, this.orig[s], `cards ${13 * s}-${13 * s + 12} of hand ${this.hand}`);
        this.myHand = this.orig[s].slice();
      } else {
        const kept = cards.filter((c) => !this.received.includes(c));
        this.myHand = cards.slice(); // one bad HAND is reported once
        if (cards.length === 13 && kept.length === 10 && kept.every((c) => this.orig[s].includes(c)))
          this.checked++;
        else this.bad(`HAND ${cards.join(" ")} after RECEIVED, but seat ${s} was dealt ${this.orig[s].join(" ")}`);
      }
    }

    onPlayed(words) {
      const m = this.m, s = Number(words[0]), c = words[1];
      if (s >= m.seats) return this.bad(`PLAYED by seat ${s} of ${m.seats}`);
      let allowed;
      if (m.game === "briscola") {
        allowed = this.hands[s];
      } else if (m.game === "scopa") {
        const r = Math.floor(this.played[s].length / 3);
        allowed = r < this.rounds.length ? this.rounds[r][s][1] : [];
      } else if (s === m.seat && this.myHand && (this.received !== null || this.giver(s) === null)) {
        allowed = this.myHand;
      } else {
        const g = this.giver(s);
        allowed = this.orig[s].concat(g === null ? [] : this.orig[g]);
      }
      if (m.game !== "briscola") allowed = allowed.filter((x) => !this.played[s].includes(x));
      if (!allowed.includes(c))
        return this.bad(`PLAYED ${c} by seat ${s}, a card the deck did not give it`);
      this.checked++;
      if (m.game === "briscola") this.hands[s].splice(this.hands[s].indexOf(c), 1);
      else this.played[s].push(c);
    }
  }

  // Feeds on every line the server sends; after each match's REVEAL,
  // calls onVerified(result) and keeps the result in results[match id]:
  //   { match, game, seats, commit, commitOk, seedOk, decks (one array of
  //     card codes per hand), checked, unchecked, mismatches, ok }
  // commitOk is null when no COMMIT was seen (nothing to verify against);
  // seedOk is null when the client's seed is unknown. ok: commitOk and
  // no mismatch. The client's seat comes from OK CREATE / OK JOIN, or a
  // SEATED or START line with opts.name, or opts.seat.
  class Recorder {
    constructor(opts = {}) {
      this.name = opts.name || null;
      this.fixedSeat = opts.seat === undefined ? null : opts.seat;
      this.seed = null;
      this.matches = new Map();
      this.results = {};
      this.onVerified = null;
      this.pendingStart = null; // a START whose next line may be COMMIT
    }

    match(id) {
      if (!this.matches.has(id)) {
        this.matches.set(id, { id, game: null, seats: 0, names: [], seat: this.fixedSeat,
          commits: [], events: [], seedAtStart: null });
      }
      return this.matches.get(id);
    }

    line(text) {
      const w = String(text).trim().split(/\s+/);
      if (w[0] === "OK") return this.reply(w);
      if (w.length < 2 || !/^\d+$/.test(w[1])) return;
      const m = this.match(Number(w[1]));
      // A snapshot is START then COMMIT; at a live start COMMIT came first.
      if (this.pendingStart && this.pendingStart.m === m) {
        const ev = this.pendingStart.ev;
        ev.isSnapshot = w[0] === "COMMIT";
        if (!ev.isSnapshot) m.seedAtStart = this.pendingStart.seed;
        this.pendingStart = null;
      }
      switch (w[0]) {
      case "SEATED":
        if (w[3] === this.name && m.seat === null) m.seat = Number(w[2]);
        return;
      case "COMMIT":
        m.commits.push(w[2]);
        return;
      case "START": {
        m.game = w[2];
        m.seats = Number(w[3]);
        m.names = w.slice(4);
        if (!DECK_SIZE[m.game] || !(m.seats >= 1 && m.seats <= 4) || m.names.length !== m.seats)
          m.malformed = "malformed START";
        if (m.seat === null && m.names.includes(this.name)) m.seat = m.names.indexOf(this.name);
        const ev = { w, isSnapshot: false };
        m.events.push(ev);
        this.pendingStart = { m, ev, seed: this.seed };
        return;
      }
      case "REVEAL":
        return this.reveal(m, w);
      default:
        m.events.push({ w, isSnapshot: false });
      }
    }

    reply(w) {
      if ((w[1] === "NICK" || w[1] === "RESUME") && w[2] && !this.name) this.name = w[2];
      else if (w[1] === "SEED" && w[2]) this.seed = w[2];
      else if (w[1] === "CREATE" && /^\d+$/.test(w[2] || "")) this.setSeat(Number(w[2]), 0);
      else if (w[1] === "JOIN" && /^\d+$/.test(w[3] || "")) this.setSeat(Number(w[2]), Number(w[3]));
    }

    setSeat(id, seat) {
      const m = this.match(id);
      if (this.fixedSeat === null) m.seat = seat;
    }

    reveal(m, w) {
      const seeds = w.slice(3).map((s) => (s === "-" ? "" : s));
      let result;
      if (m.malformed || !DECK_SIZE[m.game] || w.length !== 3 + m.seats || !/^[0-9a-f]{64}$/.test(w[2]) ||
          !seeds.every((s) => s.length <= 64 && HEX.test(s))) {
        result = { match: m.id, game: m.game, seats: m.seats, commit: null, commitOk: null,
          seedOk: null, decks: [], checked: 0, unchecked: 0, ok: false,
          mismatches: [m.malformed || "malformed REVEAL, or no START before it"] };
      } else if (m.seat !== null && !(m.seat >= 0 && m.seat < m.seats)) {
        result = { match: m.id, game: m.game, seats: m.seats, commit: null, commitOk: null,
          seedOk: null, decks: [], checked: 0, unchecked: 0, ok: false,
          mismatches: [`seat ${m.seat} of a ${m.seats}-seat match`] };
      } else {
        m.secret = hexToBytes(w[2]);
        m.seeds = seeds;
        result = verify(m);
      }
      this.results[m.id] = result;
      this.matches.delete(m.id);
      if (this.onVerified) this.onVerified(result);
    }
  }

  // Checks one recorded match (see Recorder); exposed for tests.
  function verify(m) {
    const commit = commitHex(m.secret);
    const r = new Replay(m);
    r.deck(1);
    r.run();
    const commitOk = m.commits.length ? m.commits.every((c) => c === commit) : null;
    if (commitOk === false) r.bad(`COMMIT does not match S (SHA-256 gives ${commit})`);
    let seedOk = null;
    if (m.seat !== null && m.seedAtStart !== null) {
      seedOk = m.seeds[m.seat] === m.seedAtStart;
      if (!seedOk) r.bad(`REVEAL gives seat ${m.seat} the seed ${m.seeds[m.seat] || "-"}, not ${m.seedAtStart}`);
    }
    const decks = [...r.decks.keys()].sort((a, b) => a - b).map((h) => r.decks.get(h));
    return {
      match: m.id, game: m.game, seats: m.seats, commit, commitOk, seedOk, decks,
      checked: r.checked, unchecked: r.unchecked, mismatches: r.mismatches,
      ok: commitOk === true && r.mismatches.length === 0,
    };
  }

  const api = Object.freeze({
    commitHex, dealKey, canonicalDeck, shuffle, uniform, bytesToHex, hexToBytes, Recorder,
  });
  root.tavoloDeal = api;
  if (typeof module === "object" && module.exports) module.exports = api;
})(globalThis);
