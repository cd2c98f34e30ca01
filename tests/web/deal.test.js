// Tests of web/deal.js (PROTOCOL §13) under Node's test runner:
//   node --test tests/web/
// §13's known answers, the rejection bound, and the Recorder on synthetic
// transcripts of whole matches, as dealt and tampered with.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const deal = require("../../web/deal.js");

const S = Uint8Array.from({ length: 32 }, (_, i) => i);
const S_HEX = deal.bytesToHex(S);
const COMMIT = "584cf6db9210672e9eb34e59c81d94b076a334b2f58b4912f6b42b1762095fe5";
const BRISCOLA_1 = "4c 5h Ac Ad Ah As 3h Kh Kd 2d Kc 7s Qh Js 2c 5s Qc 5d 3s Qd " +
  "4h 6d Ks 6s 7h 3c 7c Jd 4s 7d Jh 6h 2s 3d 2h Jc 5c 4d 6c Qs";
const SCOPA_2 = "7d 4c 7c 7h 5s Jh Jd 2c Qh 6s 2d 3h Ac Kh 6d Ks Ah 6c Kd As 2s " +
  "3d 4d 4h Qd 4s Js 6h 5d Jc 5c 3s Qs Ad 2h 5h Qc 3c 7s Kc";
const NAMES = ["alice", "bob", "carol", "dave"];
const SIZE = { briscola: 40, scopa: 40, hearts: 52 };

const deckOf = (game, seeds, hand) => deal.shuffle(deal.dealKey(S, game, seeds), hand, SIZE[game]);
const reveal = (m, seeds) => `REVEAL ${m} ${S_HEX} ${seeds.map((s) => s || "-").join(" ")}`;

function lobby(m, me, game, seeds) {
  const n = seeds.length;
  const out = [`OK NICK ${NAMES[me]} ${"ab".repeat(16)}`];
  if (seeds[me]) out.push(`OK SEED ${seeds[me]}`);
  out.push(me === 0 ? `OK CREATE ${m}` : `OK JOIN ${m} ${me}`);
  for (let s = 0; s <= me; s++) out.push(`SEATED ${m} ${s} ${NAMES[s]}`);
  out.push(`COMMIT ${m} ${COMMIT}`);
  out.push(`START ${m} ${game} ${n} ${NAMES.slice(0, n).join(" ")}`);
  return out;
}

// Each seat plays its first card; trick t is won by seat t mod N.
function briscola(seeds, me, m = 7) {
  const n = seeds.length, d = deckOf("briscola", seeds, 1);
  const out = lobby(m, me, "briscola", seeds);
  const hands = [];
  for (let s = 0; s < n; s++) hands.push(d.slice(3 * s, 3 * s + 3));
  const pile = d.slice(3 * n + 1).concat([d[3 * n]]);
  out.push(`TRUMP ${m} ${d[3 * n]}`, `HAND ${m} ${hands[me].join(" ")}`);
  let lead = 0;
  for (let t = 0; hands.some((h) => h.length); t++) {
    for (let k = 0; k < n; k++) {
      const s = (lead + k) % n;
      out.push(`PLAYED ${m} ${s} ${hands[s].shift()}`);
    }
    const winner = t % n;
    out.push(`TRICK ${m} ${winner} 0`);
    if (pile.length) {
      for (let k = 0; k < n; k++) {
        const s = (winner + k) % n, c = pile.shift();
        hands[s].push(c);
        if (s === me) out.push(`DRAW ${m} ${c}`);
      }
    }
    lead = winner;
  }
  out.push(`END ${m} draw score ${seeds.map(() => 60).join(" ")}`, reveal(m, seeds));
  return out;
}

