package dev.amalgam.registry;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Extracts a tar stream (ustar, GNU long names, pax {@code path}/{@code size} records) of a model
 * folder into a staging folder, streaming. Hardened: header checksums verified, only regular files
 * and directories accepted (links, devices and FIFOs refused), every path checked by
 * {@link ModelPath}, duplicates refused, per-stream size limit enforced while reading.
 */
public final class TarExtractor {
    private static final int BLOCK = 512;
    private static final int MAX_META = 1 << 20; // long names / pax headers

    private final long maxTotalBytes;

    public TarExtractor(long maxTotalBytes) {
        this.maxTotalBytes = maxTotalBytes;
    }

    /** Extracts into {@code dest}; returns path → size of every regular file. */
    public Map<String, Long> extract(InputStream in, Path dest) throws IOException {
        Map<String, Long> files = new LinkedHashMap<>();
        Set<String> seen = new HashSet<>();
        byte[] h = new byte[BLOCK];
        long total = 0;
        String longName = null;
        Map<String, String> pax = Map.of();
        while (true) {
            if (!readBlock(in, h)) throw bad("truncated: the archive ends without its end-of-archive blocks");
            if (isZero(h)) {
                return files; // end of archive (the second zero block is optional in practice)
            }
            verifyChecksum(h);
            char type = (char) (h[156] == 0 ? '0' : h[156]);
            long size = pax.containsKey("size") ? parsePaxSize(pax.get("size")) : number(h, 124, 12);
            String name = longName != null ? longName : pax.getOrDefault("path", ustarName(h));
            switch (type) {
                case 'L', 'x' -> {
                    if (size > MAX_META) throw bad("metadata record of " + size + " bytes is too large");
                    byte[] meta = readData(in, (int) size);
                    if (type == 'L') {
                        longName = cString(meta);
                    } else {
                        pax = parsePax(meta);
                    }
                    continue;
                }
                case 'g' -> {
                    if (size > MAX_META) throw bad("metadata record of " + size + " bytes is too large");
                    readData(in, (int) size); // global pax header: nothing we use
                    continue;
                }
                case '5' -> {
                    skip(in, size);
                }
                case '0', '7' -> {
                    String rel = normalise(name);
                    ModelPath path = new ModelPath(rel);
                    if (!seen.add(rel)) throw bad("duplicate entry " + rel);
                    total += size;
                    if (total > maxTotalBytes) {
                        throw RegistryException.tooLarge("upload exceeds the limit of " + maxTotalBytes + " bytes");
                    }
                    Path target = path.resolveIn(dest);
                    Files.createDirectories(target.getParent());
                    try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE)) {
                        copy(in, out, size);
                    }
                    skipPadding(in, size);
                    files.put(rel, size);
                }
                case '1', '2' -> throw bad("links are not allowed in a model archive: " + printable(name));
                default -> throw bad("entry type '" + type + "' (device, FIFO or unknown) is not allowed: " + printable(name));
            }
            longName = null;
            pax = Map.of();
        }
    }

    private static String normalise(String name) {
        String n = name;
        while (n.startsWith("./")) n = n.substring(2);
        return n;
    }

    private static String ustarName(byte[] h) {
        String name = cString(h, 0, 100);
        boolean ustar = new String(h, 257, 5, StandardCharsets.US_ASCII).equals("ustar");
        String prefix = ustar ? cString(h, 345, 155) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    private static void verifyChecksum(byte[] h) {
        long stored;
        try {
            stored = number(h, 148, 8);
        } catch (RegistryException e) {
            throw bad("header checksum mismatch (not a tar archive, or corrupted)");
        }
        long sum = 0;
        for (int i = 0; i < BLOCK; i++) sum += (i >= 148 && i < 156) ? ' ' : (h[i] & 0xff);
        if (sum != stored) throw bad("header checksum mismatch (not a tar archive, or corrupted)");
    }

    /** Octal (NUL/space terminated) or GNU base-256 number. */
    static long number(byte[] h, int off, int len) {
        if ((h[off] & 0x80) != 0) {
            if ((h[off] & 0x40) != 0) throw bad("negative number in a tar header");
            long v = h[off] & 0x3f;
            for (int i = 1; i < len; i++) {
                if (v > (Long.MAX_VALUE >> 8)) throw bad("number in a tar header is too large");
                v = (v << 8) | (h[off + i] & 0xff);
            }
            return v;
        }
        long v = 0;
        int i = off;
        int end = off + len;
        while (i < end && (h[i] == ' ' || h[i] == 0)) i++;
        boolean any = false;
        for (; i < end && h[i] != 0 && h[i] != ' '; i++) {
            if (h[i] < '0' || h[i] > '7') throw bad("invalid octal number in a tar header");
            if (v > (Long.MAX_VALUE >> 3)) throw bad("number in a tar header is too large");
            v = (v << 3) | (h[i] - '0');
            any = true;
        }
        if (!any) return 0;
        return v;
    }

    static Map<String, String> parsePax(byte[] meta) {
        Map<String, String> m = new LinkedHashMap<>();
        int i = 0;
        while (i < meta.length) {
            int sp = i;
            while (sp < meta.length && meta[sp] != ' ') sp++;
            if (sp >= meta.length) throw bad("malformed pax header");
            int len;
            try {
                len = Integer.parseInt(new String(meta, i, sp - i, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw bad("malformed pax header length");
            }
            if (len <= sp - i + 1 || i + len > meta.length || meta[i + len - 1] != '\n') throw bad("malformed pax record");
            String rec = new String(meta, sp + 1, i + len - sp - 2, StandardCharsets.UTF_8);
            int eq = rec.indexOf('=');
            if (eq <= 0) throw bad("malformed pax record");
            m.put(rec.substring(0, eq), rec.substring(eq + 1));
            i += len;
        }
        return m;
    }

    private static long parsePaxSize(String s) {
        try {
            long v = Long.parseLong(s);
            if (v < 0) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw bad("invalid pax size");
        }
    }

    private static boolean readBlock(InputStream in, byte[] b) throws IOException {
        int n = in.readNBytes(b, 0, BLOCK);
        if (n == 0) return false;
        if (n < BLOCK) throw bad("truncated header block");
        return true;
    }

    private static byte[] readData(InputStream in, int size) throws IOException {
        byte[] d = in.readNBytes(size);
        if (d.length < size) throw bad("truncated metadata record");
        skipPadding(in, size);
        return d;
    }

    private static void copy(InputStream in, OutputStream out, long size) throws IOException {
        byte[] buf = new byte[1 << 16];
        long left = size;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) throw bad("truncated: a file's data ends early");
            out.write(buf, 0, n);
            left -= n;
        }
    }

    private static void skip(InputStream in, long size) throws IOException {
        long padded = (size + BLOCK - 1) / BLOCK * BLOCK;
        try {
            in.skipNBytes(padded);
        } catch (EOFException e) {
            throw bad("truncated archive");
        }
    }

    private static void skipPadding(InputStream in, long size) throws IOException {
        int pad = (int) ((BLOCK - size % BLOCK) % BLOCK);
        try {
            in.skipNBytes(pad);
        } catch (EOFException e) {
            throw bad("truncated archive");
        }
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) if (x != 0) return false;
        return true;
    }

    private static String cString(byte[] b) {
        return cString(b, 0, b.length);
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) end++;
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    private static String printable(String s) {
        return s.replaceAll("[\\x00-\\x1f\\x7f]", "?");
    }

    private static RegistryException bad(String why) {
        return RegistryException.badRequest("invalid tar archive: " + why);
    }
}
