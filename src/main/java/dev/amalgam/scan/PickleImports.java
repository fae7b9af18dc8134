package dev.amalgam.scan;

import java.util.Map;
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
    private static final Set<String> DANGEROUS_MODULES = Set.of(
            "os", "posix", "nt", "subprocess", "sys", "socket", "shutil", "runpy", "importlib", "pkgutil", "pydoc",
            "operator", "_operator", "code", "codeop", "pty", "webbrowser", "requests", "urllib", "http", "ctypes",
            "pickle", "_pickle", "marshal", "types", "commands", "asyncio", "multiprocessing", "threading", "signal",
            "platform", "tempfile", "glob", "io", "_io", "zipimport", "bdb", "pdb", "timeit", "cProfile", "profile",
            "trace", "functools", "torch.hub", "torch._C", "torch.jit", "torch.ops", "torch.serialization",
            "torch.package", "torch.utils", "torch.distributed", "torch.fx", "torch.cuda", "torch._ops",
            "torch.testing", "torch.library", "torch._dynamo", "copyreg", "copy_reg", "dill", "joblib", "cloudpickle",
            "numpy.load", "numpy.lib", "numpy.ma", "_thread", "_posixsubprocess", "_winapi", "msvcrt", "nturl2path",
            "smtplib", "ftplib", "telnetlib", "imaplib", "poplib", "xmlrpc", "ssl", "select", "selectors", "mmap",
            "fcntl", "resource", "gc", "inspect", "linecache", "site", "sysconfig", "distutils", "setuptools", "pip",
            "venv", "ensurepip", "idlelib", "lib2to3", "tkinter", "sqlite3", "dbm", "shelve", "zipfile", "tarfile",
            "lzma", "bz2", "gzip", "zlib", "base64", "binascii", "pathlib", "fileinput", "filecmp", "stat", "unittest",
            "doctest", "logging", "_pydevd_bundle", "IPython", "uuid", "cgi", "ctypes.util", "_ctypes", "_sqlite3",
            "torch._inductor", "numpy.testing", "numpy.f2py", "numpy.distutils", "numpy.ctypeslib");

    private static final Set<String> DANGEROUS_BUILTINS = Set.of("eval", "exec", "compile", "open", "__import__",
            "getattr", "setattr", "delattr", "globals", "locals", "vars", "breakpoint", "input", "apply", "execfile",
            "file", "reload", "memoryview", "type", "object", "super", "classmethod", "staticmethod", "property");

    /**
     * Python 2 module names the C unpickler maps to Python 3 ones when the stream's protocol is below 3
     * ({@code fix_imports}, {@code Lib/_compat_pickle.py} IMPORT_MAPPING; a stream without PROTO is
     * protocol 0). Only used for severity: the allowlist stays exact.
     */
    private static final Map<String, String> PY2_MODULES = Map.ofEntries(
            Map.entry("__builtin__", "builtins"), Map.entry("exceptions", "builtins"),
            Map.entry("copy_reg", "copyreg"), Map.entry("cPickle", "pickle"),
            Map.entry("commands", "subprocess"), Map.entry("urllib2", "urllib.request"),
            Map.entry("httplib", "http.client"), Map.entry("SocketServer", "socketserver"),
            Map.entry("cStringIO", "io"), Map.entry("StringIO", "io"),
            Map.entry("thread", "_thread"), Map.entry("dummy_thread", "_dummy_thread"),
            Map.entry("BaseHTTPServer", "http.server"), Map.entry("SimpleHTTPServer", "http.server"),
            Map.entry("CGIHTTPServer", "http.server"), Map.entry("xmlrpclib", "xmlrpc.client"),
            Map.entry("cookielib", "http.cookiejar"), Map.entry("urlparse", "urllib.parse"),
            Map.entry("anydbm", "dbm"), Map.entry("UserDict", "collections"),
            Map.entry("__main__", "__main__"));

    private PickleImports() {
    }

    static boolean allowed(String module, String name) {
        return ALLOWED.contains(module + "." + name);
    }

    /** Severity and explanation of a global that is not on the allowlist. */
    static Finding.Severity severity(String rawModule, String name) {
        String module = PY2_MODULES.getOrDefault(rawModule, rawModule);
        if (module.equals("copyreg") || module.equals("builtins") && name.equals("__import__")) return Finding.Severity.CRITICAL;
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
