package dev.amalgam.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Recursive-descent parser for SPDX license expressions (SPDX spec, annex D):
 * <pre>
 * or-expr   = and-expr *( "OR" and-expr )
 * and-expr  = with-expr *( "AND" with-expr )
 * with-expr = primary [ "WITH" exception-id ]
 * primary   = license-id [ "+" ] / "(" or-expr ")"
 * </pre>
 * Operators are matched case-insensitively; ids are {@code [A-Za-z0-9.-]+}. Input length and
 * nesting depth are bounded so hostile input cannot exhaust memory or the stack.
 */
public final class LicenseExpressionParser {
    /** Longest accepted expression, in characters. */
    public static final int MAX_LENGTH = 2048;
    /** Deepest accepted parenthesis nesting. */
    public static final int MAX_DEPTH = 32;

    private enum Kind { ID, PLUS, LPAREN, RPAREN, AND, OR, WITH, END }

    private record Token(Kind kind, String text, int position) {
        String describe() {
            return switch (kind) {
                case END -> "end of expression";
                case ID -> "'" + text + "'";
                default -> "'" + text + "'";
            };
        }
    }

    private final String input;
    private final List<Token> tokens;
    private int next;
    private int depth;

    private LicenseExpressionParser(String input, List<Token> tokens) {
        this.input = input;
        this.tokens = tokens;
    }

    /** Parses {@code text}; throws {@link LicenseExpressionException} naming the position of the problem. */
    public static LicenseExpression parse(String text) {
        if (text == null) throw new LicenseExpressionException("missing license expression", 1, "");
        if (text.length() > MAX_LENGTH) {
            throw new LicenseExpressionException("expression longer than " + MAX_LENGTH + " characters",
                    MAX_LENGTH + 1, text);
        }
        LicenseExpressionParser p = new LicenseExpressionParser(text, tokenize(text));
        if (p.peek().kind == Kind.END) throw new LicenseExpressionException("empty license expression", 1, text);
        LicenseExpression e = p.orExpr();
        Token t = p.peek();
        if (t.kind != Kind.END) {
            String problem = t.kind == Kind.RPAREN ? "unbalanced ')'" : "unexpected " + t.describe() + ", expected AND, OR or WITH";
            throw p.error(problem, t);
        }
        return e;
    }

    private static List<Token> tokenize(String s) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') { i++; continue; }
            int pos = i + 1;
            switch (c) {
                case '(' -> { out.add(new Token(Kind.LPAREN, "(", pos)); i++; }
                case ')' -> { out.add(new Token(Kind.RPAREN, ")", pos)); i++; }
                case '+' -> { out.add(new Token(Kind.PLUS, "+", pos)); i++; }
                default -> {
                    if (!isIdChar(c)) {
                        String shown = c < 0x20 || c > 0x7e ? String.format("U+%04X", (int) c) : "'" + c + "'";
                        throw new LicenseExpressionException("illegal character " + shown, pos, s);
                    }
                    int start = i;
                    while (i < s.length() && isIdChar(s.charAt(i))) i++;
                    String word = s.substring(start, i);
                    Kind kind = switch (word.toUpperCase(Locale.ROOT)) {
                        case "AND" -> Kind.AND;
                        case "OR" -> Kind.OR;
                        case "WITH" -> Kind.WITH;
                        default -> Kind.ID;
                    };
                    out.add(new Token(kind, word, pos));
                }
            }
        }
        out.add(new Token(Kind.END, "", s.length() + 1));
        return out;
    }

    private static boolean isIdChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    }

    private Token peek() {
        return tokens.get(next);
    }

    private Token take() {
        return tokens.get(next++);
    }

    private LicenseExpressionException error(String problem, Token at) {
        return new LicenseExpressionException(problem, at.position, input);
    }

    private LicenseExpression orExpr() {
        LicenseExpression left = andExpr();
        while (peek().kind == Kind.OR) {
            take();
            left = new LicenseExpression.Or(left, andExpr());
        }
        return left;
    }

    private LicenseExpression andExpr() {
        LicenseExpression left = withExpr();
        while (peek().kind == Kind.AND) {
            take();
            left = new LicenseExpression.And(left, withExpr());
        }
        return left;
    }

    private LicenseExpression withExpr() {
        LicenseExpression primary = primary();
        if (peek().kind != Kind.WITH) return primary;
        Token with = take();
        if (!(primary instanceof LicenseExpression.License license)) {
            throw error("WITH must follow a single license, not a parenthesised expression", with);
        }
        Token exception = take();
        if (exception.kind != Kind.ID) {
            throw error("expected a license exception id after WITH but found " + exception.describe(), exception);
        }
        return new LicenseExpression.With(license, exception.text);
    }

    private LicenseExpression primary() {
        Token t = take();
        switch (t.kind) {
            case ID -> {
                boolean orLater = false;
                if (peek().kind == Kind.PLUS) {
                    Token plus = take();
                    if (plus.position != t.position + t.text.length()) {
                        throw error("'+' must directly follow the license id", plus);
                    }
                    if (t.text.regionMatches(true, 0, "LicenseRef-", 0, 11)) {
                        throw error("'+' cannot follow a LicenseRef", plus);
                    }
                    orLater = true;
                }
                if (t.text.regionMatches(true, 0, "LicenseRef-", 0, 11) && t.text.length() == 11) {
                    throw error("LicenseRef- needs a name", t);
                }
                return new LicenseExpression.License(t.text, orLater);
            }
            case LPAREN -> {
                if (++depth > MAX_DEPTH) throw error("parentheses nested deeper than " + MAX_DEPTH, t);
                if (peek().kind == Kind.RPAREN) throw error("empty parentheses", peek());
                LicenseExpression inner = orExpr();
                Token close = take();
                if (close.kind != Kind.RPAREN) {
                    throw error(close.kind == Kind.END ? "unbalanced '(' opened at position " + t.position + ": missing ')'"
                            : "expected ')' but found " + close.describe(), close);
                }
                depth--;
                return inner;
            }
            case END -> throw error("expression ends where a license was expected", t);
            case RPAREN -> throw error("unexpected ')' where a license was expected", t);
            default -> throw error("operator " + t.describe() + " where a license was expected", t);
        }
    }
}
