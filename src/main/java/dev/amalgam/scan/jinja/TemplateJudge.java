package dev.amalgam.scan.jinja;

import dev.amalgam.scan.jinja.JinjaLexer.Token;
import dev.amalgam.scan.jinja.JinjaLexer.Type;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A strict Jinja parser (the grammar of {@code jinja2/parser.py}, plus the {@code loopcontrols}
 * and {@code generation} tags transformers enables) that judges the template while it parses it.
 * Every expression gets an abstract value: a constant (folded through {@code ~}, {@code +},
 * {@code *}, {@code %}, {@code join}, {@code format}, {@code replace}, ...), a number, data from the
 * caller (messages, tools), a string the template computed, or a template global. The judge
 * reports:
 * <ul>
 * <li>any attribute or item whose name starts with {@code _} (dunders included), however the name
 * was built;</li>
 * <li>any attribute name the template computes (an item key or {@code attr}/{@code map}/
 * {@code selectattr}/... argument built from strings by the template);</li>
 * <li>any access to a template global's internals ({@code lipsum.x}, {@code cycler.x},
 * {@code self.x}, aliases included);</li>
 * <li>{@code str.format} on a string with attribute or index fields, or on a computed string;</li>
 * <li>string literals naming a dunder.</li>
 * </ul>
 * Variable names are not judged: Jinja resolves them in the template's context, never in Python's
 * (real templates use {@code _} and {@code _ns} as local names).
 * Anything the parser does not accept is a {@link TemplateSyntaxError}, never a pass.
 */
public final class TemplateJudge {
    /** One way the template reaches Python internals. */
    public record Violation(int line, String what) {
    }

    private static final Pattern DUNDER = Pattern.compile("__[A-Za-z0-9_]*__");
    private static final Pattern FORMAT_ACCESS = Pattern.compile("\\{[^{}]*[.\\[][^{}]*}");
    /** Globals of Jinja's default environment, transformers' additions and Flask-style names used in exploits. */
    private static final Set<String> GLOBALS = Set.of("range", "lipsum", "dict", "cycler", "joiner", "namespace",
            "raise_exception", "strftime_now", "self", "config", "request", "session", "g", "url_for",
            "get_flashed_messages", "caller", "varargs", "kwargs");
    private static final Set<String> LOOP_NUMBERS = Set.of("index", "index0", "revindex", "revindex0", "length", "depth", "depth0");
    /** Filters and tests whose string arguments are attribute names (dotted paths) looked up with getattr. */
    private static final Set<String> ATTRIBUTE_FILTERS = Set.of("attr", "map", "selectattr", "rejectattr", "sort", "groupby",
            "sum", "unique", "min", "max");

    private enum Kind { CONST, NUM, NUMLIST, DATA, TPL, GLOBAL, NS, MACRO }

    /** The abstract value of an expression. */
    private record V(Kind kind, Object constant, String global, Map<String, V> attrs, boolean literal) {
        static final V DATA = new V(Kind.DATA, null, null, null, false);
        static final V NUM = new V(Kind.NUM, null, null, null, false);
        static final V TPL = new V(Kind.TPL, null, null, null, false);
        static final V NUMLIST = new V(Kind.NUMLIST, null, null, null, false);
        static final Object NONE = new Object() {
            @Override
            public String toString() {
                return "None";
            }
        };

        /** A constant the template computed (folded). */
        static V c(Object o) {
            return new V(Kind.CONST, o, null, null, false);
        }

        /** A constant written as a literal. */
        static V literal(Object o) {
            return new V(Kind.CONST, o, null, null, true);
        }

        static V global(String name) {
            return new V(Kind.GLOBAL, null, name, null, false);
        }

        boolean isConst() {
            return kind == Kind.CONST;
        }

        boolean numeric() {
            return kind == Kind.NUM || kind == Kind.CONST && (constant instanceof Long || constant instanceof Double);
        }

        String str() {
            return kind == Kind.CONST && constant instanceof String s ? s : null;
        }
    }

    /** Nesting of expressions and blocks; beyond it the template is refused (no stack overflow). */
    static final int MAX_DEPTH = 200;

    private final List<Token> t;
    private int p;
    private int depth;
    private final List<Violation> violations = new ArrayList<>();
    private Map<String, V> env = new HashMap<>();

    private TemplateJudge(List<Token> tokens) {
        this.t = tokens;
    }

    /** Parses and judges a template; throws {@link TemplateSyntaxError} when it is not accepted. */
    public static List<Violation> judge(String template) {
        TemplateJudge j = new TemplateJudge(JinjaLexer.tokenize(template));
        String end = j.body(Set.of());
        if (end != null) throw new TemplateSyntaxError(j.cur().line(), "unexpected '" + end + "'");
        j.expect(Type.EOF);
        List<Violation> unique = new ArrayList<>(new LinkedHashSet<>(j.violations));
        return List.copyOf(unique);
    }

    // --- statements

    /** Parses until EOF or a block tag whose name is in {@code ends}; returns that name (its tag is open). */
    private String body(Set<String> ends) {
        while (true) {
            Token k = cur();
            switch (k.type()) {
                case EOF -> {
                    if (!ends.isEmpty()) throw new TemplateSyntaxError(k.line(), "missing one of " + ends);
                    return null;
                }
                case TEXT -> p++;
                case VAR_BEGIN -> {
                    p++;
                    tuple();
                    expect(Type.VAR_END);
                }
                case BLOCK_BEGIN -> {
                    Token name = t.get(p + 1);
                    if (name.type() != Type.NAME) throw new TemplateSyntaxError(name.line(), "a tag without a name");
                    if (ends.contains(name.value())) {
                        p += 2;
                        return name.value();
                    }
                    p += 2;
                    statement(name);
                }
                default -> throw new TemplateSyntaxError(k.line(), "unexpected '" + k.value() + "'");
            }
        }
    }

    private void statement(Token name) {
        if (++depth > MAX_DEPTH) throw new TemplateSyntaxError(name.line(), "blocks nested more than " + MAX_DEPTH + " deep");
        try {
            tag(name);
        } finally {
            depth--;
        }
    }