function scopa(seeds, me, m = 3) {
  const n = seeds.length, out = lobby(m, me, "scopa", seeds);
  for (let h = 1; h <= 2; h++) {
    const d = deckOf("scopa", seeds, h), lead = (h - 1) % n;
    const order = [];
    for (let i = 0; i < n; i++) order.push((lead + i) % n);
    const hands = [];
    let pos = 0;
    for (const s of order) { hands[s] = d.slice(pos, pos + 3); pos += 3; }
    out.push(`DEAL ${m} ${h}`, `TABLE ${m} ${d.slice(pos, pos + 4).join(" ")}`);
    pos += 4;
    for (;;) {
      out.push(`HAND ${m} ${hands[me].join(" ")}`);
      for (let k = 0; k < 3; k++) for (const s of order) out.push(`PLAYED ${m} ${s} ${hands[s].shift()}`);
      if (pos >= d.length) break;
      for (const s of order) { hands[s] = d.slice(pos, pos + 3); pos += 3; }
    }
    out.push(`SCORE ${m} ${seeds.map(() => 0).join(" ")}`);
  }
  out.push(`END ${m} team0 score 11 11`, reveal(m, seeds));
  return out;
}

// Hand 1 passes left: each seat passes its first three cards.
function hearts(seeds, me, m = 5) {
  const out = lobby(m, me, "hearts", seeds), d = deckOf("hearts", seeds, 1);
  const orig = [0, 1, 2, 3].map((s) => d.slice(13 * s, 13 * s + 13));
  const after = [0, 1, 2, 3].map((s) => orig[s].slice(3).concat(orig[(s + 3) % 4].slice(0, 3)));
  out.push(`DEAL ${m} 1`, `HAND ${m} ${orig[me].join(" ")}`, `PASSING ${m} left 30000`,
    `RECEIVED ${m} ${orig[(me + 3) % 4].slice(0, 3).join(" ")}`, `HAND ${m} ${after[me].join(" ")}`);
  for (let t = 0; t < 13; t++) {
    for (let s = 0; s < 4; s++) out.push(`PLAYED ${m} ${s} ${after[s].shift()}`);
    out.push(`TRICK ${m} 0 0`);
  }
  out.push(`END ${m} seat0 score 0 0 0 0`, reveal(m, seeds));
  return out;
}

function run(lines, opts) {
  const rec = new deal.Recorder(opts);
  const got = [];
  rec.onVerified = (r) => got.push(r);
  for (const l of lines) rec.line(l);
  assert.equal(got.length, 1, "one match verified");
  return got[0];
}

function tamper(lines, prefix, fn) {
  const i = lines.findIndex((l) => l.startsWith(prefix));
  assert.ok(i >= 0, prefix);
  const out = lines.slice();
  out[i] = fn(out[i]);
  return out;
}

const otherCard = (c) => (c === "Ks" ? "Qs" : "Ks");

test("known answers of §13", () => {
  assert.equal(deal.commitHex(S), COMMIT);
  assert.equal(deckOf("briscola", ["00ff", ""], 1).join(" "), BRISCOLA_1);
  assert.equal(deckOf("scopa", ["c0ffee", "1234"], 2).join(" "), SCOPA_2);
});

test("canonical decks", () => {
  assert.equal(deal.canonicalDeck(40).slice(0, 11).join(" "), "Ac 2c 3c 4c 5c 6c 7c Jc Qc Kc Ad");
  assert.equal(deal.canonicalDeck(52).slice(7, 14).join(" "), "8c 9c Tc Jc Qc Kc Ad");
});

test("uniform rejects words at or above 2^64 - (2^64 mod n)", () => {
  const two64 = 1n << 64n;
  const bound = two64 - (two64 % 40n); // 2^64 - 16
  const src = (ws) => ws[Symbol.iterator]();
  assert.equal(deal.uniform(40, src([bound, bound - 1n])), Number((bound - 1n) % 40n));
  assert.equal(deal.uniform(3, src([two64 - 1n, two64 - 2n])), 2);
  assert.equal(deal.uniform(8, src([two64 - 1n])), 7);
});

test("hex helpers", () => {
  assert.equal(deal.bytesToHex(new Uint8Array([0, 15, 255])), "000fff");
  assert.deepEqual([...deal.hexToBytes("00fFaB")], [0, 255, 171]);
  for (const bad of ["0", "0g", " 00", "0x"]) assert.throws(() => deal.hexToBytes(bad));
});

