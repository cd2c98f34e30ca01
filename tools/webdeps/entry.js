// What the web client takes from @noble/hashes: SHA-256 and HMAC, as the
// global nobleHashes (the web client is classic scripts, not modules).
import { sha256 } from "@noble/hashes/sha2";
import { hmac } from "@noble/hashes/hmac";

globalThis.nobleHashes = Object.freeze({ sha256, hmac });