    private void tag(Token name) {
        switch (name.value()) {
            case "if" -> {
                expression();
                expect(Type.BLOCK_END);
                while (true) {
                    String end = body(Set.of("elif", "else", "endif"));
                    if (end.equals("endif")) break;
                    if (end.equals("elif")) expression();
                    expect(Type.BLOCK_END);
                    if (end.equals("else")) {
                        body(Set.of("endif"));
                        break;
                    }
                }
                expect(Type.BLOCK_END);
            }
            case "for" -> forLoop();
            case "set" -> set();
            case "macro" -> {
                String macro = name();
                Map<String, V> saved = new HashMap<>(env);
                signature();
                expect(Type.BLOCK_END);
                body(Set.of("endmacro"));
                optionalName();
                expect(Type.BLOCK_END);
                env = saved;
                assign(macro, new V(Kind.MACRO, null, null, null, false));
            }
            case "call" -> {
                Map<String, V> saved = new HashMap<>(env);
                if (cur().isOp("(")) signature();
                expression();
                expect(Type.BLOCK_END);
                body(Set.of("endcall"));
                expect(Type.BLOCK_END);
                env = saved;
            }
            case "filter" -> { // {% filter name(args)|more %}: the first filter has no leading '|'
                p--;
                t.set(p, new Token(Type.OP, "|", t.get(p).line()));
                filterChain(V.TPL);
                expect(Type.BLOCK_END);
                body(Set.of("endfilter"));
                expect(Type.BLOCK_END);
            }
            case "with" -> {
                Map<String, V> saved = new HashMap<>(env);
                List<Object[]> binds = new ArrayList<>();
                while (!cur().is(Type.BLOCK_END, "%}")) {
                    if (!binds.isEmpty()) expectOp(",");
                    String target = name();
                    expectOp("=");
                    binds.add(new Object[] {target, expression()});
                }
                for (Object[] b : binds) env.put((String) b[0], (V) b[1]);
                expect(Type.BLOCK_END);
                body(Set.of("endwith"));
                expect(Type.BLOCK_END);
                env = saved;
            }
            case "block" -> {
                name();
                while (cur().isName("scoped") || cur().isName("required")) p++;
                expect(Type.BLOCK_END);
                body(Set.of("endblock"));
                optionalName();
                expect(Type.BLOCK_END);
            }
            case "autoescape" -> {
                expression();
                expect(Type.BLOCK_END);
                body(Set.of("endautoescape"));
                expect(Type.BLOCK_END);
            }
            case "generation" -> { // transformers' AssistantTracker extension
                expect(Type.BLOCK_END);
                body(Set.of("endgeneration"));
                expect(Type.BLOCK_END);
            }
            case "extends", "print", "do" -> {
                expression();
                expect(Type.BLOCK_END);
            }
            case "include" -> {
                expression();
                while (cur().type() == Type.NAME && Set.of("ignore", "missing", "with", "without", "context").contains(cur().value())) p++;
                expect(Type.BLOCK_END);
            }
            case "import" -> {
                expression();
                if (!cur().isName("as")) throw new TemplateSyntaxError(cur().line(), "expected 'as'");
                p++;
                assign(name(), V.DATA);
                while (cur().type() == Type.NAME && Set.of("with", "without", "context").contains(cur().value())) p++;
                expect(Type.BLOCK_END);
            }
            case "from" -> {
                expression();
                if (!cur().isName("import")) throw new TemplateSyntaxError(cur().line(), "expected 'import'");
                p++;
                do {
                    if (cur().type() == Type.NAME && Set.of("with", "without").contains(cur().value())) break;
                    String n = name();
                    if (cur().isName("as")) {
                        p++;
                        n = name();
                    }
                    assign(n, V.DATA);
                } while (acceptOp(","));
                while (cur().type() == Type.NAME && Set.of("with", "without", "context").contains(cur().value())) p++;
                expect(Type.BLOCK_END);
            }
            case "break", "continue" -> expect(Type.BLOCK_END);
            default -> throw new TemplateSyntaxError(name.line(), "unknown tag '" + name.value() + "'");
        }
    }

    private void forLoop() {
        List<String> targets = targets();
        if (!cur().isName("in")) throw new TemplateSyntaxError(cur().line(), "expected 'in'");
        p++;
        V iter = or();
        Map<String, V> saved = new HashMap<>(env);
        V element = element(iter);
        for (String target : targets) env.put(target, element);
        if (cur().isName("if")) {
            p++;
            expression();
        }
        if (cur().isName("recursive")) p++;
        expect(Type.BLOCK_END);
        String end = body(Set.of("else", "endfor"));
        expect(Type.BLOCK_END);
        env = saved;
        if (end.equals("else")) {
            body(Set.of("endfor"));
            expect(Type.BLOCK_END);
        }
    }

    private List<String> targets() {
        List<String> names = new ArrayList<>();
        boolean paren = acceptOp("(");
        do {
            if (cur().isOp("(")) names.addAll(targets());
            else names.add(name());
        } while (acceptOp(",") && !cur().isName("in") && !cur().isOp(")") && !cur().isOp("="));
        if (paren) expectOp(")");
        return names;
    }

    private void set() {
        int line = cur().line();
        String first = cur().isOp("(") ? null : name();
        if (first != null && cur().isOp(".")) { // {% set ns.attr = value %}
            p++;
            String attr = name();
            if (attr.startsWith("_")) violation(line, "sets the attribute " + attr);
            V ns = env.get(first);
            if (ns == null || ns.kind() != Kind.NS) violation(line, "sets an attribute on " + first + ", which is not a namespace");
            expectOp("=");
            V v = expression();
            if (ns != null && ns.kind() == Kind.NS) ns.attrs().merge(attr, v, TemplateJudge::join);
            expect(Type.BLOCK_END);
            return;
        }
        if (first != null) p--;
        List<String> names = targets();
        if (acceptOp("=")) {
            V v = tuple();
            V each = names.size() == 1 ? v : element(v);
            for (String n : names) assign(n, each);
            expect(Type.BLOCK_END);
            return;
        }
        if (cur().isOp("|")) filterChain(V.TPL);
        expect(Type.BLOCK_END);
        body(Set.of("endset"));
        expect(Type.BLOCK_END);
        for (String n : names) assign(n, V.TPL); // the rendered block: text the template wrote
    }

