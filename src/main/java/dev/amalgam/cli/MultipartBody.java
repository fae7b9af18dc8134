package dev.amalgam.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;

/**
 * A multipart/form-data body streamed from files: model shards are tens of GB, so nothing is
 * read into memory; the files are opened one after the other while the request is sent.
 */
final class MultipartBody {
    private final String boundary;
    private final List<Supplier<InputStream>> parts = new ArrayList<>();
    private long length;

    MultipartBody() {
        byte[] r = new byte[16];
        new SecureRandom().nextBytes(r);
        boundary = "amalgam-" + HexFormat.of().formatHex(r);
    }

    String contentType() {
        return "multipart/form-data; boundary=" + boundary;
    }

    MultipartBody field(String name, String value) {
        bytes(header(name, null, "text/plain; charset=UTF-8"));
        bytes(value.getBytes(StandardCharsets.UTF_8));
        bytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        return this;
    }

    /** A file part whose field name is the file's relative path inside the model. */
    MultipartBody file(String relativePath, Path file) throws IOException {
        bytes(header(relativePath, relativePath, "application/octet-stream"));
        long size = Files.size(file);
        length += size;
        parts.add(() -> {
            try {
                return Files.newInputStream(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        bytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        return this;
    }

    HttpRequest.BodyPublisher publisher() {
        bytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        List<Supplier<InputStream>> all = List.copyOf(parts);
        HttpRequest.BodyPublisher p = HttpRequest.BodyPublishers.ofInputStream(() ->
                new SequenceInputStream(Collections.enumeration(all.stream().map(LazyStream::new).toList())));
        return HttpRequest.BodyPublishers.fromPublisher(p, length);
    }

    private byte[] header(String name, String filename, String type) {
        String h = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + quote(name) + "\""
                + (filename == null ? "" : "; filename=\"" + quote(filename) + "\"")
                + "\r\nContent-Type: " + type + "\r\n\r\n";
        return h.getBytes(StandardCharsets.UTF_8);
    }

    private void bytes(byte[] b) {
        length += b.length;
        parts.add(() -> new ByteArrayInputStream(b));
    }

    /** Quoted-string per RFC 7578: escape the quote and backslash; paths never contain CR/LF here. */
    private static String quote(String s) {
        if (s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0) {
            throw new CliException(CliException.UNUSABLE, "file name with a line break: " + s.replace("\n", "\\n"));
        }
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    /** Opens its stream only when the previous one is exhausted (one open file at a time). */
    private static final class LazyStream extends InputStream {
        private final Supplier<InputStream> open;
        private InputStream in;

        LazyStream(Supplier<InputStream> open) {
            this.open = open;
        }

        private InputStream in() {
            if (in == null) in = open.get();
            return in;
        }

        @Override
        public int read() throws IOException {
            return in().read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return in().read(b, off, len);
        }

        @Override
        public void close() throws IOException {
            if (in != null) in.close();
        }
    }
}
