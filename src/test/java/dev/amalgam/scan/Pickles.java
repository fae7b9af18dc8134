package dev.amalgam.scan;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds pickle bytes opcode by opcode for tests (never by running Python). */
final class Pickles {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static Pickles proto(int v) {
        Pickles p = new Pickles();
        p.op(0x80).op(v);
        return p;
    }

    Pickles op(int b) {
        out.write(b);
        return this;
    }

    Pickles global(String module, String name) {
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    Pickles str(String s) { // SHORT_BINUNICODE
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op(0x8c).op(b.length);
        out.writeBytes(b);
        return this;
    }

    Pickles binunicode(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X').op(b.length).op(b.length >> 8).op(0).op(0);
        out.writeBytes(b);
        return this;
    }

    Pickles stackGlobal() { return op(0x93); }
    Pickles mark() { return op('('); }
    Pickles tuple() { return op('t'); }
    Pickles emptyTuple() { return op(')'); }
    Pickles tuple1() { return op(0x85); }
    Pickles reduce() { return op('R'); }
    Pickles build() { return op('b'); }
    Pickles emptyDict() { return op('}'); }
    Pickles setitems() { return op('u'); }
    Pickles setitemOne() { return op('s'); }
    Pickles int1(int v) { return op('K').op(v); }
    Pickles binput(int i) { return op('q').op(i); }
    Pickles binget(int i) { return op('h').op(i); }
    Pickles memoize() { return op(0x94); }
    Pickles stop() { return op('.'); }
    Pickles none() { return op('N'); }
    Pickles newFalse() { return op(0x89); }

    Pickles raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    /** {@code os.system("id")} the classic way. */
    static byte[] osSystem() {
        return proto(2).global("os", "system").str("id").tuple1().reduce().stop().bytes();
    }

    /**
     * A torch.save-style state dict pickle: OrderedDict of one tensor rebuilt by
     * _rebuild_tensor_v2 from a persistent-id storage, with a _metadata BUILD.
     */
    static byte[] stateDict() {
        Pickles p = proto(2);
        p.global("collections", "OrderedDict").emptyTuple().reduce().binput(0);
        p.mark();
        p.str("weight");
        p.global("torch._utils", "_rebuild_tensor_v2");
        p.mark();
        p.mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").int1(4).tuple().op('Q');
        p.int1(0).mark().int1(2).int1(2).tuple().mark().int1(2).int1(1).tuple().newFalse();
        p.global("collections", "OrderedDict").emptyTuple().reduce();
        p.tuple().reduce();
        p.setitems();
        p.mark().str("_metadata").global("collections", "OrderedDict").emptyTuple().reduce().op('d');
        p.build();
        return p.stop().bytes();
    }
}