    /** Macro and call-block parameters: names with optional defaults; parameters hold caller data. */
    private void signature() {
        expectOp("(");
        while (!acceptOp(")")) {
            String n = name();
            V v = V.DATA;
            if (acceptOp("=")) v = join(V.DATA, expression());
            env.put(n, v);
            if (!cur().isOp(")")) expectOp(",");
        }
    }

    private void assign(String name, V v) {
        V old = env.get(name);
        env.put(name, old == null ? v : join(old, v));
    }

    // --- expressions

    /** parse_tuple: an expression, or several separated by commas (a tuple without parentheses). */
    private V tuple() {
        V first = expression();
        if (!cur().isOp(",")) return first;
        List<V> items = new ArrayList<>(List.of(first));
        while (acceptOp(",")) {
            if (cur().type() == Type.VAR_END || cur().type() == Type.BLOCK_END) break;
            items.add(expression());
        }
        return list(items);
    }

    private V expression() {
        if (++depth > MAX_DEPTH) throw new TemplateSyntaxError(cur().line(), "nested more than " + MAX_DEPTH + " deep");
        try {
            return conditional();
        } finally {
            depth--;
        }
    }

    private V conditional() {
        V v = or();
        if (cur().isName("if")) {
            p++;
            or();
            V other = V.DATA;
            if (cur().isName("else")) {
                p++;
                other = expression();
            }
            return join(v, other);
        }
        return v;
    }

    private V or() {
        V v = and();
        while (cur().isName("or")) {
            p++;
            v = join(v, and());
        }
        return v;
    }

    private V and() {
        V v = not();
        while (cur().isName("and")) {
            p++;
            v = join(v, not());
        }
        return v;
    }

    private V not() {
        if (cur().isName("not")) {
            p++;
            if (++depth > MAX_DEPTH) throw new TemplateSyntaxError(cur().line(), "nested more than " + MAX_DEPTH + " deep");
            try {
                not();
            } finally {
                depth--;
            }
            return V.DATA;
        }
        return compare();
    }

    private V compare() {
        V v = math1();
        boolean compared = false;
        while (true) {
            Token k = cur();
            if (k.type() == Type.OP && Set.of("==", "!=", ">", ">=", "<", "<=").contains(k.value()) || k.isName("in")) {
                p++;
            } else if (k.isName("not") && t.get(p + 1).isName("in")) {
                p += 2;
            } else {
                break;
            }
            math1();
            compared = true;
        }
        return compared ? V.DATA : v;
    }

    private V math1() {
        V v = concat();
        while (cur().isOp("+") || cur().isOp("-")) {
            String op = cur().value();
            p++;
            V r = concat();
            v = op.equals("+") ? plus(v, r) : arithmetic(v, r, "-");
        }
        return v;
    }

    private V concat() {
        V v = math2();
        while (cur().isOp("~")) {
            p++;
            v = tilde(v, math2());
        }
        return v;
    }

    private V math2() {
        V v = pow();
        while (cur().isOp("*") || cur().isOp("/") || cur().isOp("//") || cur().isOp("%")) {
            String op = cur().value();
            p++;
            V r = pow();
            v = switch (op) {
                case "*" -> times(v, r);
                case "%" -> percent(v, r);
                default -> arithmetic(v, r, op);
            };
        }
        return v;
    }

    private V pow() {
        V v = unary();
        while (cur().isOp("**")) {
            p++;
            v = arithmetic(v, unary(), "**");
        }
        return v;
    }

    private V unary() {
        if (cur().isOp("-") || cur().isOp("+")) {
            boolean neg = cur().isOp("-");
            p++;
            if (++depth > MAX_DEPTH) throw new TemplateSyntaxError(cur().line(), "nested more than " + MAX_DEPTH + " deep");
            V v;
            try {
                v = unary();
            } finally {
                depth--;
            }
            if (v.isConst() && v.constant() instanceof Long l) return V.c(neg ? -l : l);
            if (v.isConst() && v.constant() instanceof Double d) return V.c(neg ? -d : d);
            return V.NUM;
        }
        V v = postfix(primary());
        while (cur().isOp("|") || cur().isName("is")) {
            if (cur().isOp("|")) {
                v = filterChain(v);
            } else {
                p++;
                test();
                v = V.DATA;
            }
            v = postfix(v);
        }
        return v;
    }

    private V primary() {
        Token k = cur();
        switch (k.type()) {
            case NAME -> {
                p++;
                switch (k.value()) {
                    case "true", "True" -> { return V.c(Boolean.TRUE); }
                    case "false", "False" -> { return V.c(Boolean.FALSE); }
                    case "none", "None" -> { return V.c(V.NONE); }
                    default -> {
                        return lookup(k.value(), k.line());
                    }
                }
            }
            case STRING -> {
                StringBuilder b = new StringBuilder();
                while (cur().type() == Type.STRING) { // adjacent literals are one string, as in Jinja
                    b.append(cur().value());
                    p++;
                }
                String s = b.toString();
                if (DUNDER.matcher(s).find()) violation(k.line(), "a string naming a Python dunder: '" + shorten(s) + "'");
                return V.literal(s);
            }
            case INT -> {
                p++;
                return V.c(parseInt(k.value()));
            }
            case FLOAT -> {
                p++;
                return V.c(Double.parseDouble(k.value()));
            }
            case OP -> {
                switch (k.value()) {
                    case "(" -> {
                        p++;
                        if (acceptOp(")")) return V.c(List.of());
                        V first = expression();
                        if (acceptOp(")")) return first;
                        List<V> items = new ArrayList<>(List.of(first));
                        while (acceptOp(",")) {
                            if (cur().isOp(")")) break;
                            items.add(expression());
                        }
                        expectOp(")");
                        return list(items);
                    }
                    case "[" -> {
                        p++;
                        List<V> items = new ArrayList<>();
                        while (!acceptOp("]")) {
                            items.add(expression());
                            if (!cur().isOp("]")) expectOp(",");
                        }
                        return list(items);
                    }
                    case "{" -> {
                        p++;
                        Map<Object, Object> m = new LinkedHashMap<>();
                        V joined = null;
                        boolean allConst = true;
                        while (!acceptOp("}")) {
                            V key = expression();
                            expectOp(":");
                            V val = expression();
                            if (key.isConst() && val.isConst()) m.put(key.constant(), val.constant());
                            else allConst = false;
                            joined = joined == null ? join(key, val) : join(joined, join(key, val));
                            if (!cur().isOp("}")) expectOp(",");
                        }
                        return allConst ? V.c(m) : collapse(joined);
                    }
                    default -> throw new TemplateSyntaxError(k.line(), "unexpected '" + k.value() + "'");
                }
            }
            default -> throw new TemplateSyntaxError(k.line(), "expected an expression");
        }
    }

