package dev.amalgam.scan;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/** File formats told apart by content (magic bytes and structure), never by name. */
enum Format {
    SAFETENSORS, PICKLE, ZIP, NUMPY, GGUF, GZIP, BZIP2, XZ, SEVENZIP, TAR, ELF, MACHO, PE, TEXT, BINARY;

    /** The name used in messages ("pickle", "safetensors", ...). */
    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    static String labels(Set<Format> formats) {
        return formats.stream().map(Format::label).sorted().collect(Collectors.joining(" or "));
    }

    /** Decides the format from the first bytes (up to 64 KiB) and the file size. */
    static Format sniff(byte[] head, long size) {
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5) && (head[3] == 4 || head[3] == 6)) return ZIP;
        if (startsWith(head, 0x93, 'N', 'U', 'M', 'P', 'Y')) return NUMPY;
        if (startsWith(head, 'G', 'G', 'U', 'F')) return GGUF;
        if (startsWith(head, 0x1f, 0x8b)) return GZIP;
        if (startsWith(head, 'B', 'Z', 'h')) return BZIP2;
        if (startsWith(head, 0xfd, '7', 'z', 'X', 'Z', 0)) return XZ;
        if (startsWith(head, '7', 'z', 0xbc, 0xaf, 0x27, 0x1c)) return SEVENZIP;
        if (startsWith(head, 0x7f, 'E', 'L', 'F')) return ELF;
        if (startsWith(head, 0xfe, 0xed, 0xfa, 0xce) || startsWith(head, 0xfe, 0xed, 0xfa, 0xcf)
                || startsWith(head, 0xce, 0xfa, 0xed, 0xfe) || startsWith(head, 0xcf, 0xfa, 0xed, 0xfe)
                || startsWith(head, 0xca, 0xfe, 0xba, 0xbe)) return MACHO;
        if (startsWith(head, 'M', 'Z')) return PE;
        if (head.length > 262 && new String(head, 257, 5, StandardCharsets.US_ASCII).equals("ustar")) return TAR;
        // a structurally plausible safetensors header wins over a length whose bytes read like PROTO (80 02 = 640)
        if (safetensors(head, size)) return SAFETENSORS;
        if (head.length >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 0 && head[1] <= 5) return PICKLE;
        // protocol 0 and 1 pickles have no PROTO opcode: the scanner probes TEXT and BINARY content with the emulator
        return text(head) ? TEXT : BINARY;
    }

    static boolean safetensors(byte[] head, long size) {
        if (head.length < 9) return false;
        long n = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return n > 1 && n <= size - 8 && head[8] == '{';
    }

    static boolean text(byte[] head) {
        if (head.length == 0) return true;
        for (byte b : head) if (b == 0) return false;
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(head, 0, trimUtf8(head)));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /** Length without a UTF-8 sequence cut at the end of the sample. */
    private static int trimUtf8(byte[] b) {
        int n = b.length;
        for (int i = 1; i <= 3 && n - i >= 0; i++) {
            int c = b[n - i] & 0xff;
            if ((c & 0xc0) == 0xc0) return n - i;
            if ((c & 0x80) == 0) return n;
        }
        return n;
    }

    private static boolean startsWith(byte[] b, int... sig) {
        if (b.length < sig.length) return false;
        for (int i = 0; i < sig.length; i++) if ((b[i] & 0xff) != sig[i]) return false;
        return true;
    }

    /** The formats a file name promises, or null when the name promises nothing. */
    static Set<Format> expectedFor(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.endsWith(".safetensors")) return Set.of(SAFETENSORS);
        if (n.endsWith(".bin") || n.endsWith(".pt") || n.endsWith(".pth") || n.endsWith(".ckpt")) return Set.of(ZIP, PICKLE);
        if (n.endsWith(".pkl") || n.endsWith(".pickle")) return Set.of(PICKLE);
        if (n.endsWith(".npy")) return Set.of(NUMPY);
        if (n.endsWith(".npz") || n.endsWith(".zip")) return Set.of(ZIP);
        if (n.endsWith(".gguf")) return Set.of(GGUF);
        if (n.endsWith(".json") || n.endsWith(".txt") || n.endsWith(".md") || n.endsWith(".yaml") || n.endsWith(".yml")
                || n.endsWith(".jinja")) return Set.of(TEXT);
        if (n.endsWith(".gz") || n.endsWith(".tgz")) return Set.of(GZIP);
        return null;
    }
}
