package dev.amalgam.scan;

import java.util.Set;

/**
 * Judges the imports a pickle makes. The allowlist is exact (module, qualname) pairs of what
 * {@code torch.save} state dicts and NumPy arrays legitimately use; anything else is a finding.
 * The denylist only sets severity and explanation; it never lets anything through.
 */
final class PickleImports {
    private static final Set<String> ALLOWED = Set.of(
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
            "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
            "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage",
            "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage",
            "torch.BoolStorage", "torch.ComplexFloatStorage", "torch.ComplexDoubleStorage", "torch.storage.UntypedStorage",
            "torch.float16", "torch.float32", "torch.float64", "torch.bfloat16", "torch.int8", "torch.int16",
            "torch.int32", "torch.int64", "torch.uint8", "torch.bool", "torch.complex64", "torch.complex128",
            "torch.float8_e4m3fn", "torch.float8_e5m2", "torch.Size", "torch.device",
            "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype",
            "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
            "builtins.set", "builtins.frozenset", "__builtin__.set", "__builtin__.frozenset",
            "_codecs.encode");

    /** Module prefixes whose import means code execution or file/network access. */
    private static final Set<String> DANGEROUS_MODULES = Set.of("os", "posix", "nt", "subprocess", "sys", "socket",
            "shutil", "runpy", "importlib", "pkgutil", "pydoc", "operator", "_operator", "code", "codeop", "pty",
            "webbrowser", "requests", "urllib", "http", "ctypes", "pickle", "_pickle", "marshal", "types", "commands",
            "asyncio", "multiprocessing", "threading", "signal", "platform", "tempfile", "glob", "io", "_io",
            "zipimport", "bdb", "pdb", "timeit", "cProfile", "profile", "trace", "functools", "torch.hub", "torch._C",
            "torch.jit", "torch.ops", "torch.serialization", "torch._dynamo", "torch._inductor", "numpy.testing",
            "numpy.f2py", "numpy.distutils", "numpy.ctypeslib");

    private static final Set<String> DANGEROUS_BUILTINS = Set.of("eval", "exec", "compile", "open", "__import__",
            "getattr", "setattr", "delattr", "globals", "locals", "vars", "breakpoint", "input", "apply", "execfile",
            "file", "reload", "memoryview", "type", "object", "super", "classmethod", "staticmethod", "property");

    private PickleImports() {
    }

    static boolean allowed(String module, String name) {
        return ALLOWED.contains(module + "." + name);
    }

    /** Severity and explanation of a global that is not on the allowlist. */
    static Finding.Severity severity(String module, String name) {
        String top = module.contains(".") ? module.substring(0, module.indexOf('.')) : module;
        if (module.equals("builtins") || module.equals("__builtin__")) {
            String first = name.contains(".") ? name.substring(0, name.indexOf('.')) : name;
            return DANGEROUS_BUILTINS.contains(first) ? Finding.Severity.CRITICAL : Finding.Severity.HIGH;
        }
        for (String d : DANGEROUS_MODULES) {
            if (module.equals(d) || module.startsWith(d + ".") || top.equals(d)) return Finding.Severity.CRITICAL;
        }
        if (name.contains("__") || name.contains(".")) return Finding.Severity.CRITICAL; // dotted / dunder attribute walks
        if ((module + "." + name).matches("torch\\.(load|save|_load|_save|compile)")) return Finding.Severity.CRITICAL;
        return Finding.Severity.HIGH;
    }

    static String explain(String module, String name, Finding.Severity s) {
        return s == Finding.Severity.CRITICAL
                ? "imports " + module + "." + name + ", which can run code or touch files and the network when loaded"
                : "imports " + module + "." + name + ", which is not something a weights-only checkpoint needs";
    }
}