    private V lookup(String name, int line) {
        V v = env.get(name);
        if (v != null) return v;
        if (name.equals("loop")) return V.global("loop");
        if (GLOBALS.contains(name)) return V.global(name);
        return V.DATA;
    }

    private V postfix(V v) {
        while (true) {
            Token k = cur();
            if (k.isOp(".")) {
                p++;
                Token n = cur();
                if (n.type() == Type.INT) {
                    p++;
                    v = item(v, V.c(parseInt(n.value())), n.line());
                    continue;
                }
                String attr = name();
                if (cur().isOp("(")) {
                    v = method(v, attr, n.line());
                } else {
                    v = attribute(v, attr, n.line());
                }
            } else if (k.isOp("[")) {
                p++;
                V key = subscript();
                expectOp("]");
                v = item(v, key, k.line());
            } else if (k.isOp("(")) {
                List<V> args = new ArrayList<>();
                Map<String, V> kwargs = new LinkedHashMap<>();
                arguments(args, kwargs);
                v = call(v, args, kwargs, k.line());
            } else {
                return v;
            }
        }
    }

    /** A subscript: an expression, a slice ({@code a:b:c}) or a tuple of them. */
    private V subscript() {
        V first = null;
        boolean slice = false;
        if (!cur().isOp(":")) first = expression();
        if (cur().isOp(":")) {
            slice = true;
            p++;
            if (!cur().isOp("]") && !cur().isOp(":") && !cur().isOp(",")) expression();
            if (acceptOp(":") && !cur().isOp("]") && !cur().isOp(",")) expression();
        }
        if (cur().isOp(",")) {
            while (acceptOp(",")) if (!cur().isOp("]")) subscript();
            return V.DATA;
        }
        return slice ? V.NUM : first;
    }

    private void arguments(List<V> args, Map<String, V> kwargs) {
        expectOp("(");
        while (!acceptOp(")")) {
            if (acceptOp("*") || acceptOp("**")) {
                V spread = expression();
                args.add(spread); // the spread values land as arguments, keyword or positional
            } else if (cur().type() == Type.NAME && t.get(p + 1).isOp("=")) {
                String key = cur().value();
                p += 2;
                kwargs.put(key, expression());
            } else {
                args.add(expression());
            }
            if (!cur().isOp(")")) expectOp(",");
        }
    }

    private V filterChain(V input) {
        V v = input;
        while (acceptOp("|")) {
            int line = cur().line();
            StringBuilder name = new StringBuilder(name());
            while (cur().isOp(".")) {
                p++;
                name.append('.').append(name());
            }
            List<V> args = new ArrayList<>();
            Map<String, V> kwargs = new LinkedHashMap<>();
            if (cur().isOp("(")) arguments(args, kwargs);
            v = filter(name.toString(), v, args, kwargs, line);
        }
        return v;
    }

    private void test() {
        acceptName("not");
        int line = cur().line();
        StringBuilder name = new StringBuilder(name());
        while (cur().isOp(".")) {
            p++;
            name.append('.').append(name());
        }
        List<V> args = new ArrayList<>();
        Map<String, V> kwargs = new LinkedHashMap<>();
        if (cur().isOp("(")) {
            arguments(args, kwargs);
        } else if (startsPrimary(cur()) && !cur().isName("else") && !cur().isName("or") && !cur().isName("and")
                && !cur().isName("if") && !cur().isName("in") && !cur().isName("is")) {
            args.add(postfix(primary()));
        }
        attributeArguments(name.toString(), args, kwargs, line);
    }

    private static boolean startsPrimary(Token k) {
        return k.type() == Type.NAME || k.type() == Type.STRING || k.type() == Type.INT || k.type() == Type.FLOAT
                || k.isOp("(") || k.isOp("[") || k.isOp("{");
    }

    // --- the judge: attribute and item access, calls, filters

    private V attribute(V on, String attr, int line) {
        if (attr.startsWith("_")) violation(line, "the attribute " + attr);
        if (on.kind() == Kind.GLOBAL) {
            if (on.global().equals("loop")) {
                if (LOOP_NUMBERS.contains(attr)) return V.NUM;
                if (attr.equals("cycle")) return V.global("loop.cycle");
                if (Set.of("first", "last", "previtem", "nextitem", "changed").contains(attr)) return V.DATA;
            }
            violation(line, "the internals of the template global " + on.global() + " (." + attr + ")");
            return V.DATA;
        }
        if (on.kind() == Kind.NS) return on.attrs().getOrDefault(attr, V.DATA);
        if (on.kind() == Kind.MACRO) {
            violation(line, "the internals of a macro (." + attr + ")");
            return V.DATA;
        }
        if (on.isConst()) return constItem(on.constant(), attr);
        return on.kind() == Kind.NUM || on.kind() == Kind.NUMLIST ? V.DATA : on;
    }

