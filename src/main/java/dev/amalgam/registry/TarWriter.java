package dev.amalgam.registry;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Writes a POSIX (ustar + pax for long names) tar stream of regular files, streaming their content. */
final class TarWriter implements AutoCloseable {
    private final OutputStream out;

    TarWriter(OutputStream out) {
        this.out = out;
    }

    void file(String path, long size, InputStream content) throws IOException {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length > 99) {
            String rec = " path=" + path + "\n";
            int len = rec.getBytes(StandardCharsets.UTF_8).length;
            int total = len + Integer.toString(len).length();
            if (Integer.toString(total).length() != Integer.toString(len).length()) total++;
            byte[] pax = (total + rec).getBytes(StandardCharsets.UTF_8);
            header("PaxHeader/" + Math.abs(path.hashCode()), pax.length, 'x');
            out.write(pax);
            pad(pax.length);
        }
        header(name.length > 99 ? path.substring(0, 40).replace('/', '_') : path, size, '0');
        long n = content.transferTo(out);
        if (n != size) throw new IOException(path + ": expected " + size + " bytes, got " + n);
        pad(size);
    }

    void file(String path, byte[] content) throws IOException {
        file(path, content.length, new ByteArrayInputStream(content));
    }

    private void header(String name, long size, char type) throws IOException {
        byte[] h = new byte[512];
        put(h, 0, name, 100);
        put(h, 100, "0000644", 8);
        put(h, 108, "0000000", 8);
        put(h, 116, "0000000", 8);
        put(h, 124, String.format("%011o", size), 12);
        put(h, 136, String.format("%011o", 0), 12);
        h[156] = (byte) type;
        put(h, 257, "ustar", 6);
        put(h, 263, "00", 2);
        Arrays.fill(h, 148, 156, (byte) ' ');
        int sum = 0;
        for (byte b : h) sum += b & 0xff;
        put(h, 148, String.format("%06o", sum), 7);
        h[155] = ' ';
        out.write(h);
    }

    private static void put(byte[] h, int off, String s, int max) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, h, off, Math.min(b.length, max));
    }

    private void pad(long size) throws IOException {
        int p = (int) ((512 - size % 512) % 512);
        out.write(new byte[p]);
    }

    @Override
    public void close() throws IOException {
        out.write(new byte[1024]);
        out.flush();
    }
}
