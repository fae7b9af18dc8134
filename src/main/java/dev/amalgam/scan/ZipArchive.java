package dev.amalgam.scan;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Our own ZIP reader for scanning: it reads the entries from the central directory AND walks the
 * local headers, and reports where the two disagree (a classic way to show one file to the
 * scanner and another to the loader). CRCs and flag bits are ignored, as PyTorch ignores them.
 */
final class ZipArchive {
    static final long MAX_MEMBER = 1L << 30;

    record Entry(String name, int method, long compressedSize, long size, long localOffset) {
    }

    final List<Entry> central = new ArrayList<>();
    final List<String> problems = new ArrayList<>();
    private final ByteBuffer buf;

    private ZipArchive(ByteBuffer buf) {
        this.buf = buf.order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Parses a zip; structural errors go to {@link #problems} (never thrown). */
    static ZipArchive read(ByteBuffer data) {
        ZipArchive z = new ZipArchive(data.duplicate());
        try {
            z.parse();
        } catch (IllegalStateException e) {
            z.problems.add("malformed zip: " + e.getMessage());
        } catch (RuntimeException e) { // an offset or length pointing outside the data
            z.problems.add("malformed zip: a record points outside the file");
        }
        return z;
    }

    private void parse() {
        int cap = buf.capacity();
        int eocd = -1;
        for (int i = cap - 22; i >= Math.max(0, cap - 22 - 65535); i--) {
            if (buf.getInt(i) == 0x06054b50) {
                eocd = i;
                break;
            }
        }
        if (eocd < 0) {
            problems.add("no end-of-central-directory record");
            return;
        }
        long count = buf.getShort(eocd + 10) & 0xffff;
        long cdOffset = buf.getInt(eocd + 16) & 0xffffffffL;
        if (cdOffset == 0xffffffffL || count == 0xffff) {
            int loc = eocd - 20;
            if (loc < 0 || buf.getInt(loc) != 0x07064b50) throw new IllegalStateException("ZIP64 locator missing");
            long z64 = buf.getLong(loc + 8);
            if (z64 < 0 || z64 > cap - 56 || buf.getInt((int) z64) != 0x06064b50) throw new IllegalStateException("bad ZIP64 record");
            count = buf.getLong((int) z64 + 32);
            cdOffset = buf.getLong((int) z64 + 48);
        }
        if (cdOffset > cap || count > 1_000_000) throw new IllegalStateException("central directory out of range");
        int p = (int) cdOffset;
        for (long i = 0; i < count; i++) {
            if (p + 46 > cap || buf.getInt(p) != 0x02014b50) throw new IllegalStateException("bad central directory entry " + i);
            int method = buf.getShort(p + 10) & 0xffff;
            long csize = buf.getInt(p + 20) & 0xffffffffL;
            long size = buf.getInt(p + 24) & 0xffffffffL;
            int nlen = buf.getShort(p + 28) & 0xffff;
            int xlen = buf.getShort(p + 30) & 0xffff;
            int clen = buf.getShort(p + 32) & 0xffff;
            long off = buf.getInt(p + 42) & 0xffffffffL;
            String name = string(p + 46, nlen);
            // ZIP64 extra field: sizes and offset that did not fit
            int x = p + 46 + nlen;
            int xend = x + xlen;
            while (x + 4 <= xend && xend <= cap) {
                int id = buf.getShort(x) & 0xffff;
                int len = buf.getShort(x + 2) & 0xffff;
                if (id == 0x0001) {
                    int q = x + 4;
                    if (size == 0xffffffffL) { size = buf.getLong(q); q += 8; }
                    if (csize == 0xffffffffL) { csize = buf.getLong(q); q += 8; }
                    if (off == 0xffffffffL) { off = buf.getLong(q); }
                }
                x += 4 + len;
            }
            central.add(new Entry(name, method, csize, size, off));
            p += 46 + nlen + xlen + clen;
        }
        checkLocalHeaders();
    }

    /** Every central entry must have a local header with the same name; the local headers must not hide extra entries. */
    private void checkLocalHeaders() {
        Map<Long, Entry> byOffset = new LinkedHashMap<>();
        for (Entry e : central) {
            byOffset.put(e.localOffset(), e);
            if (e.localOffset() + 30 > buf.capacity() || buf.getInt((int) e.localOffset()) != 0x04034b50) {
                problems.add("central entry " + e.name() + " points at no local header");
                continue;
            }
            int lo = (int) e.localOffset();
            String local = string(lo + 30, buf.getShort(lo + 26) & 0xffff);
            if (!local.equals(e.name())) problems.add("local header names '" + local + "' where the central directory names '" + e.name() + "'");
            int method = buf.getShort(lo + 8) & 0xffff;
            if (method != e.method()) problems.add("compression method differs for " + e.name());
        }
        // walk local headers from the start: entries the central directory does not list are hidden
        long p = 0;
        while (p + 30 <= buf.capacity() && buf.getInt((int) p) == 0x04034b50) {
            Entry e = byOffset.get(p);
            int nlen = buf.getShort((int) p + 26) & 0xffff;
            int xlen = buf.getShort((int) p + 28) & 0xffff;
            if (e == null) {
                problems.add("local header at offset " + p + " ('" + string((int) p + 30, nlen) + "') is not in the central directory");
                long csize = buf.getInt((int) p + 18) & 0xffffffffL;
                p += 30 + nlen + xlen + csize;
            } else {
                p += 30 + nlen + xlen + e.compressedSize();
                if ((buf.getShort((int) e.localOffset() + 6) & 0x08) != 0) {
                    // a data descriptor follows (12 or 16 bytes, with optional signature)
                    if (p + 4 <= buf.capacity() && buf.getInt((int) p) == 0x08074b50) p += 4;
                    p += 12;
                }
            }
        }
    }

    /** The member's uncompressed bytes (stored or deflated), bounded. */
    byte[] content(Entry e) throws DataFormatException {
        if (e.size() > MAX_MEMBER || e.compressedSize() > MAX_MEMBER) throw new DataFormatException("member larger than 1 GiB");
        int lo = (int) e.localOffset();
        int start = lo + 30 + (buf.getShort(lo + 26) & 0xffff) + (buf.getShort(lo + 28) & 0xffff);
        if (start < 0 || start + e.compressedSize() > buf.capacity()) throw new DataFormatException("member data out of range");
        byte[] raw = new byte[(int) e.compressedSize()];
        buf.get(start, raw);
        if (e.method() == 0) return raw;
        if (e.method() != 8) throw new DataFormatException("compression method " + e.method() + " not supported");
        Inflater inf = new Inflater(true);
        try {
            inf.setInput(raw);
            byte[] out = new byte[(int) e.size()];
            int n = 0;
            while (n < out.length && !inf.finished()) {
                int k = inf.inflate(out, n, out.length - n);
                if (k == 0 && (inf.needsInput() || inf.needsDictionary())) break;
                n += k;
            }
            if (n != out.length) throw new DataFormatException("member inflates to " + n + " bytes, not " + out.length);
            return out;
        } finally {
            inf.end();
        }
    }

    private String string(int at, int len) {
        if (at < 0 || at + len > buf.capacity()) throw new IllegalStateException("name out of range");
        byte[] b = new byte[len];
        buf.get(at, b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