    private V item(V on, V key, int line) {
        String k = key.str();
        if (k != null && k.startsWith("_")) violation(line, "the item or attribute '" + shorten(k) + "'");
        if (k == null && key.kind() == Kind.TPL) violation(line, "an attribute name computed by the template");
        if (k != null && !key.literal() && !k.startsWith("_")) violation(line, "an attribute name computed by the template: '" + shorten(k) + "'");
        if (k == null && key.isConst() && key.constant() instanceof List<?> l && l.stream().anyMatch(x -> x instanceof String s && s.startsWith("_"))) {
            violation(line, "an item key naming a private attribute");
        }
        if (on.kind() == Kind.GLOBAL && !on.global().equals("loop")) {
            violation(line, "the internals of the template global " + on.global());
            return V.DATA;
        }
        if (on.kind() == Kind.MACRO) {
            violation(line, "the internals of a macro");
            return V.DATA;
        }
        if (on.kind() == Kind.NS) return k != null ? on.attrs().getOrDefault(k, V.DATA) : V.DATA;
        if (on.kind() == Kind.NUMLIST) return key.numeric() ? V.NUM : V.NUMLIST;
        if (on.isConst()) {
            if (key.isConst()) {
                Object o = on.constant();
                Object kc = key.constant();
                if (o instanceof String s && kc instanceof Long i) {
                    int idx = (int) (i < 0 ? s.length() + i : i);
                    return idx >= 0 && idx < s.length() ? V.c(String.valueOf(s.charAt(idx))) : V.DATA;
                }
                if (o instanceof List<?> l && kc instanceof Long i) {
                    int idx = (int) (i < 0 ? l.size() + i : i);
                    return idx >= 0 && idx < l.size() ? V.c(l.get(idx)) : V.DATA;
                }
                if (kc instanceof String s) return constItem(o, s);
            }
            return elementOfConst(on.constant());
        }
        return on.kind() == Kind.NUM ? V.DATA : on;
    }

    private static V constItem(Object container, String key) {
        if (container instanceof Map<?, ?> m && m.containsKey(key)) return V.c(m.get(key));
        return safeConst(container) ? V.DATA : V.TPL;
    }

    private V method(V on, String name, int line) {
        if (name.startsWith("_")) violation(line, "the attribute " + name);
        List<V> args = new ArrayList<>();
        Map<String, V> kwargs = new LinkedHashMap<>();
        arguments(args, kwargs);
        if (on.kind() == Kind.GLOBAL) {
            if (on.global().equals("loop") && name.equals("cycle")) return joinAll(args);
            if (!on.global().equals("loop") || !Set.of("changed").contains(name)) {
                violation(line, "the internals of the template global " + on.global() + " (." + name + ")");
            }
            return V.DATA;
        }
        if (on.kind() == Kind.MACRO) {
            violation(line, "the internals of a macro (." + name + ")");
            return V.DATA;
        }
        if (name.equals("format") || name.equals("format_map")) {
            String f = on.str();
            if (f == null) {
                violation(line, "str." + name + " on a string the template does not fix (format fields can read attributes)");
                return V.TPL;
            }
            if (FORMAT_ACCESS.matcher(f).find()) violation(line, "a format string that reads attributes or items: '" + shorten(f) + "'");
            return formatBraces(f, args, kwargs);
        }
        String s = on.str();
        if (s != null) {
            boolean allConst = args.stream().allMatch(V::isConst) && kwargs.isEmpty();
            switch (name) {
                case "lower" -> { return V.c(s.toLowerCase(Locale.ROOT)); }
                case "upper" -> { return V.c(s.toUpperCase(Locale.ROOT)); }
                case "strip" -> { if (args.isEmpty()) return V.c(s.strip()); }
                case "lstrip" -> { if (args.isEmpty()) return V.c(s.stripLeading()); }
                case "rstrip" -> { if (args.isEmpty()) return V.c(s.stripTrailing()); }
                case "replace" -> {
                    if (allConst && args.size() == 2 && args.get(0).str() != null && args.get(1).str() != null) {
                        return V.c(s.replace(args.get(0).str(), args.get(1).str()));
                    }
                }
                case "join" -> {
                    if (allConst && args.size() == 1) {
                        String joined = joinConst(args.getFirst().constant(), s);
                        if (joined != null) return V.c(joined);
                    }
                }
                case "capitalize", "title", "swapcase", "casefold" -> {
                    return name.equals("casefold") ? V.c(s.toLowerCase(Locale.ROOT)) : V.TPL;
                }
                case "startswith", "endswith", "isdigit", "isalpha", "isspace", "count", "find", "index" -> {
                    return V.DATA;
                }
                default -> { }
            }
            return V.TPL;
        }
        if (on.kind() == Kind.TPL) return V.TPL;
        if (on.isConst()) {
            if (Set.of("items", "keys", "values").contains(name)) return elementOfConstAsList(on.constant());
            if (name.equals("get") && on.constant() instanceof Map<?, ?> m && !args.isEmpty() && args.getFirst().str() != null) {
                return m.containsKey(args.getFirst().str()) ? V.c(m.get(args.getFirst().str())) : join(V.DATA, args.size() > 1 ? args.get(1) : V.DATA);
            }
            return safeConst(on.constant()) ? V.DATA : V.TPL;
        }
        // methods on caller data: str.join / replace with template strings give computed strings
        V result = on.kind() == Kind.NUM ? V.DATA : on;
        for (V a : args) if (a.kind() == Kind.TPL || a.str() != null && !a.str().isEmpty()) result = join(result, V.TPL);
        return name.equals("split") || name.equals("items") || name.equals("keys") || name.equals("values") || name.equals("get")
                || name.startsWith("is") || name.equals("startswith") || name.equals("endswith") || name.equals("strip")
                || name.equals("lstrip") || name.equals("rstrip") || name.equals("lower") || name.equals("upper") ? on : result;
    }