test("a different seed changes the deck", () => {
  assert.notEqual(deckOf("briscola", ["00fe", ""], 1).join(" "), BRISCOLA_1);
  assert.notEqual(deckOf("briscola", ["", "00ff"], 1).join(" "), BRISCOLA_1);
});

test("briscola transcripts as dealt", () => {
  for (const seeds of [["00ff", ""], ["01", "", "abcdef", "9"]]) {
    for (let me = 0; me < seeds.length; me++) {
      const r = run(briscola(seeds, me));
      assert.ok(r.ok, r.mismatches.join("; "));
      assert.equal(r.commitOk, true);
      assert.equal(r.seedOk, seeds[me] ? true : null);
      // TRUMP, HAND, the draws and all 40 PLAYED.
      assert.equal(r.checked, 2 + (40 - 3 * seeds.length) / seeds.length + 40);
    }
  }
  assert.equal(run(briscola(["00ff", ""], 1)).decks[0].join(" "), BRISCOLA_1);
});

test("scopa and hearts transcripts as dealt", () => {
  const r = run(scopa(["c0ffee", "1234"], 1));
  assert.ok(r.ok, r.mismatches.join("; "));
  assert.equal(r.decks[1].join(" "), SCOPA_2);
  assert.equal(r.checked, 2 + 12 + 72);
  const h = run(hearts(["", "5", "", "77"], 2));
  assert.ok(h.ok, h.mismatches.join("; "));
  assert.equal(h.checked, 2 + 1 + 52);
});

test("minimal transcript and the name option", () => {
  const r = run([`COMMIT 1 ${COMMIT}`, "START 1 briscola 2 alice bob", reveal(1, ["00ff", ""])]);
  assert.ok(r.ok);
  assert.equal(r.decks[0].join(" "), BRISCOLA_1);
  const lines = briscola(["00ff", ""], 1).filter((l) => !l.startsWith("OK ") && !l.startsWith("SEATED"));
  assert.equal(run(lines, { name: "bob" }).checked, 2 + 17 + 40);
  assert.equal(run(lines).checked, 1 + 40); // a spectator: TRUMP and PLAYED
});

test("tampered transcripts", () => {
  const lines = briscola(["00ff", ""], 1);
  const cases = [
    tamper(lines, "DRAW", (l) => l.slice(0, -2) + otherCard(l.slice(-2))),
    tamper(lines, "HAND", (l) => l.slice(0, -2) + otherCard(l.slice(-2))),
    tamper(lines, "TRUMP", (l) => l.slice(0, -2) + otherCard(l.slice(-2))),
    tamper(lines, "PLAYED 7 0", () => "PLAYED 7 0 " + lines.find((l) => l.startsWith("HAND")).slice(-2)),
    tamper(lines, "COMMIT", (l) => l.replace(COMMIT, (COMMIT[0] === "0" ? "1" : "0") + COMMIT.slice(1))),
    tamper(lines, "REVEAL", () => reveal(7, ["00ff", "01"])),
    tamper(briscola(["00ff", ""], 0), "OK SEED", () => "OK SEED 00fe"),
    tamper(scopa(["c0ffee", "1234"], 0), "TABLE", (l) => l.slice(0, -2) + otherCard(l.slice(-2))),
    tamper(hearts(["", "5", "", "77"], 1), "RECEIVED", (l) => l.slice(0, -2) + otherCard(l.slice(-2))),
  ];
  for (const c of cases) {
    const r = run(c);
    assert.equal(r.ok, false, c.join("\n"));
    assert.ok(r.mismatches.length > 0);
  }
  const malformed = run(tamper(lines, "REVEAL", (l) => l + " extra"));
  assert.equal(malformed.ok, false);
  assert.match(malformed.mismatches[0], /malformed REVEAL/);
  const badStart = run(tamper(lines, "START", () => "START 7 briscola 2 alice"));
  assert.deepEqual(badStart.mismatches, ["malformed START"]);
  assert.match(run(lines, { seat: 2 }).mismatches[0], /seat 2 of a 2-seat match/);
  const noCommit = run(lines.filter((l) => !l.startsWith("COMMIT")));
  assert.equal(noCommit.commitOk, null);
  assert.equal(noCommit.ok, false);
});
