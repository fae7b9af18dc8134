// Verifies an inclusion proof in the browser: the entry's bytes are hashed as an RFC 6962 leaf
// (SHA-256 of 0x00 || entry), combined with the audit path as RFC 9162 section 2.1.3.2 says
// (node = SHA-256 of 0x01 || left || right), and compared with the root hash of the checkpoint
// the proof carries (c2sp.org/tlog-proof@v1: "index N", base64 hashes, blank line, signed note
// whose third line is the root). Only WebCrypto's SHA-256 is used; the server is not asked.
(function () {
  'use strict';
  function b64(s) {
    var bin = atob(s.trim());
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function concat(prefix, a, b) {
    var out = new Uint8Array(1 + a.length + (b ? b.length : 0));
    out[0] = prefix;
    out.set(a, 1);
    if (b) out.set(b, 1 + a.length);
    return out;
  }
  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  }
  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  function parse(text) {
    var lines = text.replace(/\r\n/g, '\n').split('\n');
    if (lines[0] !== 'c2sp.org/tlog-proof@v1') throw new Error('not a c2sp.org/tlog-proof@v1 proof');
    var m = /^index (\d+)$/.exec(lines[1] || '');
    if (!m) throw new Error('the second line must be "index N"');
    var i = 2;
    var path = [];
    for (; i < lines.length && lines[i] !== ''; i++) {
      var h = b64(lines[i]);
      if (h.length !== 32) throw new Error('audit path hash ' + (path.length + 1) + ' is not 32 bytes');
      path.push(h);
    }
    var note = lines.slice(i + 1);
    var size = /^\d+$/.test(note[1] || '') ? Number(note[1]) : NaN;
    if (!note[0] || isNaN(size)) throw new Error('no checkpoint after the audit path');
    var root = b64(note[2] || '');
    if (root.length !== 32) throw new Error('the checkpoint root is not 32 bytes');
    return {index: Number(m[1]), path: path, origin: note[0], size: size, root: root};
  }
  async function verify(entry, proof) {
    var fn = proof.index;
    var sn = proof.size - 1;
    if (fn < 0 || fn > sn) return false;
    var r = await sha256(concat(0, entry));
    for (var k = 0; k < proof.path.length; k++) {
      var p = proof.path[k];
      if (sn === 0) return false;
      if ((fn & 1) === 1 || fn === sn) {
        r = await sha256(concat(1, p, r));
        if ((fn & 1) === 0) {
          while ((fn & 1) === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await sha256(concat(1, r, p));
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(r, proof.root);
  }
  document.addEventListener('DOMContentLoaded', function () {
    var button = document.getElementById('verify-proof');
    var result = document.getElementById('proof-result');
    button.addEventListener('click', async function () {
      result.className = '';
      result.textContent = 'Checking…';
      try {
        var entry = b64(document.getElementById('entry-bytes').dataset.bytes);
        var proof = parse(document.getElementById('proof').value);
        var ok = await verify(entry, proof);
        result.className = ok ? 'ok' : 'bad';
        result.textContent = ok
          ? 'Verified: this entry is leaf ' + proof.index + ' of the ' + proof.size + '-entry tree of ' + proof.origin + '.'
          : 'Rejected: the proof does not lead from this entry to the checkpoint root.';
      } catch (e) {
        result.className = 'bad';
        result.textContent = 'Rejected: ' + e.message;
      }
    });
  });
})();