    private V call(V callee, List<V> args, Map<String, V> kwargs, int line) {
        if (callee.kind() == Kind.GLOBAL) {
            switch (callee.global()) {
                case "range" -> { return V.NUMLIST; }
                case "namespace" -> {
                    Map<String, V> attrs = new HashMap<>();
                    kwargs.forEach((k, v) -> {
                        if (k.startsWith("_")) violation(line, "a namespace attribute named " + k);
                        attrs.put(k, v);
                    });
                    for (V a : args) if (a.isConst() && a.constant() instanceof Map<?, ?> m) m.forEach((k, v) -> attrs.put(String.valueOf(k), V.c(v)));
                    return new V(Kind.NS, null, null, attrs, false);
                }
                case "dict" -> {
                    Map<Object, Object> m = new LinkedHashMap<>();
                    boolean allConst = args.isEmpty() && kwargs.values().stream().allMatch(V::isConst);
                    kwargs.forEach((k, v) -> {
                        if (k.startsWith("_")) violation(line, "a dict key named " + k);
                        if (v.isConst()) m.put(k, v.constant());
                    });
                    return allConst ? V.c(m) : collapse(joinAll(new ArrayList<>(kwargs.values())));
                }
                case "loop.cycle" -> { return joinAll(args); }
                case "self", "config", "request", "session", "g" -> {
                    violation(line, "a call on the template global " + callee.global());
                    return V.DATA;
                }
                default -> { return V.DATA; }
            }
        }
        if (callee.kind() == Kind.MACRO) return V.TPL; // a macro renders text the template wrote
        return callee.kind() == Kind.TPL ? V.TPL : V.DATA;
    }

    private V filter(String name, V in, List<V> args, Map<String, V> kwargs, int line) {
        attributeArguments(name, args, kwargs, line);
        String s = in.str();
        boolean constArgs = args.stream().allMatch(V::isConst) && kwargs.values().stream().allMatch(V::isConst);
        switch (name) {
            case "attr" -> { return in.kind() == Kind.GLOBAL ? internals(in, line) : V.DATA; }
            case "length", "count", "int", "float", "abs", "round", "wordcount", "sum", "filesizeformat" -> {
                return V.NUM;
            }
            case "string", "safe", "e", "escape", "forceescape", "trim", "lower", "upper", "reverse", "first", "last",
                 "list", "capitalize", "title", "join", "replace", "format", "default", "d", "center", "indent",
                 "truncate", "wordwrap", "striptags", "urlencode", "tojson", "items", "dictsort", "unique", "sort",
                 "batch", "slice", "select", "reject", "selectattr", "rejectattr", "map", "groupby", "min", "max",
                 "random", "xmlattr", "urlize", "pprint", "mark_safe", "string_safe" -> {
                if (in.kind() == Kind.GLOBAL) return internals(in, line);
                if (in.isConst() && constArgs) {
                    V folded = foldFilter(name, in.constant(), args);
                    if (folded != null) return folded;
                }
                if (name.equals("default") || name.equals("d")) return join(in, args.isEmpty() ? V.DATA : args.getFirst());
                if (name.equals("format")) return percent(in, args.size() == 1 ? args.getFirst() : list(args));
                V result = in.kind() == Kind.NUM || in.kind() == Kind.NUMLIST ? V.DATA : in.isConst() ? (safeConst(in.constant()) ? V.DATA : V.TPL) : in;
                for (V a : args) if (a.kind() == Kind.TPL || a.str() != null && !safeConst(a.constant())) result = V.TPL;
                if (s != null && !safeConst(s)) result = V.TPL;
                return result;
            }
            default -> {
                if (in.kind() == Kind.GLOBAL) return internals(in, line);
                return collapse(join(in.isConst() ? (safeConst(in.constant()) ? V.DATA : V.TPL) : in, joinAll(args)));
            }
        }
    }

    private V internals(V global, int line) {
        violation(line, "the internals of the template global " + global.global());
        return V.DATA;
    }

    /** attr, map(attribute=...), selectattr('x.y'), sort(attribute=...), ...: arguments that are getattr paths. */
    private void attributeArguments(String name, List<V> args, Map<String, V> kwargs, int line) {
        if (!ATTRIBUTE_FILTERS.contains(name)) return;
        List<V> names = new ArrayList<>();
        switch (name) {
            case "attr" -> names.addAll(args);
            case "selectattr", "rejectattr", "groupby" -> {
                if (!args.isEmpty()) names.add(args.getFirst());
            }
            case "map" -> {
                if (!args.isEmpty()) {
                    V f = args.getFirst();
                    if (f.str() == null) violation(line, "map with a filter name computed by the template");
                    else if (f.str().equals("attr")) names.addAll(args.subList(1, args.size()));
                }
            }
            default -> { }
        }
        if (kwargs.containsKey("attribute")) names.add(kwargs.get("attribute"));
        for (V n : names) {
            String s = n.str();
            if (s != null) {
                if (!n.literal()) violation(line, name + " with an attribute name computed by the template: '" + shorten(s) + "'");
                for (String part : s.split("\\.", -1)) {
                    if (part.startsWith("_")) violation(line, name + " reads the attribute '" + shorten(s) + "'");
                }
            } else if (!(n.isConst() && n.constant() instanceof Long) && n.kind() != Kind.NUM) {
                violation(line, name + " with an attribute name that is not a plain literal");
            }
        }
    }

    // --- abstract arithmetic

    private static V plus(V a, V b) {
        if (a.isConst() && b.isConst()) {
            Object x = a.constant();
            Object y = b.constant();
            if (x instanceof String s && y instanceof String r) return V.c(s + r);
            if (x instanceof Long i && y instanceof Long j) return V.c(i + j);
            if (x instanceof Number i && y instanceof Number j) return V.c(i.doubleValue() + j.doubleValue());
            if (x instanceof List<?> l && y instanceof List<?> m) {
                List<Object> all = new ArrayList<>(l);
                all.addAll(m);
                return V.c(all);
            }
            return V.DATA;
        }
        if (a.numeric() || b.numeric()) return V.NUM;
        return stringy(a, b);
    }

