package dev.amalgam.scan;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** GGUF header and metadata: checked for structure; the license is reported. */
final class Gguf {
    private Gguf() {
    }

    static void readMetadata(ByteBuffer b, String name, List<Finding> out) {
        try {
            b.getInt(); // magic
            int version = b.getInt();
            if (version < 1 || version > 3) throw new IllegalStateException("unknown GGUF version " + version);
            long tensors = b.getLong();
            long kvs = b.getLong();
            if (tensors < 0 || kvs < 0 || kvs > 100_000) throw new IllegalStateException("implausible counts");
            for (long i = 0; i < kvs; i++) {
                String key = string(b);
                int type = b.getInt();
                Object v = value(b, type, 0);
                if (key.equals("general.license") || key.equals("general.license.name")) {
                    out.add(new Finding(name, Rule.GGUF_LICENSE, "declared license", String.valueOf(v)));
                }
                // llama.cpp and transformers' GGUF loader take the chat template from tokenizer.chat_template
                // (and named ones from tokenizer.chat_template.<name>)
                if (key.startsWith("tokenizer.chat_template")) {
                    if (v instanceof String t) ChatTemplates.judge(t, name + "!" + key, out);
                    else out.add(new Finding(name, Rule.UNSCANNABLE_TEMPLATE, "a chat template that is not a string", key));
                }
            }
        } catch (BufferUnderflowException | IllegalStateException | IllegalArgumentException e) {
            out.add(new Finding(name, Rule.UNSCANNABLE_GGUF, "malformed or truncated GGUF metadata",
                    e instanceof IllegalStateException ? e.getMessage() : "truncated or out of range"));
        }
    }

    private static String string(ByteBuffer b) {
        long n = b.getLong();
        if (n < 0 || n > b.remaining() || n > 1 << 26) throw new IllegalStateException("string length " + n);
        byte[] s = new byte[(int) n];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static Object value(ByteBuffer b, int type, int depth) {
        return switch (type) {
            case 0, 1, 7 -> b.get();
            case 2, 3 -> b.getShort();
            case 4, 5 -> b.getInt();
            case 6 -> b.getFloat();
            case 8 -> string(b);
            case 9 -> {
                if (depth > 2) throw new IllegalStateException("arrays nested too deeply");
                int t = b.getInt();
                long n = b.getLong();
                if (n < 0 || n > 50_000_000) throw new IllegalStateException("array length " + n);
                for (long i = 0; i < n; i++) value(b, t, depth + 1);
                yield "[" + n + "]";
            }
            case 10, 11 -> b.getLong();
            case 12 -> b.getDouble();
            default -> throw new IllegalStateException("unknown value type " + type);
        };
    }
}
