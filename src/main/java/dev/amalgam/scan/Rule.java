package dev.amalgam.scan;

import java.util.Locale;

/**
 * Every rule the scanner can report: its id (stable, used in reports and policies), its severity,
 * whether it means "could not scan", and what it detects. The rule table of {@code docs/security.md}
 * is generated from this enum ({@link #markdownTable()}) and a test keeps the two equal.
 */
public enum Rule {
    PICKLE_DANGEROUS_IMPORT("pickle.dangerous-import", Finding.Severity.CRITICAL,
            "an import outside the allowlist known to run code or reach the system (`os`, `posix`, `subprocess`, "
                    + "`builtins.eval/exec/getattr/__import__`, `pkgutil.resolve_name`, `operator`, `runpy`, `importlib`, "
                    + "`torch.load`, `torch.hub`, ...), and any dotted or dunder qualname",
            "denylist scanners that miss aliases, universal resolvers, attribute walks on allowed modules"),
    PICKLE_UNKNOWN_IMPORT("pickle.unknown-import", Finding.Severity.HIGH,
            "any other import that is not on the exact allowlist", "gadgets nobody has put on a denylist yet"),
    PICKLE_UNRESOLVED_GLOBAL("pickle.unresolved-global", Finding.Severity.CRITICAL,
            "`STACK_GLOBAL` whose module or name is not a plain string on the emulated stack",
            "operands built by calls to hide the import"),
    PICKLE_CALL("pickle.call", Finding.Severity.HIGH,
            "`REDUCE`/`OBJ`/`INST`/`NEWOBJ(_EX)` on something that is not an import, or `BUILD` (`__setstate__`, "
                    + "attribute writes) on anything but an object made by an allowlisted constructor, e.g. on "
                    + "`torch.FloatStorage` itself",
            "computed callables; state-setting gadgets"),
    PICKLE_EXTENSION("pickle.extension", Finding.Severity.CRITICAL,
            "`EXT1/2/4` (copyreg extension registry imports)", "imports that never name their target"),
    UNSCANNABLE_PICKLE("unscannable.pickle", Finding.Severity.HIGH,
            "a pickle CPython's unpickler would also stop on (truncation, unknown opcode, unsupported protocol, "
                    + "stack underflow, unknown memo key) or a cap exceeded (20M opcodes, 1M memo entries, 1M stack, "
                    + "100k marks); findings before that point are kept",
            "broken-pickle tricks (nullifAI); expansion attacks"),
    TORCH_MAGIC_NOT_LITERAL("torch.magic-not-literal", Finding.Severity.HIGH,
            "a legacy (non-zip) torch file whose first pickle (the magic number) is not a plain literal",
            "magic numbers computed by a call"),
    ZIP_INCONSISTENT("zip.inconsistent", Finding.Severity.HIGH,
            "central directory and local headers disagree (names, methods, hidden or dangling entries)",
            "showing one file to the scanner and another to `torch.load`"),
    UNSCANNABLE_ZIP("unscannable.zip", Finding.Severity.HIGH, "a zip whose members cannot be listed", "broken archives"),
    UNSCANNABLE_ZIP_MEMBER("unscannable.zip-member", Finding.Severity.HIGH, "a zip member that cannot be extracted",
            "zip bombs, unsupported compression"),
    UNSCANNABLE_NESTING("unscannable.nesting", Finding.Severity.HIGH, "archives nested more than 3 deep", "nesting tricks"),
    NUMPY_OBJECT_ARRAY("numpy.object-array", Finding.Severity.HIGH,
            "a `.npy` (or `.npz` member) whose dtype holds Python objects, decided as NumPy's `descr_to_dtype` "
                    + "does (`O`, `object`, `object_`, `('O', (1,))`, structured and subarray fields): NumPy stores it "
                    + "as a pickle, which is scanned too",
            "pickles inside NumPy files under any dtype spelling"),
    UNSCANNABLE_NUMPY("unscannable.numpy", Finding.Severity.HIGH,
            "a `.npy` header that is truncated, not a Python literal, or a dtype we cannot decide", "malformed headers"),
    UNSCANNABLE_ARCHIVE("unscannable.archive", Finding.Severity.HIGH,
            "bz2, xz, 7z archives (we cannot look inside), and broken gzip or tar archives; the contents of gzip and "
                    + "tar archives (the oldest torch format is a tar) are judged like files",
            "payloads hidden in compressed archives"),
    SAFETENSORS_INVALID("safetensors.invalid", Finding.Severity.HIGH,
            "a violation of the strict safetensors header rules (length, JSON, duplicate keys, dtypes, shapes, offsets)",
            "malformed headers that crash or confuse loaders"),
    FORMAT_POLYGLOT("format.polyglot", Finding.Severity.CRITICAL,
            "a file of one format that a pickle loader also accepts, or safetensors with a zip archive at its end",
            "files read differently by different tools"),
    FORMAT_EXTENSION_MISMATCH("format.extension-mismatch", Finding.Severity.HIGH,
            "the name says one format, the content is another (a pickle named `README.md`)",
            "`.safetensors` files that are pickles, pickles under harmless names"),
    CODE_FILE("code.file", Finding.Severity.HIGH, "`*.py`, shell, other scripts and libraries by name (also inside archives)",
            "code shipped for `trust_remote_code` or for users to run"),
    CODE_NOTEBOOK("code.notebook", Finding.Severity.HIGH, "Jupyter notebooks", "code shipped next to weights"),
    CODE_SCRIPT("code.script", Finding.Severity.HIGH, "files starting with `#!`", "scripts under other names"),
    CODE_KERAS_LAMBDA("code.keras-lambda", Finding.Severity.CRITICAL,
            "a Keras model configuration (`config.json` of a `.keras` archive, `model_config` of an HDF5 file) with a "
                    + "`Lambda` layer: marshal-serialised Python bytecode that Keras runs when it loads the model",
            "code in Keras models (CVE-2024-3660 and its variants)"),
    CODE_NATIVE("code.native", Finding.Severity.CRITICAL, "ELF, Mach-O, PE executables and libraries",
            "native code in a model repository"),
    CONFIG_REMOTE_CODE("config.remote-code", Finding.Severity.HIGH,
            "`auto_map` in `config.json`, `tokenizer_config.json` or any other `*_config.json` transformers reads "
                    + "(processor, preprocessor, feature extractor, image processor, generation, ...)",
            "models that need `trust_remote_code=True`, possibly with another repository's code"),
    JSON_INVALID("json.invalid", Finding.Severity.WARNING, "a configuration or template JSON file that is not valid JSON",
            "configs a loader would reject or read differently"),
    TEMPLATE_SANDBOX_ESCAPE("template.sandbox-escape", Finding.Severity.CRITICAL,
            "a chat template whose syntax tree reaches Python internals: a `_`/dunder attribute however the name is "
                    + "built (escapes, `~`, `join`, `format`, `attr`), a computed attribute name, attribute access on "
                    + "template globals (`lipsum`, `cycler`, `self`, ...), format strings with attribute fields",
            "Jinja sandbox escapes in `tokenizer_config.json`, `chat_template.jinja`, `chat_template.json`, GGUF metadata"),
    UNSCANNABLE_TEMPLATE("unscannable.template", Finding.Severity.HIGH,
            "a chat template our strict Jinja parser does not accept", "syntax the judge cannot see through"),
    GGUF_LICENSE("gguf.license", Finding.Severity.INFO, "the license declared in GGUF metadata", "(reporting)"),
    UNSCANNABLE_GGUF("unscannable.gguf", Finding.Severity.HIGH, "malformed or truncated GGUF metadata", "broken headers"),
    UNSCANNABLE_UNKNOWN_FORMAT("unscannable.unknown-format", Finding.Severity.HIGH,
            "binary content of no known format (images and SentencePiece `*.model` files are data)",
            "formats nobody can judge"),
    UNSCANNABLE_TOO_LARGE("unscannable.too-large", Finding.Severity.HIGH,
            "pickle, zip or NumPy files over 1 GiB (convert them to safetensors)", "resource exhaustion"),
    FILE_SYMLINK("file.symlink", Finding.Severity.HIGH, "symbolic links in a model folder", "links outside the model"),
    UNSCANNABLE_IO("unscannable.io", Finding.Severity.HIGH, "a file that cannot be read", "(fail closed)");