    private static V arithmetic(V a, V b, String op) {
        if (a.isConst() && b.isConst() && a.constant() instanceof Long i && b.constant() instanceof Long j) {
            switch (op) {
                case "-" -> { return V.c(i - j); }
                case "//" -> { if (j != 0) return V.c(Math.floorDiv(i, j)); }
                default -> { }
            }
        }
        return V.NUM;
    }

    private static V times(V a, V b) {
        if (a.isConst() && b.isConst()) {
            Object x = a.constant();
            Object y = b.constant();
            if (x instanceof String s && y instanceof Long n) return V.c(s.repeat((int) Math.max(0, Math.min(n, 10_000))));
            if (x instanceof Long n && y instanceof String s) return V.c(s.repeat((int) Math.max(0, Math.min(n, 10_000))));
            if (x instanceof Long i && y instanceof Long j) return V.c(i * j);
        }
        if (a.numeric() && b.numeric()) return V.NUM;
        return stringy(a, b);
    }

    private static V tilde(V a, V b) {
        if (a.isConst() && b.isConst()) return V.c(pyStr(a.constant()) + pyStr(b.constant()));
        return stringy(a, b);
    }

    private static V percent(V a, V b) {
        String f = a.str();
        if (f != null && b.isConst()) {
            String folded = percentFormat(f, b.constant());
            return folded != null ? V.c(folded) : V.TPL;
        }
        if (a.numeric()) return V.NUM;
        return stringy(a, b);
    }

    /** Strings built from template literals and anything else: computed, unless every piece is caller data. */
    private static V stringy(V a, V b) {
        boolean template = a.kind() == Kind.TPL || b.kind() == Kind.TPL || a.isConst() && !safeConst(a.constant())
                || b.isConst() && !safeConst(b.constant());
        if (template) return V.TPL;
        if (a.isConst() || b.isConst()) return V.TPL; // template text mixed with data
        return V.DATA;
    }

    private static V join(V a, V b) {
        if (a.equals(b)) return a;
        if (a.kind() == Kind.TPL || b.kind() == Kind.TPL) return V.TPL;
        if (a.kind() == Kind.GLOBAL) return a;
        if (b.kind() == Kind.GLOBAL) return b;
        if (a.kind() == Kind.NS) return a;
        if (b.kind() == Kind.NS) return b;
        if (a.kind() == Kind.MACRO || b.kind() == Kind.MACRO) return a.kind() == Kind.MACRO ? a : b;
        if (a.numeric() && b.numeric()) return V.NUM;
        if (a.isConst() && !safeConst(a.constant()) || b.isConst() && !safeConst(b.constant())) return V.TPL;
        return V.DATA;
    }

    private static V joinAll(List<V> vs) {
        V r = null;
        for (V v : vs) r = r == null ? v : join(r, v);
        return r == null ? V.DATA : r;
    }

    private static V collapse(V v) {
        return v == null ? V.DATA : v;
    }

    private static V list(List<V> items) {
        if (items.stream().allMatch(V::isConst)) return V.c(items.stream().map(V::constant).toList());
        V j = joinAll(items);
        return j.kind() == Kind.TPL || items.stream().anyMatch(i -> i.isConst() && !safeConst(i.constant())) ? V.TPL : V.DATA;
    }

    /** What iterating a value yields. */
    private static V element(V iter) {
        return switch (iter.kind()) {
            case NUMLIST -> V.NUM;
            case CONST -> elementOfConst(iter.constant());
            case TPL -> V.TPL;
            default -> V.DATA;
        };
    }

    private static V elementOfConst(Object c) {
        if (c instanceof List<?> l && !l.isEmpty() && l.stream().allMatch(x -> x instanceof Long || x instanceof Double)) return V.NUM;
        return safeConst(c) ? V.DATA : V.TPL;
    }

    private static V elementOfConstAsList(Object c) {
        return safeConst(c) ? V.DATA : V.TPL;
    }

    /** A constant with no string that could name a private attribute. */
    private static boolean safeConst(Object c) {
        return switch (c) {
            case String s -> !s.contains("_");
            case List<?> l -> l.stream().allMatch(TemplateJudge::safeConst);
            case Map<?, ?> m -> m.keySet().stream().allMatch(TemplateJudge::safeConst) && m.values().stream().allMatch(TemplateJudge::safeConst);
            default -> true;
        };
    }

    private static V foldFilter(String name, Object in, List<V> args) {
        String s = in instanceof String x ? x : null;
        switch (name) {
            case "string", "safe", "e", "escape", "forceescape" -> {
                if (s != null) return V.c(s);
                if (in instanceof Long || in instanceof Boolean) return V.c(pyStr(in));
            }
            case "trim" -> { if (s != null && args.isEmpty()) return V.c(s.strip()); }
            case "lower" -> { if (s != null) return V.c(s.toLowerCase(Locale.ROOT)); }
            case "upper" -> { if (s != null) return V.c(s.toUpperCase(Locale.ROOT)); }
            case "reverse" -> {
                if (s != null) return V.c(new StringBuilder(s).reverse().toString());
                if (in instanceof List<?> l) return V.c(l.reversed());
            }
            case "first" -> {
                if (s != null && !s.isEmpty()) return V.c(s.substring(0, 1));
                if (in instanceof List<?> l && !l.isEmpty()) return V.c(l.getFirst());
            }
            case "last" -> {
                if (s != null && !s.isEmpty()) return V.c(s.substring(s.length() - 1));
                if (in instanceof List<?> l && !l.isEmpty()) return V.c(l.getLast());
            }
            case "list" -> {
                if (s != null) return V.c(s.codePoints().mapToObj(Character::toString).map(Object.class::cast).toList());
                if (in instanceof List<?> l) return V.c(l);
            }
            case "join" -> {
                String sep = args.isEmpty() ? "" : args.getFirst().str();
                if (sep != null && args.size() <= 1) {
                    String j = joinConst(in, sep);
                    if (j != null) return V.c(j);
                }
            }
            case "replace" -> {
                if (s != null && args.size() >= 2 && args.get(0).str() != null && args.get(1).str() != null) {
                    return V.c(s.replace(args.get(0).str(), args.get(1).str()));
                }
            }
            case "format" -> {
                if (s != null) {
                    String f = percentFormat(s, args.size() == 1 ? args.getFirst().constant() : args.stream().map(V::constant).toList());
                    if (f != null) return V.c(f);
                }
            }
            case "default", "d" -> { return V.c(in); }
            default -> { }
        }
        return null;
    }