    private final String id;
    private final Finding.Severity severity;
    private final String detects;
    private final String stops;

    Rule(String id, Finding.Severity severity, String detects, String stops) {
        this.id = id;
        this.severity = severity;
        this.detects = detects;
        this.stops = stops;
    }

    public String id() {
        return id;
    }

    public Finding.Severity severity() {
        return severity;
    }

    /** Rules whose id starts with {@code unscannable.}: the file could not be judged (exit 2 unless a real finding). */
    public boolean unscannable() {
        return id.startsWith("unscannable.");
    }

    /** The exit code this rule alone gives {@code amalgam scan}. */
    public int exitCode() {
        if (unscannable()) return 2;
        return severity == Finding.Severity.INFO ? 0 : 1;
    }

    /** The rule table of docs/security.md, generated. */
    public static String markdownTable() {
        StringBuilder b = new StringBuilder("| rule id | severity | exit | what it detects | bypass it stops |\n|---|---|---|---|---|\n");
        for (Rule r : values()) {
            b.append("| `").append(r.id).append("` | ").append(r.severity.name().toLowerCase(Locale.ROOT)).append(" | ")
                    .append(r.exitCode()).append(" | ").append(r.detects).append(" | ").append(r.stops).append(" |\n");
        }
        return b.toString();
    }
}