    private static String joinConst(Object items, String sep) {
        List<String> parts = new ArrayList<>();
        if (items instanceof String s) {
            s.codePoints().forEach(cp -> parts.add(Character.toString(cp)));
        } else if (items instanceof List<?> l) {
            for (Object o : l) parts.add(pyStr(o));
        } else {
            return null;
        }
        return String.join(sep, parts);
    }

    /** Python's {@code %} formatting for the conversions a name can be spelled with; null when unsure. */
    private static String percentFormat(String f, Object args) {
        List<?> values = args instanceof List<?> l ? l : List.of(args);
        StringBuilder b = new StringBuilder();
        int next = 0;
        for (int i = 0; i < f.length(); i++) {
            char c = f.charAt(i);
            if (c != '%') {
                b.append(c);
                continue;
            }
            if (++i >= f.length()) return null;
            char conv = f.charAt(i);
            if (conv == '%') {
                b.append('%');
                continue;
            }
            if (next >= values.size()) return null;
            Object v = values.get(next++);
            switch (conv) {
                case 's', 'r', 'a' -> b.append(conv == 's' ? pyStr(v) : v instanceof String s ? "'" + s + "'" : pyStr(v));
                case 'c' -> {
                    if (v instanceof Long n && n >= 0 && n <= Character.MAX_CODE_POINT) b.appendCodePoint(n.intValue());
                    else if (v instanceof String s && s.codePointCount(0, s.length()) == 1) b.append(s);
                    else return null;
                }
                case 'd', 'i' -> {
                    if (v instanceof Long n) b.append(n);
                    else return null;
                }
                default -> {
                    return null;
                }
            }
        }
        return next == values.size() || !(args instanceof List<?>) ? b.toString() : null;
    }

    /** {@code str.format} with positional/automatic fields only; anything else is a computed string. */
    private static V formatBraces(String f, List<V> args, Map<String, V> kwargs) {
        if (!args.stream().allMatch(V::isConst) || !kwargs.values().stream().allMatch(V::isConst)) {
            return join(V.TPL, V.TPL);
        }
        StringBuilder b = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < f.length(); i++) {
            char c = f.charAt(i);
            if (c == '{' && i + 1 < f.length() && f.charAt(i + 1) == '{') { b.append('{'); i++; continue; }
            if (c == '}' && i + 1 < f.length() && f.charAt(i + 1) == '}') { b.append('}'); i++; continue; }
            if (c != '{') { b.append(c); continue; }
            int end = f.indexOf('}', i);
            if (end < 0) return V.TPL;
            String field = f.substring(i + 1, end);
            Object v;
            if (field.isEmpty()) v = auto < args.size() ? args.get(auto++).constant() : null;
            else if (field.matches("\\d+")) v = Integer.parseInt(field) < args.size() ? args.get(Integer.parseInt(field)).constant() : null;
            else if (kwargs.containsKey(field)) v = kwargs.get(field).constant();
            else return V.TPL;
            if (v == null) return V.TPL;
            b.append(pyStr(v));
            i = end;
        }
        return V.c(b.toString());
    }

    private static String pyStr(Object o) {
        return switch (o) {
            case Boolean bo -> bo ? "True" : "False";
            case String s -> s;
            case List<?> l -> "[" + String.join(", ", l.stream().map(x -> x instanceof String s ? "'" + s + "'" : pyStr(x)).toList()) + "]";
            default -> String.valueOf(o);
        };
    }

    private static Object parseInt(String v) {
        String s = v.toLowerCase(Locale.ROOT);
        try {
            if (s.startsWith("0x")) return Long.parseLong(s.substring(2), 16);
            if (s.startsWith("0o")) return Long.parseLong(s.substring(2), 8);
            if (s.startsWith("0b")) return Long.parseLong(s.substring(2), 2);
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return 0.0; // too large for a long: a number all the same
        }
    }

    private static String shorten(String s) {
        String one = s.replace("\n", "\\n");
        return one.length() > 60 ? one.substring(0, 57) + "..." : one;
    }

    // --- tokens

    private Token cur() {
        return t.get(p);
    }

    private void violation(int line, String what) {
        violations.add(new Violation(line, what));
    }

    private void expect(Type type) {
        Token k = cur();
        if (k.type() != type) {
            throw new TemplateSyntaxError(k.line(), "expected " + describe(type) + " but found '" + (k.type() == Type.EOF ? "end of template" : k.value()) + "'");
        }
        p++;
    }

    private static String describe(Type type) {
        return switch (type) {
            case BLOCK_END -> "'%}'";
            case VAR_END -> "'}}'";
            case EOF -> "the end of the template";
            case NAME -> "a name";
            default -> type.name().toLowerCase(Locale.ROOT);
        };
    }

    private void expectOp(String op) {
        if (!acceptOp(op)) {
            Token k = cur();
            throw new TemplateSyntaxError(k.line(), "expected '" + op + "' but found '" + (k.type() == Type.EOF ? "end of template" : k.value()) + "'");
        }
    }

    private boolean acceptOp(String op) {
        if (cur().isOp(op)) {
            p++;
            return true;
        }
        return false;
    }

    private boolean acceptName(String n) {
        if (cur().isName(n)) {
            p++;
            return true;
        }
        return false;
    }

    private String name() {
        Token k = cur();
        if (k.type() != Type.NAME) throw new TemplateSyntaxError(k.line(), "expected a name but found '" + k.value() + "'");
        p++;
        return k.value();
    }

    private void optionalName() {
        if (cur().type() == Type.NAME) p++;
    }
}
